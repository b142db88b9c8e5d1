"""Image environments replayed from a Dockerfile: only what it installs, cached dependency layer."""
import os
import subprocess
import textwrap

import pytest

from rehearsal.images import ImageBuildError, build_image_env, layer_key, parse_dockerfile, project_layer_start

# Each build makes virtualenvs and runs pip (tens of seconds).
pytestmark = pytest.mark.slow

DOCKERFILE = """FROM python:3.11-slim
ENV GREETING=hello PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /opt/app
COPY requirements.txt /tmp/constraints.txt
COPY extra.txt /tmp/extra.txt
RUN test -f /tmp/constraints.txt && cp /tmp/extra.txt /tmp/copied.txt
COPY setup.py ./
COPY components ./components
RUN pip install --no-cache-dir --no-deps . && python -c "import components.hello"
"""


def make_context(root, dockerfile=DOCKERFILE, extra="one"):
    (root / "components").mkdir(parents=True)
    (root / "components" / "__init__.py").write_text("")
    (root / "components" / "hello.py").write_text("WORD = 'hi'\n")
    (root / "setup.py").write_text(textwrap.dedent("""\
        import setuptools
        setuptools.setup(name="tiny-app", version="0.1", packages=["components"])
        """))
    (root / "requirements.txt").write_text("")
    (root / "extra.txt").write_text(extra)
    (root / "containers" / "app").mkdir(parents=True)
    (root / "containers" / "app" / "Dockerfile").write_text(dockerfile)
    return str(root)


def run_in(env, code):
    return subprocess.run([env.python, "-c", code], env=env.env(), cwd="/", capture_output=True, text=True)


def test_the_environment_holds_what_the_dockerfile_installs_and_nothing_else(tmp_path):
    context = make_context(tmp_path / "ctx")
    env = build_image_env("app", str(tmp_path / "work"), str(tmp_path / "cache"), context)
    assert env.variables["GREETING"] == "hello"
    assert env.workdir.endswith("/root/opt/app")
    ok = run_in(env, "import os, components.hello as h; print(h.WORD, os.environ['GREETING'])")
    assert ok.returncode == 0 and ok.stdout.split() == ["hi", "hello"], ok.stderr
    # The development virtualenv's packages are not there: this image installs no kfp.
    missing = run_in(env, "import kfp")
    assert missing.returncode == 1 and "No module named 'kfp'" in missing.stderr
    # Absolute image paths in RUN lines were mapped into the stand-in root.
    assert open(os.path.join(env.root, "tmp", "copied.txt")).read() == "one"


def test_the_dependency_layer_is_reused_until_what_it_copies_changes(tmp_path):
    context = make_context(tmp_path / "ctx")
    instructions = parse_dockerfile(DOCKERFILE)
    split = project_layer_start(instructions)
    assert instructions[split].args == "setup.py ./"
    cache = str(tmp_path / "cache")
    build_image_env("app", str(tmp_path / "w1"), cache, context)
    build_image_env("app", str(tmp_path / "w2"), cache, context)
    assert len(os.listdir(cache)) == 1
    (tmp_path / "ctx" / "extra.txt").write_text("two")
    env = build_image_env("app", str(tmp_path / "w3"), cache, context)
    assert len(os.listdir(cache)) == 2
    assert open(os.path.join(env.root, "tmp", "copied.txt")).read() == "two"


def test_the_project_layer_is_replayed_every_time(tmp_path):
    """A Dockerfile that stops copying the code gives an environment without it, cache or not."""
    context = make_context(tmp_path / "ctx")
    cache = str(tmp_path / "cache")
    build_image_env("app", str(tmp_path / "w1"), cache, context)
    broken = DOCKERFILE.replace("COPY components ./components\n", "")
    (tmp_path / "ctx" / "containers" / "app" / "Dockerfile").write_text(broken)
    with pytest.raises(ImageBuildError, match=r"(?s)image app: containers/app/Dockerfile:8: RUN pip install.*"
                                              r"'components' does not exist"):
        build_image_env("app", str(tmp_path / "w2"), cache, context)


def test_a_base_image_without_a_stand_in_is_refused(tmp_path):
    context = make_context(tmp_path / "ctx", dockerfile="FROM nvidia/cuda:12.4-runtime\nRUN true\n")
    with pytest.raises(ImageBuildError, match="no stand-in for base image 'nvidia/cuda"):
        build_image_env("app", str(tmp_path / "w"), str(tmp_path / "cache"), context)


def test_layer_keys_follow_the_instructions():
    from rehearsal.images import BaseRecipe, find_python

    python = find_python("3.11")
    a = layer_key(BaseRecipe("3.11"), python, parse_dockerfile("FROM python:3.11-slim\nRUN true\n"), "/nonexistent")
    b = layer_key(BaseRecipe("3.11"), python, parse_dockerfile("FROM python:3.11-slim\nRUN false\n"), "/nonexistent")
    assert a != b and len(a) == 16
