"""The project's imports go one way: read from the source with ast, every import counted (lazy ones
inside functions and ``TYPE_CHECKING`` ones too), so no circle hides behind an import moved into a
function."""
from __future__ import annotations

import ast
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Libraries the convert image (also the Dataflow worker image) does not install.
NOT_IN_CONVERT_IMAGE = ("matplotlib", "tensorflow", "official", "orbit", "pycocotools")


def module_files() -> dict[str, str]:
    """Module name -> file, for components/ and the top-level pipeline.py."""
    found = {"pipeline": os.path.join(ROOT, "pipeline.py")}
    for folder, _, names in os.walk(os.path.join(ROOT, "components")):
        for name in names:
            if name.endswith(".py"):
                parts = os.path.relpath(os.path.join(folder, name[:-3]), ROOT).split(os.sep)
                found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = os.path.join(folder, name)
    return found


def imported_names(module: str, path: str) -> set[str]:
    """Every dotted name an import in ``path`` can load: ``from a import b`` gives ``a`` and ``a.b``."""
    package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
    names = set()
    for node in ast.walk(ast.parse(open(path).read(), path)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def import_graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(module -> the project modules it imports, module -> the outside top-level packages it imports)."""
    files = module_files()
    project, outside = {}, {}
    for module, path in files.items():
        names = imported_names(module, path)
        project[module] = {n for n in names if n in files and n != module}
        outside[module] = {n.split(".")[0] for n in names if n.split(".")[0] not in ("components", "pipeline")}
    return project, outside


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as a path (first module repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def reachable(graph: dict[str, set[str]], starts: list[str]) -> set[str]:
    seen, todo = set(), list(starts)
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo += graph[node]
    return seen


def in_package(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_the_graph_sees_lazy_and_relative_imports(tmp_path):
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    lazy = tmp_path / "m.py"
    lazy.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from x.y import Z\n"
                    "def f():\n    from . import sibling\n    import os.path\n")
    assert imported_names("pkg.m", str(lazy)) == {"typing", "typing.TYPE_CHECKING", "x.y", "x.y.Z", "pkg",
                                                  "pkg.sibling", "os.path"}


def test_project_imports_have_no_cycle():
    graph, _ = import_graph()
    assert {"pipeline", "components.workflow.demo", "components.preview.preview"} <= set(graph)
    assert find_cycle(graph) is None, f"import circle: {' -> '.join(find_cycle(graph))}"


def test_convert_imports_nothing_from_evaluate_or_train():
    graph, outside = import_graph()
    convert = [m for m in graph if in_package(m, "components.convert")]
    direct = {(m, n) for m in convert for n in graph[m]
              if in_package(n, "components.evaluate") or in_package(n, "components.train")}
    assert direct == set()
    used = reachable(graph, convert)
    assert not [m for m in used if any(in_package(m, p) for p in ("components.evaluate", "components.train",
                                                                    "components.workflow"))]
    assert "components.preview.preview" in used  # the dataset preview is drawn by the convert task
    heavy = {(m, p) for m in used for p in outside[m] if p in NOT_IN_CONVERT_IMAGE}
    assert heavy == set(), "modules the convert task (and the Dataflow workers) load import libraries the " \
                           f"convert image does not install: {sorted(heavy)}"


def test_preview_is_below_convert_and_evaluate():
    graph, _ = import_graph()
    preview = [m for m in graph if in_package(m, "components.preview")]
    above = {(m, n) for m in preview for n in graph[m]
             if any(in_package(n, p) for p in ("components.convert", "components.train", "components.workflow",
                                                "components.evaluate"))}
    assert above == set()
