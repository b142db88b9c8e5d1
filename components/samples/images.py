"""Drawing and encoding of the sample images, one seeded stream per image, optionally in parallel.

See ``components/samples/__init__.py`` for how to run the generator.
"""
from __future__ import annotations

import io
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Iterator

import numpy as np
from PIL import Image

from components.samples.shapes import CLASSES, DrawnObject, draw_scene

# Semantic segmentation colours (RGBA), background first, then one per class in CLASSES order.
SEGMENTATION_COLOURS = np.array(
    [(0, 0, 0, 255), (255, 0, 0, 255), (0, 255, 0, 255), (0, 0, 255, 255)], dtype=np.uint8)
assert len(SEGMENTATION_COLOURS) == len(CLASSES) + 1
JPEG_QUALITY = 95
# zlib level 1: fast, and close to the (weakly compressed) PNGs Unity writes.
PNG_COMPRESS_LEVEL = 1
_OBJECTS_PER_IMAGE = (1, 4)


@dataclass(frozen=True)
class RenderSpec:
    """How to draw and encode image ``index`` of a dataset.

    ``encoding`` is ``rgba-png`` (Unity cameras write RGBA), ``rgb-png`` or ``jpeg``;
    ``empty`` holds the indices of images drawn without objects.
    """

    width: int
    height: int
    seed: int
    background: str
    encoding: str
    segmentation: bool
    empty: frozenset[int]


@dataclass(frozen=True)
class Rendered:
    index: int
    image: bytes
    segmentation: bytes | None
    objects: tuple[DrawnObject, ...]


def empty_indices(seed: int, num_images: int, fraction: float) -> frozenset[int]:
    """The images drawn without objects: ``round(num_images * fraction)`` of them, seeded."""
    count = min(num_images, int(round(num_images * fraction)))
    rng = np.random.default_rng([seed, 0xE3])
    return frozenset(int(i) for i in rng.permutation(num_images)[:count])


def render(spec: RenderSpec, index: int) -> Rendered:
    """Draw and encode one image; a pure function of ``(spec, index)``."""
    rng = np.random.default_rng([spec.seed, index])
    low, high = _OBJECTS_PER_IMAGE
    count = 0 if index in spec.empty else int(rng.integers(low, high + 1))
    scene = draw_scene(rng, spec.width, spec.height, count, spec.background)
    segmentation = encode_png(SEGMENTATION_COLOURS[scene.class_map()]) if spec.segmentation else None
    if spec.encoding == "rgba-png":
        image = encode_png(np.dstack([scene.rgb, np.full(scene.rgb.shape[:2], 255, dtype=np.uint8)]))
    elif spec.encoding == "rgb-png":
        image = encode_png(scene.rgb)
    elif spec.encoding == "jpeg":
        image = encode_jpeg(scene.rgb)
    else:
        raise ValueError(f"encoding {spec.encoding!r}: expected rgba-png, rgb-png or jpeg")
    return Rendered(index, image, segmentation, scene.objects)


def render_all(spec: RenderSpec, num_images: int, workers: int = 1) -> Iterator[Rendered]:
    """``render`` for indices 0..num_images-1, yielded in index order."""
    if workers <= 1 or num_images < 2:
        for index in range(num_images):
            yield render(spec, index)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(render, [spec] * num_images, range(num_images), chunksize=4)


def encode_png(array: np.ndarray) -> bytes:
    """PNG bytes of an (H, W, 3) RGB or (H, W, 4) RGBA uint8 array."""
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return buffer.getvalue()


def encode_jpeg(array: np.ndarray) -> bytes:
    """JPEG bytes (quality 95, no EXIF) of an (H, W, 3) uint8 array."""
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()
