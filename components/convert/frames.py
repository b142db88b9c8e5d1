"""The small values every format reader produces: boxes, frames, skips, dataset references."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

_DRIVE = re.compile(r"^[A-Za-z]:")


class UnsafePathError(ValueError):
    """A path from a JSON file would leave the dataset root."""


class FormatError(ValueError):
    """A JSON file does not have the structure its format requires."""

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem


@dataclass(frozen=True)
class Box:
    """A pixel box ``(x, y, width, height)``, top-left origin, with its class name."""

    x: float
    y: float
    width: float
    height: float
    label_name: str
    is_crowd: int = 0
    area: float | None = None  # COCO's own area; None means width * height


@dataclass(frozen=True)
class Frame:
    """One image and its ground truth, as read from a dataset's JSON.

    ``path`` is relative to the dataset root and already checked by ``safe_relpath``.
    ``dropped`` names the reason for every box the reader had to leave out.
    """

    path: str
    boxes: tuple[Box, ...]
    source: str
    stated_size: tuple[int, int] | None = None  # (width, height) claimed by the JSON
    dropped: tuple[str, ...] = field(default=())
    # (width, height) of the camera the boxes were drawn on, where a dataset may ship smaller images
    native_size: tuple[int, int] | None = None
    # Frames that share a group go to the same split (a SOLO sequence, the cameras of one capture);
    # None: the image is its own group.
    group: str | None = None
    sensor: str | None = None  # the capturing sensor's id, where the format names one


@dataclass(frozen=True)
class DatasetRef:
    """One dataset inside the source; every path is relative to the source root (``/``-separated)."""

    format: str
    root: str
    annotation_files: tuple[str, ...]
    definitions: str | None
    image_prefix: str = ""  # COCO / UnityGroceries-Real: images folder relative to ``root``
    # Perception captures outside a Dataset* folder: the roots their file names may be relative to,
    # nearest first; the planner picks one by looking for the images.
    root_candidates: tuple[str, ...] = ()


@dataclass(frozen=True)
class Skip:
    """A frame (or whole file) that cannot become an example, and why."""

    path: str
    reason: str
    detail: str = ""
    # For a whole annotation file lost: the images it held, when known (None: unknown)
    images: int | None = None


def safe_relpath(path: object, source: str = "") -> str:
    """Normalize an untrusted dataset-relative path, or raise UnsafePathError.

    Backslashes become ``/``; ``.`` segments go; absolute paths, drive letters, URLs and
    ``..`` segments are rejected. Spaces and non-ASCII names are fine.
    """
    where = f"{source}: " if source else ""
    if not isinstance(path, str) or not path.strip():
        raise UnsafePathError(f"{where}empty or non-string file name {path!r}")
    norm = path.replace("\\", "/")
    if norm.startswith("/") or _DRIVE.match(norm) or "://" in norm:
        raise UnsafePathError(f"{where}file name {path!r} is absolute; expected a path relative to the dataset")
    parts = [p for p in norm.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise UnsafePathError(f"{where}file name {path!r} leaves the dataset folder ('..')")
    if not parts:
        raise UnsafePathError(f"{where}empty file name {path!r}")
    return "/".join(parts)


@dataclass(frozen=True)
class DatasetPlan:
    """One dataset as the planner fixed it: where it is, which box definition and labels it uses."""

    ref: DatasetRef
    definition_id: str | None  # the box definition (legacy, SOLO)
    spec: dict[int, str]  # source label id -> name
    native_size: tuple[int, int] | None = None  # boxes drawn in these pixels, not the stored images'
    sensors: tuple[str, ...] = ()  # --sensor: the sensor ids to read (empty: every sensor with 2D boxes)
    local_root: str | None = None  # a local source's real path: images must not resolve outside it
    repeats: frozenset[str] = frozenset()  # image keys an earlier annotation file already holds
