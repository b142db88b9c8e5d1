"""One parsed detection record (formats.md 5.1), whichever reader parsed it: tf.data or plain Python."""
from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from components.common import example_keys as keys


@dataclass(frozen=True, eq=False)
class Example:
    """One parsed record. Boxes are ``[ymin, xmin, ymax, xmax]`` normalized, as stored."""

    file: str
    serialized: bytes
    encoded: bytes
    image_format: str
    height: int
    width: int
    filename: str
    source_id: str
    boxes: np.ndarray
    labels: np.ndarray
    texts: tuple[str, ...]
    areas: np.ndarray
    is_crowd: np.ndarray
    image: np.ndarray | None = None

    @property
    def num_objects(self) -> int:
        return int(self.labels.shape[0])

    def pixel_boxes(self) -> np.ndarray:
        """``[N, 4]`` boxes as ``[x, y, width, height]`` in this image's pixels."""
        if not self.num_objects:
            return np.zeros((0, 4), np.float64)
        b = self.boxes.astype(np.float64)
        x0, x1 = b[:, 1] * self.width, b[:, 3] * self.width
        y0, y1 = b[:, 0] * self.height, b[:, 2] * self.height
        return np.stack([x0, y0, x1 - x0, y1 - y0], axis=1)

    def pixel_areas(self) -> np.ndarray:
        """``image/object/area`` when every object has one, else ``w * h`` of the pixel boxes."""
        if self.areas.shape[0] == self.num_objects:
            return self.areas.astype(np.float64)
        boxes = self.pixel_boxes()
        return boxes[:, 2] * boxes[:, 3]


def _text(value: bytes) -> str:
    return value.decode("utf-8", errors="replace")


def _header_size(encoded: bytes, filename: str) -> tuple[int, int]:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(encoded)) as image:
            width, height = image.size
    except Exception as err:  # Pillow raises many types for unreadable bytes
        raise ValueError(f"record {filename!r}: image/height or image/width missing and the image "
                         f"header is unreadable: {err}") from err
    return height, width


def example_from_features(file: str, serialized: bytes, values: Callable[[str], Sequence],
                          image: np.ndarray | None = None) -> Example:
    """Build an Example from a record's features; ``values(key)`` gives a key's list (empty if absent).

    Raises:
        ValueError: no ``image/encoded``, or boxes and labels of different lengths.
    """
    def one(key: str, default):
        found = values(key)
        return found[0] if len(found) else default

    encoded = one(keys.ENCODED, None)
    if encoded is None:
        raise ValueError(f"a record in {file} has no image/encoded")
    filename = _text(one(keys.FILENAME, b""))
    height, width = int(one(keys.HEIGHT, 0)), int(one(keys.WIDTH, 0))
    if height < 1 or width < 1:
        height, width = _header_size(encoded, filename)
    boxes = np.stack([np.asarray(values(k), np.float32) for k in keys.BOX], axis=-1)
    labels = np.asarray(values(keys.LABEL), np.int64)
    if boxes.shape[0] != labels.shape[0]:
        raise ValueError(f"record {filename!r} in {file}: {boxes.shape[0]} boxes but "
                         f"{labels.shape[0]} image/object/class/label values; expected one per box")
    crowd = np.asarray(values(keys.IS_CROWD), np.int64)
    if crowd.shape[0] != labels.shape[0]:
        crowd = np.zeros_like(labels)
    return Example(
        file=file, serialized=serialized, encoded=encoded, image_format=_text(one(keys.FORMAT, b"")),
        height=height, width=width, filename=filename, source_id=_text(one(keys.SOURCE_ID, b"")),
        boxes=boxes.reshape(-1, 4), labels=labels,
        texts=tuple(_text(t) for t in values(keys.TEXT)),
        areas=np.asarray(values(keys.AREA), np.float64), is_crowd=crowd, image=image)
