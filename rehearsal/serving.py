"""The serving image's TensorFlow: build it once, then load and query an exported SavedModel in it.

The Model Registry upload names Vertex AI's prebuilt TensorFlow serving image (``pipeline.py``,
``UPLOAD_SERVING_IMAGE``); its TensorFlow is older than the one that trains and exports. A
virtualenv with that TensorFlow (``SERVING_PACKAGES``) stands in for the image, and
``serve_check.py`` (TensorFlow and numpy only) loads the export there and calls ``serving_default``.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess

from rehearsal.images import find_python, image_process_env

TENSORFLOW = "2.15.1"
# tf2-cpu.2-15: TensorFlow 2.15 on Python 3.11 (numpy 1.x: TF 2.15 predates numpy 2).
SERVING_PACKAGES = (f"tensorflow-cpu=={TENSORFLOW}", "numpy==1.26.4")
PYTHON = "3.11"
CHECK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "serve_check.py")


def build_env(cache_dir: str) -> str:
    """The serving virtualenv's Python (built on first use, kept in ``cache_dir``)."""
    key = hashlib.sha256(repr((SERVING_PACKAGES, PYTHON)).encode()).hexdigest()[:16]
    home = os.path.join(cache_dir, f"serving-{key}")
    python = os.path.join(home, "venv", "bin", "python")
    if os.path.exists(os.path.join(home, ".complete")):
        return python
    shutil.rmtree(home, ignore_errors=True)
    os.makedirs(home)
    subprocess.run([find_python(PYTHON), "-m", "venv", os.path.join(home, "venv")], check=True, capture_output=True)
    done = subprocess.run([python, "-m", "pip", "install", "--quiet", *SERVING_PACKAGES],
                          env=image_process_env(os.path.join(home, "venv"), {}), capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"installing {' '.join(SERVING_PACKAGES)} failed:\n{done.stderr[-2000:]}")
    open(os.path.join(home, ".complete"), "w").close()
    return python


def query(python: str, saved_model: str, cwd: str, log: str, height: int = 120, width: int = 160) -> dict:
    """Load ``saved_model`` with the serving TensorFlow and call it; returns serve_check's summary."""
    out = os.path.join(os.path.dirname(log), "serving.json")
    venv = os.path.dirname(os.path.dirname(python))
    with open(log, "w") as f:
        done = subprocess.run([python, CHECK, "--saved-model", saved_model, "--height", str(height),
                               "--width", str(width), "--out", out], cwd=cwd, env=image_process_env(venv, {}),
                              stdout=f, stderr=subprocess.STDOUT)
    if done.returncode:
        with open(log, errors="replace") as f:
            lines = f.read().strip().splitlines()[-20:]
        raise RuntimeError(f"the serving TensorFlow could not load or call {saved_model} "
                           f"(exit {done.returncode}):\n" + "\n".join(lines))
    with open(out) as f:
        return json.load(f)
