"""Container image names for every component, from one place.

The registry and tag come from ``SYNTHDET_IMAGE_REGISTRY`` / ``SYNTHDET_IMAGE_TAG`` when set at
compile time (``compile.sh`` passes them), else from the defaults below. Read at call time, never
at import. Image names are fixed when the pipeline is compiled and travel in the compiled spec:
a running component never looks them up again (its container does not see the compile-time
environment). Without a registry the names carry the placeholder registry, which is fine for a
local run and refused by ``pipeline.py submit``.
"""
from __future__ import annotations

import os

PLACEHOLDER_REGISTRY = "us-docker.pkg.dev/YOUR_PROJECT/synthdet"
DEFAULT_REGISTRY = PLACEHOLDER_REGISTRY
DEFAULT_TAG = "0.1.0"
IMAGES = ("transfer", "convert", "train", "train-tpu", "evaluate")
REGISTRY_HINT = ("set SYNTHDET_IMAGE_REGISTRY (e.g. us-central1-docker.pkg.dev/PROJECT/synthdet) and "
                 "SYNTHDET_IMAGE_TAG, build the images with containers/build.sh and compile again "
                 "(./compile.sh)")


def registry() -> str:
    return os.environ.get("SYNTHDET_IMAGE_REGISTRY", DEFAULT_REGISTRY).rstrip("/")


def tag() -> str:
    return os.environ.get("SYNTHDET_IMAGE_TAG", DEFAULT_TAG)


def image_for(name: str) -> str:
    """``<registry>/synthdet-<name>:<tag>`` for one of IMAGES."""
    if name not in IMAGES:
        raise ValueError(f"unknown image {name!r}; expected one of {', '.join(IMAGES)}")
    return f"{registry()}/synthdet-{name}:{tag()}"


def is_placeholder(image: str) -> bool:
    """True for an image name that still carries the placeholder registry."""
    return image.startswith(PLACEHOLDER_REGISTRY + "/") or "YOUR_PROJECT" in image


def image_name(image: str) -> str | None:
    """``train`` for ``<registry>/synthdet-train:<tag>``; None for an image that is not ours."""
    last = image.rsplit("/", 1)[-1]
    base = last.split("@", 1)[0].split(":", 1)[0]
    if not base.startswith("synthdet-"):
        return None
    name = base[len("synthdet-"):]
    return name if name in IMAGES else None
