"""What a sample dataset is made of: options in, ground truth out, and seeded ids.

See ``components/samples/__init__.py`` for how to run the generator.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from components.samples.shapes import BACKGROUNDS, CLASSES

LAYOUTS = ("unity-simulation", "perception", "solo", "coco", "unity-real")
IMAGE_FORMATS = ("png", "jpeg")
BOX_DEFINITION_ID = "f9f22e05-443f-4602-a422-ebe4ea9b55cb"
_RUN_ID = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class SampleOptions:
    """Everything about a sample dataset besides its layout, size, image count and seed.

    Attributes:
        background: ``mixed`` (gradient or texture per image), ``gradient``, ``texture``, or
            ``noise`` (fine per-pixel noise: about 2-3 MB per 1280x960 PNG, like rendered frames).
        image_format: ``png`` or ``jpeg``; only the ``coco`` layout offers the choice (Unity
            layouts always write PNG, ``unity-real`` always JPEG).
        label_ids: ids of rectangle, ellipse and triangle; may be non-contiguous.
        empty_fraction: share of images with no object at all (true negatives).
        captures_per_file: legacy layouts: captures per ``captures_NNN.json``; ``None`` = Unity's
            150, lowered so that every dataset with two or more captures gets at least two files.
        project_id, run_definition_id, run_execution_id, app_param_ids: unity-simulation ids.
        instances_per_app_param: unity-simulation instances under each app-param.
        workers: processes drawing and encoding images (output does not depend on it).
    """

    background: str = "mixed"
    image_format: str = "png"
    label_ids: tuple[int, ...] = (1, 2, 3)
    empty_fraction: float = 0.05
    captures_per_file: int | None = None
    project_id: str = "5d3f8a42-91c6-4e0b-b7a1-2c9e60d4f318"
    run_definition_id: str = "El64GVP"
    run_execution_id: str = "5M6wq80"
    app_param_ids: tuple[str, ...] = ("Xk2fN9q", "Lp7Rt3w", "Cz0Vb5m")
    instances_per_app_param: int = 2
    workers: int = 1

    def __post_init__(self) -> None:
        if self.background not in BACKGROUNDS:
            raise ValueError(f"background {self.background!r}: expected one of {', '.join(BACKGROUNDS)}")
        if self.image_format not in IMAGE_FORMATS:
            raise ValueError(f"image_format {self.image_format!r}: expected one of {', '.join(IMAGE_FORMATS)}")
        ids = tuple(self.label_ids)
        if len(ids) != len(CLASSES) or len(set(ids)) != len(ids) or \
                any(isinstance(i, bool) or not isinstance(i, int) or i < 0 for i in ids):
            raise ValueError(f"label_ids {self.label_ids!r}: expected {len(CLASSES)} distinct integers >= 0 "
                             f"(for {', '.join(CLASSES)})")
        object.__setattr__(self, "label_ids", ids)
        if not 0.0 <= self.empty_fraction <= 1.0:
            raise ValueError(f"empty_fraction {self.empty_fraction!r}: expected a value in [0, 1]")
        if self.captures_per_file is not None and self.captures_per_file < 1:
            raise ValueError(f"captures_per_file {self.captures_per_file!r}: expected an integer >= 1")
        for name in ("project_id", "run_definition_id", "run_execution_id"):
            if not _RUN_ID.match(getattr(self, name)):
                raise ValueError(f"{name} {getattr(self, name)!r}: expected letters, digits, '-' or '_'")
        apps = tuple(self.app_param_ids)
        if not apps or len(set(apps)) != len(apps) or not all(_RUN_ID.match(a) for a in apps):
            raise ValueError(f"app_param_ids {self.app_param_ids!r}: expected distinct ids of letters, digits, "
                             "'-' or '_'")
        object.__setattr__(self, "app_param_ids", apps)
        if self.instances_per_app_param < 1:
            raise ValueError(f"instances_per_app_param {self.instances_per_app_param!r}: expected >= 1")
        if self.workers < 1:
            raise ValueError(f"workers {self.workers!r}: expected >= 1")


@dataclass(frozen=True)
class SampleBox:
    """One ground-truth object: tight pixel box (x, y, width, height) of its visible pixels."""

    label_id: int
    label_name: str
    x: int
    y: int
    width: int
    height: int
    instance_id: int


@dataclass(frozen=True)
class SampleImage:
    """One image a converter should read, ``path`` relative to ``SampleDataset.root``."""

    path: str
    width: int
    height: int
    boxes: tuple[SampleBox, ...]


@dataclass(frozen=True)
class SampleDataset:
    """What ``generate`` wrote.

    Attributes:
        root: the folder to point a converter at (unity-simulation: the ``urn:run_executions:<e>``
            folder; otherwise the output folder).
        images: ground truth of every image a converter should read, in generation order. Images
            in superseded Unity Simulation attempts are not listed.
        superseded: unity-simulation only: attempt folders (relative to ``root``) that a later
            attempt replaces and a converter must ignore.
    """

    root: str
    layout: str
    classes: tuple[str, ...]
    label_ids: tuple[int, ...]
    num_images: int
    width: int
    height: int
    seed: int
    images: tuple[SampleImage, ...]
    project_id: str | None = None
    run_definition_id: str | None = None
    run_execution_id: str | None = None
    app_param_ids: tuple[str, ...] = ()
    superseded: tuple[str, ...] = field(default=())

    @property
    def labels(self) -> dict[int, str]:
        """``{label_id: class name}``."""
        return dict(zip(self.label_ids, self.classes))

    @property
    def num_objects(self) -> int:
        return sum(len(image.boxes) for image in self.images)

    def boxes_by_path(self) -> dict[str, tuple[SampleBox, ...]]:
        """``{image path relative to root: boxes}``."""
        return {image.path: image.boxes for image in self.images}


class Ids:
    """Deterministic identifiers drawn from their own seeded stream."""

    def __init__(self, seed: int, stream: int) -> None:
        self._rng = np.random.default_rng([seed, stream, 0x1D5])

    def uuid(self) -> str:
        """Lowercase 8-4-4-4-12 hex, shaped like a version-4 UUID (.NET ``Guid.ToString()``)."""
        raw = bytearray(self._rng.bytes(16))
        raw[6] = (raw[6] & 0x0F) | 0x40
        raw[8] = (raw[8] & 0x3F) | 0x80
        h = raw.hex()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def integers(self, low: int, high: int, size: int | None = None):
        """Like ``Generator.integers`` (``high`` excluded)."""
        return self._rng.integers(low, high, size=size)

    def permutation(self, n: int) -> list[int]:
        return [int(i) for i in self._rng.permutation(n)]


def frame_numbers(ids: Ids, count: int) -> list[int]:
    """Unity frame counters of ``count`` captures: not zero-based, increasing, with gaps."""
    start = int(ids.integers(2, 12))
    steps = ids.integers(1, 4, size=count) if count else []
    frames, frame = [], start
    for step in steps:
        frames.append(frame)
        frame += int(step)
    return frames
