"""Every image pins the same versions as requirements.txt, and the entry modules import here."""
from __future__ import annotations

import glob
import importlib
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PIN = re.compile(r"(?<![\w.-])([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([0-9][^\s\"'\\;]*)")


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def project_pins() -> dict[str, str]:
    pins = {}
    for line in open(os.path.join(ROOT, "requirements.txt")):
        line = line.split("#", 1)[0].strip()
        match = PIN.fullmatch(line)
        if match:
            pins[normalize(match.group(1))] = match.group(2)
    return pins


def image_files(folder: str) -> list[str]:
    files = [os.path.join(folder, "Dockerfile")]
    files += glob.glob(os.path.join(folder, "*.txt"))
    return files


IMAGES = sorted(os.path.basename(os.path.dirname(p)) for p in glob.glob(os.path.join(ROOT, "containers", "*", "Dockerfile")))


def test_every_component_has_an_image():
    assert {"transfer", "convert", "train", "evaluate"} <= set(IMAGES)


@pytest.mark.parametrize("image", IMAGES)
def test_image_pins_agree_with_requirements(image):
    pins = project_pins()
    found = 0
    for path in image_files(os.path.join(ROOT, "containers", image)):
        text = open(path).read()
        for name, version in PIN.findall(text):
            found += 1
            assert normalize(name) in pins, f"{path}: {name} is not in requirements.txt"
            assert pins[normalize(name)] == version, f"{path}: {name}=={version}, requirements.txt has {pins[normalize(name)]}"
        for base in re.findall(r"^FROM\s+\S*beam_python\S*_sdk:(\S+)", text, re.M):
            assert base == pins["apache-beam"], f"{path}: Beam SDK image {base} vs apache-beam {pins['apache-beam']}"
        for base in re.findall(r"^FROM\s+tensorflow/tensorflow:([0-9.]+)", text, re.M):
            assert base == pins["tensorflow"], f"{path}: TensorFlow image {base} vs tensorflow {pins['tensorflow']}"
    assert found, f"containers/{image} pins nothing"


@pytest.mark.parametrize("module", ["components.transfer", "components.convert", "components.train",
                                    "components.evaluate"])
def test_entry_modules_import(module):
    for name in (f"{module}.__main__", f"{module}.component"):
        importlib.import_module(name)


@pytest.mark.parametrize("image", IMAGES)
def test_every_requirements_install_uses_the_repository_constraints(image):
    """So every image's transitive versions are the tested virtualenv's."""
    text = open(os.path.join(ROOT, "containers", image, "Dockerfile")).read()
    installs = re.findall(r"pip install[^\n&]*-r /tmp/requirements\.txt[^\n&]*", text)
    assert installs, f"containers/{image}/Dockerfile installs no requirements file"
    for line in installs:
        assert "-c /tmp/constraints.txt" in line, f"containers/{image}/Dockerfile: {line}"
    assert "COPY requirements.txt /tmp/constraints.txt" in text


def test_the_train_image_finds_the_drivers_vertex_mounts():
    text = open(os.path.join(ROOT, "containers", "train", "Dockerfile")).read()
    assert re.search(r"^ENV LD_LIBRARY_PATH=/usr/local/nvidia/lib64:/usr/local/nvidia/lib\b", text, re.M)
