"""One generation request, shared by the layout writers: drawing, ground truth and file output.

See ``components/samples/__init__.py`` for how to run the generator.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from components.common.logs import Progress
from components.samples.dataset import SampleBox, SampleDataset, SampleImage, SampleOptions
from components.samples.images import Rendered, RenderSpec, empty_indices, render_all
from components.samples.shapes import CLASSES, DrawnObject

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """A validated request; ``output`` exists and is empty."""

    output: Path
    layout: str
    num_images: int
    width: int
    height: int
    seed: int
    options: SampleOptions

    def render(self, encoding: str, segmentation: bool) -> Iterator[Rendered]:
        """All images, in index order, with a progress line every 200 images or 10 seconds."""
        spec = RenderSpec(self.width, self.height, self.seed, self.options.background, encoding, segmentation,
                          empty_indices(self.seed, self.num_images, self.options.empty_fraction))
        progress = Progress(logger, "images drawn", self.num_images, every=200, seconds=10.0)
        for rendered in render_all(spec, self.num_images, self.options.workers):
            yield rendered
            progress.add()

    def label_id(self, obj: DrawnObject) -> int:
        return self.options.label_ids[obj.class_index]

    def boxes(self, objects: tuple[DrawnObject, ...]) -> tuple[SampleBox, ...]:
        return tuple(SampleBox(self.label_id(o), CLASSES[o.class_index], o.x, o.y, o.width, o.height,
                               o.instance_id) for o in objects)

    def image(self, path: str, objects: tuple[DrawnObject, ...]) -> SampleImage:
        return SampleImage(path, self.width, self.height, self.boxes(objects))

    def label_spec(self) -> list[dict[str, Any]]:
        """``[{"label_id", "label_name"}]`` in class order (Perception's label enumeration)."""
        return [{"label_id": i, "label_name": n} for i, n in zip(self.options.label_ids, CLASSES)]

    def write_bytes(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def write_json(self, path: Path, doc: Any) -> None:
        self.write_bytes(path, (json.dumps(doc, indent=2) + "\n").encode("utf-8"))

    def dataset(self, root: Path, images: list[SampleImage], **extra: Any) -> SampleDataset:
        return SampleDataset(root=str(root), layout=self.layout, classes=CLASSES,
                             label_ids=self.options.label_ids, num_images=len(images), width=self.width,
                             height=self.height, seed=self.seed, images=tuple(images), **extra)
