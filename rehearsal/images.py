"""One environment per container image, replayed from that image's Dockerfile.

    env = build_image_env("convert", workdir, cache_dir)   # then: subprocess.run(cmd, env=env.env())

Each ``containers/<name>/Dockerfile`` is read instruction by instruction (``rehearsal.dockerfile``)
and replayed on this machine: ``FROM`` becomes a fresh virtualenv of the base image's Python with
the base image's own packages, ``COPY`` copies into a folder standing in for the image's file
system, ``WORKDIR`` and ``ENV`` are kept, and every ``RUN`` runs in bash with the virtualenv first
on ``PATH``, from the mapped ``WORKDIR``, with the image's absolute paths mapped into that folder.
So the environment cannot drift from the Dockerfile: change a pip step there and it changes here.

Two liberties, both about speed, not content: ``--no-cache-dir`` is dropped so pip may reuse its
download cache, and the steps before the first ``COPY`` of project code (the dependency layer)
are cached by the hash of those steps and of the files they copy, like Docker's layer cache. The
project layer is replayed on every build, in a virtualenv stacked on the dependency layer (a
``.pth`` file), so a changed ``COPY components`` line or package is always seen.

Base images: ``python:3.X[-slim]`` is Python 3.X with nothing added; the Beam SDK image
``apache/beam_python3.X_sdk:V`` is Python 3.X with ``apache-beam[gcp]==V``, resolved with the
repository's ``requirements.txt`` as constraints (the real image pins its own versions, which can
differ). The image's operating system is this machine's.
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field

from rehearsal.dockerfile import Instruction, base_image, copy_parts, env_pairs, parse_dockerfile

logger = logging.getLogger(__name__)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROJECT_CODE = ("components", "setup.py")
_PYTHON_BASE = re.compile(r"^(?:docker\.io/)?(?:library/)?python:(\d+\.\d+)(?:\.\d+)?(?:-slim)?(?:-[a-z]+)?$")
_BEAM_BASE = re.compile(r"^(?:docker\.io/)?apache/beam_python(\d+\.\d+)_sdk:([0-9][\w.]*)$")
# Host variables that would let an environment see packages it does not install.
_DROPPED_VARS = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE")


class ImageBuildError(RuntimeError):
    """Replaying an image's Dockerfile failed; the message names the image, the line and the step."""


@dataclass(frozen=True)
class BaseRecipe:
    python: str                      # "3.11"
    packages: tuple[str, ...] = ()   # what the base image itself installs


@dataclass(frozen=True)
class ImageEnv:
    """A built image environment: run commands with ``env()`` as their environment."""

    name: str
    venv: str
    root: str                         # stands in for the image's "/"
    workdir: str                      # the image's WORKDIR, mapped under root
    variables: dict[str, str] = field(default_factory=dict)  # the Dockerfile's ENV

    @property
    def python(self) -> str:
        return os.path.join(self.venv, "bin", "python")

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """The process environment of a container of this image (plus ``extra``)."""
        return image_process_env(self.venv, self.variables, extra)


def image_process_env(venv: str, variables: dict[str, str], extra: dict[str, str] | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in _DROPPED_VARS}
    env.update(variables)
    env["PATH"] = os.path.join(venv, "bin") + os.pathsep + "/usr/local/bin:/usr/bin:/bin"
    env.update(extra or {})
    return env


def base_recipe(image: str) -> BaseRecipe:
    """What a FROM image brings. Raises ImageBuildError for a base the rehearsal cannot stand in for."""
    match = _PYTHON_BASE.match(image)
    if match:
        return BaseRecipe(match.group(1))
    match = _BEAM_BASE.match(image)
    if match:
        return BaseRecipe(match.group(1), (f"apache-beam[gcp]=={match.group(2)}",))
    raise ImageBuildError(f"no stand-in for base image {image!r}: the rehearsal knows python:3.X and "
                          "apache/beam_python3.X_sdk:V")


