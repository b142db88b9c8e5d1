"""The transfer image installs what the transfer code imports, at the versions tested here."""
import ast
import importlib.util
import os
import sysconfig
from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
CODE = ["components/transfer", "components/common/uris.py", "components/common/polling.py",
        "components/common/logs.py", "components/common/images.py"]


def pins(path):
    out = {}
    for line in open(os.path.join(ROOT, path)):
        line = line.split("#")[0].strip()
        if line:
            req = Requirement(line)
            out[canonicalize_name(req.name)] = str(req.specifier)
    return out


def closure(names):
    seen, todo = set(), list(names)
    while todo:
        name = canonicalize_name(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        for text in metadata.requires(name) or []:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return seen


def imported_modules():
    found = set()
    for entry in CODE:
        path = os.path.join(ROOT, entry)
        files = [os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs if f.endswith(".py")] \
            if os.path.isdir(path) else [path]
        for file in files:
            for node in ast.walk(ast.parse(open(file).read())):
                if isinstance(node, ast.Import):
                    found.update(alias.name for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    # ``from google.cloud import storage`` imports the module google.cloud.storage.
                    found.add(node.module)
                    found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if not name.startswith("components")}


def test_image_pins_equal_the_repository_pins():
    image, repo = pins("containers/transfer/requirements.txt"), pins("requirements.txt")
    assert image and all(spec.startswith("==") for spec in image.values())
    assert {name: repo.get(name) for name in image} == image


def test_image_installs_every_package_the_code_imports():
    installed = closure(pins("containers/transfer/requirements.txt"))
    site = sysconfig.get_paths()["purelib"]
    owners = {}
    for dist in metadata.distributions():
        name = canonicalize_name(dist.metadata["Name"])
        for file in dist.files or []:
            owners[os.path.normpath(str(dist.locate_file(file)))] = name
    missing, checked = {}, set()
    for module in sorted(imported_modules()):
        try:
            spec = importlib.util.find_spec(module)
        except ModuleNotFoundError:
            continue  # a name imported from a module, not a module
        origin = spec.origin if spec and spec.origin not in (None, "built-in", "frozen") else None
        if origin is None or not os.path.normpath(origin).startswith(os.path.normpath(site)):
            continue  # the standard library
        owner = owners.get(os.path.normpath(origin))
        checked.add(module)
        if owner not in installed:
            missing[module] = owner
    assert missing == {}
    assert {"google.cloud.storage", "google.cloud.secretmanager", "google.cloud.iam_admin_v1", "urllib3"} <= checked
    assert {"kfp", "urllib3", "google-cloud-storage", "google-cloud-secret-manager", "google-cloud-iam"} <= installed


def test_dockerfile_installs_the_package_and_its_pins():
    text = open(os.path.join(ROOT, "containers/transfer/Dockerfile")).read()
    assert text.splitlines()[[line.startswith("FROM") for line in text.splitlines()].index(True)] == \
        "FROM python:3.11-slim"
    assert "-r /tmp/requirements.txt -c /tmp/constraints.txt" in text
    assert "COPY containers/transfer/requirements.txt /tmp/requirements.txt" in text
    assert "pip install --no-cache-dir --no-deps ." in text
