"""Container image names for every component, from one place.

The registry and tag come from ``SYNTHDET_IMAGE_REGISTRY`` / ``SYNTHDET_IMAGE_TAG`` when set at
compile time (``compile.sh`` passes them), else from the defaults below. Read at call time, never
at import.
"""
from __future__ import annotations

import os

DEFAULT_REGISTRY = "us-docker.pkg.dev/YOUR_PROJECT/synthdet"
DEFAULT_TAG = "0.1.0"
IMAGES = ("transfer", "convert", "train", "evaluate")


def registry() -> str:
    return os.environ.get("SYNTHDET_IMAGE_REGISTRY", DEFAULT_REGISTRY).rstrip("/")


def tag() -> str:
    return os.environ.get("SYNTHDET_IMAGE_TAG", DEFAULT_TAG)


def image_for(name: str) -> str:
    """``<registry>/synthdet-<name>:<tag>`` for one of IMAGES."""
    if name not in IMAGES:
        raise ValueError(f"unknown image {name!r}; expected one of {', '.join(IMAGES)}")
    return f"{registry()}/synthdet-{name}:{tag()}"