def find_python(version: str) -> str:
    """An interpreter of that minor version on this machine."""
    for candidate in (shutil.which(f"python{version}"), sys.executable, shutil.which("python3")):
        if not candidate:
            continue
        out = subprocess.run([candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip() == version:
            return candidate
    raise ImageBuildError(f"the image needs Python {version}; none is installed here")


def project_layer_start(instructions: list[Instruction]) -> int:
    """Index of the first COPY of project code; everything before it is the cached dependency layer."""
    for index, ins in enumerate(instructions):
        if ins.kind == "COPY":
            sources, _ = copy_parts(ins.args)
            if any(s.rstrip("/").split("/")[0] in PROJECT_CODE for s in sources):
                return index
    return len(instructions)


def _hash_path(digest, path: str) -> None:
    if os.path.isdir(path):
        for dirpath, dirnames, filenames in os.walk(path):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            for name in sorted(filenames):
                full = os.path.join(dirpath, name)
                digest.update(os.path.relpath(full, path).encode())
                with open(full, "rb") as f:
                    digest.update(f.read())
    elif os.path.exists(path):
        with open(path, "rb") as f:
            digest.update(f.read())
    else:
        digest.update(b"<missing>")


def layer_key(recipe: BaseRecipe, python: str, instructions: list[Instruction], context: str) -> str:
    """Cache key of a dependency layer: base, interpreter, instructions and the files they copy."""
    digest = hashlib.sha256()
    version = subprocess.run([python, "-c", "import sys; print(sys.version)"], capture_output=True, text=True)
    digest.update(repr((recipe, version.stdout)).encode())
    _hash_path(digest, os.path.join(context, "requirements.txt"))  # constraints of the base's packages
    for ins in instructions:
        digest.update(f"{ins.kind} {ins.args}\n".encode())
        if ins.kind == "COPY":
            for source in copy_parts(ins.args)[0]:
                _hash_path(digest, os.path.join(context, source))
    return digest.hexdigest()[:16]


class _Replay:
    """Replays instructions into one virtualenv and one stand-in root."""

    def __init__(self, name: str, venv: str, root: str, context: str, dockerfile: str) -> None:
        self.name, self.venv, self.root, self.context, self.dockerfile = name, venv, root, context, dockerfile
        self.workdir = "/"
        self.variables: dict[str, str] = {}
        self.image_paths: set[str] = set()

    def mapped(self, image_path: str) -> str:
        absolute = image_path if image_path.startswith("/") else os.path.join(self.workdir, image_path)
        return os.path.join(self.root, os.path.normpath(absolute).lstrip("/"))

    def apply(self, ins: Instruction, run: bool = True) -> None:
        where = f"{self.dockerfile}:{ins.line}"
        if ins.kind == "ENV":
            self.variables.update(env_pairs(ins.args))
        elif ins.kind == "WORKDIR":
            self.workdir = os.path.normpath(os.path.join(self.workdir, ins.args))
            self.image_paths.add(self.workdir)
            os.makedirs(self.mapped(self.workdir), exist_ok=True)
        elif ins.kind == "COPY":
            self._copy(ins, where)
        elif ins.kind == "RUN" and run:
            self._run(ins, where)

    def _copy(self, ins: Instruction, where: str) -> None:
        sources, dest = copy_parts(ins.args)
        target = self.mapped(dest)
        if dest.startswith("/"):
            self.image_paths.add(os.path.normpath(dest))
        into_dir = dest.endswith("/") or len(sources) > 1
        for source in sources:
            path = os.path.join(self.context, source)
            if not os.path.exists(path):
                raise ImageBuildError(f"image {self.name}: {where}: COPY {source}: no such file in the build context")
            if os.path.isdir(path):
                shutil.copytree(path, target, dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                final = os.path.join(target, os.path.basename(source)) if into_dir else target
                os.makedirs(os.path.dirname(final), exist_ok=True)
                shutil.copyfile(path, final)

    def _run(self, ins: Instruction, where: str) -> None:
        command = " ".join(w for w in _words(ins.args) if w != "--no-cache-dir")
        # Absolute paths under the image's top folders that COPY and WORKDIR used (/tmp, /opt, ...)
        # go into the stand-in root, so a RUN line never reads or writes this machine's own files.
        tops = sorted({"/" + p.strip("/").split("/")[0] for p in self.image_paths if p.strip("/")},
                      key=len, reverse=True)
        for top in tops:
            command = re.sub(rf"(?<![\w./-]){re.escape(top)}(?=[/\s\"';&|)]|$)",
                             lambda _m, t=top: self.mapped(t), command)
        logger.info("image %s: %s: RUN %s", self.name, where, ins.args)
        started = time.monotonic()
        done = subprocess.run(["bash", "-eo", "pipefail", "-c", command], cwd=self.mapped(self.workdir),
                              env=image_process_env(self.venv, self.variables),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if done.returncode:
            tail = "\n".join(done.stdout.strip().splitlines()[-25:])
            raise ImageBuildError(f"image {self.name}: {where}: RUN {ins.args} failed "
                                  f"(exit {done.returncode}):\n{tail}")
        logger.info("image %s: %s done in %.0f s", self.name, where, time.monotonic() - started)


def _words(command: str) -> list[str]:
    """Split only to drop whole flags; quoting is kept as written."""
    return re.findall(r"(?:[^\s\"']+|\"[^\"]*\"|'[^']*')+", command)


def _venv(python: str, path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)
    subprocess.run([python, "-m", "venv", path], check=True, capture_output=True)


def _site_packages(venv: str) -> str:
    out = subprocess.run([os.path.join(venv, "bin", "python"), "-c",
                          "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def dockerfile_path(name: str, context: str = ROOT) -> str:
    return os.path.join(context, "containers", name, "Dockerfile")


def build_image_env(name: str, workdir: str, cache_dir: str, context: str = ROOT,
                    dockerfile: str | None = None) -> ImageEnv:
    """Replay ``containers/<name>/Dockerfile`` (or ``dockerfile``) into ``workdir/<name>``.

    Raises:
        ImageBuildError: naming the image, the Dockerfile line and what failed.
    """
    dockerfile = dockerfile or dockerfile_path(name, context)
    shown = os.path.relpath(dockerfile, context)
    with open(dockerfile) as f:
        instructions = parse_dockerfile(f.read(), shown)
    try:
        recipe = base_recipe(base_image(instructions))
    except ValueError as err:
        raise ImageBuildError(f"image {name}: {shown}: {err}") from err
    python = find_python(recipe.python)
    split = project_layer_start(instructions)
    lower_dir = os.path.join(cache_dir, f"{name}-{layer_key(recipe, python, instructions[:split], context)}")
    if not os.path.exists(os.path.join(lower_dir, ".complete")):
        _build_lower(name, recipe, python, instructions[:split], lower_dir, context, shown)
    else:
        logger.info("image %s: dependency layer reused from %s", name, lower_dir)
    top = os.path.join(workdir, name)
    shutil.rmtree(top, ignore_errors=True)
    venv, root = os.path.join(top, "venv"), os.path.join(top, "root")
    _venv(python, venv)
    with open(os.path.join(_site_packages(venv), "_image_layers.pth"), "w") as f:
        f.write(_site_packages(os.path.join(lower_dir, "venv")) + "\n")
    shutil.copytree(os.path.join(lower_dir, "root"), root, symlinks=True)
    replay = _Replay(name, venv, root, context, shown)
    for ins in instructions[:split]:
        replay.apply(ins, run=False)  # state only (ENV, WORKDIR, paths); the layer holds the result
    for ins in instructions[split:]:
        replay.apply(ins)
    return ImageEnv(name, venv, root, replay.mapped(replay.workdir), dict(replay.variables))


def _build_lower(name: str, recipe: BaseRecipe, python: str, instructions: list[Instruction], lower_dir: str,
                 context: str, shown: str) -> None:
    """Build the dependency layer in place; ``.complete`` is written last, so a killed build is redone."""
    shutil.rmtree(lower_dir, ignore_errors=True)
    venv, root = os.path.join(lower_dir, "venv"), os.path.join(lower_dir, "root")
    os.makedirs(root)
    started = time.monotonic()
    logger.info("image %s: building the dependency layer (Python %s + %s)", name, recipe.python,
                " ".join(recipe.packages) or "nothing")
    _venv(python, venv)
    if recipe.packages:
        command = [os.path.join(venv, "bin", "python"), "-m", "pip", "install", "--quiet",
                   *recipe.packages, "-c", os.path.join(context, "requirements.txt")]
        done = subprocess.run(command, env=image_process_env(venv, {}), capture_output=True, text=True)
        if done.returncode:
            raise ImageBuildError(f"image {name}: base packages {' '.join(recipe.packages)} failed to install:\n"
                                  + "\n".join(done.stdout.splitlines()[-15:] + done.stderr.splitlines()[-15:]))
    replay = _Replay(name, venv, root, context, shown)
    for ins in instructions:
        replay.apply(ins)
    with open(os.path.join(lower_dir, ".complete"), "w") as f:
        f.write(f"{time.monotonic() - started:.0f} s\n")
    logger.info("image %s: dependency layer built in %.0f s", name, time.monotonic() - started)


def default_cache_dir() -> str:
    """Where dependency layers are kept between runs (``SYNTHDET_REHEARSAL_CACHE`` overrides)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.environ.get("SYNTHDET_REHEARSAL_CACHE") or os.path.join(base, "synthdet-rehearsal")

