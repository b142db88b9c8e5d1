"""``generate``: validate a request and hand it to the writer of its layout.

See ``components/samples/__init__.py`` for how to run the generator.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Callable

from components.samples.coco import write_coco, write_unity_real
from components.samples.dataset import LAYOUTS, SampleDataset, SampleOptions
from components.samples.job import Job
from components.samples.perception import write_perception
from components.samples.simulation import write_simulation
from components.samples.solo import write_solo

logger = logging.getLogger(__name__)

WRITERS: dict[str, Callable[[Job], SampleDataset]] = {
    "unity-simulation": write_simulation,
    "perception": write_perception,
    "solo": write_solo,
    "coco": write_coco,
    "unity-real": write_unity_real,
}
assert tuple(WRITERS) == LAYOUTS
MIN_SIDE, MAX_SIDE = 16, 8192


def generate(output: str | Path, layout: str, *, num_images: int = 200, width: int = 320, height: int = 240,
             seed: int = 0, options: SampleOptions | None = None) -> SampleDataset:
    """Write a deterministic sample dataset of rectangles, ellipses and triangles.

    The same arguments give byte-identical files (``options.workers`` does not matter).

    Args:
        output: local folder to create; it must not exist or be empty. Nothing is written elsewhere.
        layout: one of ``LAYOUTS``.
        num_images: images a converter should read (unity-simulation also writes a few more in
            the superseded attempt).
        width, height: image size in pixels.
        seed: non-negative integer.
        options: everything else (background, label ids, Unity Simulation ids, ...).
    Returns:
        Where the dataset is and its ground truth.
    Raises:
        ValueError: a bad argument, or ``output`` is a file or a non-empty folder.
    """
    options = options or SampleOptions()
    if layout not in LAYOUTS:
        raise ValueError(f"layout {layout!r}: expected one of {', '.join(LAYOUTS)}")
    for name, value, low, high in (("num_images", num_images, 1, None), ("width", width, MIN_SIDE, MAX_SIDE),
                                   ("height", height, MIN_SIDE, MAX_SIDE), ("seed", seed, 0, None)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low or (high and value > high):
            limits = f"between {low} and {high}" if high else f">= {low}"
            raise ValueError(f"{name} {value!r}: expected an integer {limits}")
    path = Path(output)
    if "://" in str(output):
        raise ValueError(f"output {output!r}: expected a local folder")
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise ValueError(f"output {str(path)!r} exists and is not an empty folder; choose a new one")
    path.mkdir(parents=True, exist_ok=True)
    job = Job(path, layout, num_images, width, height, seed, options)
    logger.info("writing %d %dx%d sample images, layout %s, seed %d, to %s",
                num_images, width, height, layout, seed, path)
    started = time.monotonic()
    dataset = WRITERS[layout](job)
    logger.info("wrote %d images with %d objects (%s) in %.1f s; dataset root %s",
                dataset.num_images, dataset.num_objects,
                ", ".join(f"{i}={n}" for i, n in dataset.labels.items()), time.monotonic() - started,
                dataset.root)
    return dataset
