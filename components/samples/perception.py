"""Legacy Perception datasets (Perception <= 0.11): ``Dataset<uuid>/*.json`` plus image folders.

Layout ``perception`` writes one dataset into the output folder, as Unity does locally:
``python -m components.samples --output ./sample --layout perception``. The unity-simulation
layout writes one such dataset per simulation attempt.
"""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

from components.samples.dataset import BOX_DEFINITION_ID, Ids, SampleDataset, SampleImage, frame_numbers
from components.samples.images import SEGMENTATION_COLOURS, Rendered
from components.samples.job import Job
from components.samples.shapes import CLASSES, DrawnObject

VERSION = "0.0.1"
UNITY_CAPTURES_PER_FILE = 150
FRAME_SECONDS = 0.0166
_INTRINSIC = [[1.7320508, 0.0, 0.0], [0.0, 2.3094011, 0.0], [0.0, 0.0, -1.0006]]


class LegacyDataset:
    """One ``Dataset<uuid>`` with its ``RGB<uuid>`` and ``SemanticSegmentation<uuid>`` folders.

    Args:
        job: the generation request.
        root: the dataset root (the folder holding ``Dataset<uuid>``).
        ids: source of the uuids, drawn in a fixed order.
        relabel: write every box with the next class's label (a stale attempt's wrong data).
    """

    def __init__(self, job: Job, root: Path, ids: Ids, relabel: bool = False) -> None:
        self.job, self.root, self.ids, self.relabel = job, root, ids, relabel
        self.dataset_dir = f"Dataset{ids.uuid()}"
        self.rgb_dir = f"RGB{ids.uuid()}"
        self.segmentation_dir = f"SemanticSegmentation{ids.uuid()}"
        self.sensor_id, self.ego_id = ids.uuid(), ids.uuid()
        self.segmentation_id, self.count_metric_id = ids.uuid(), ids.uuid()
        self.captures: list[dict[str, Any]] = []
        self.metrics: list[dict[str, Any]] = []

    def add(self, frame: int, rendered: Rendered) -> SampleImage:
        """Write one capture's images; returns its ground truth, path relative to ``root``."""
        image_path = f"{self.rgb_dir}/rgb_{frame}.png"
        segmentation_path = f"{self.segmentation_dir}/segmentation_{frame}.png"
        self.job.write_bytes(self.root / image_path, rendered.image)
        self.job.write_bytes(self.root / segmentation_path, rendered.segmentation or b"")
        capture_id, sequence_id = self.ids.uuid(), self.ids.uuid()
        objects = tuple(self._relabelled(o) for o in rendered.objects)
        boxes = [{"label_id": self.job.label_id(o), "label_name": CLASSES[o.class_index],
                  "instance_id": o.instance_id, "x": float(o.x), "y": float(o.y),
                  "width": float(o.width), "height": float(o.height)} for o in objects]
        self.captures.append({
            "id": capture_id, "sequence_id": sequence_id, "step": 0,
            "timestamp": round(frame * FRAME_SECONDS, 4),
            "sensor": {"sensor_id": self.sensor_id, "ego_id": self.ego_id, "modality": "camera",
                       "translation": [0.0, 0.0, 0.0], "rotation": [0.0, 0.0, 0.0, 1.0],
                       "camera_intrinsic": _INTRINSIC},
            "ego": {"ego_id": self.ego_id, "translation": [0.0, 0.0, 0.0], "rotation": [0.0, 0.0, 0.0, 1.0],
                    "velocity": None, "acceleration": None},
            "filename": image_path, "format": "PNG",
            # Segmentation first: readers must find the box annotation by definition, not position.
            "annotations": [
                {"id": self.ids.uuid(), "annotation_definition": self.segmentation_id,
                 "filename": segmentation_path, "values": None},
                {"id": self.ids.uuid(), "annotation_definition": BOX_DEFINITION_ID, "values": boxes},
            ],
        })
        counts = [sum(1 for o in objects if o.class_index == k) for k in range(len(CLASSES))]
        self.metrics.append({
            "capture_id": capture_id, "annotation_id": None, "sequence_id": sequence_id, "step": 0,
            "metric_definition": self.count_metric_id,
            "values": [{"label_id": i, "label_name": n, "count": c}
                       for i, n, c in zip(self.job.options.label_ids, CLASSES, counts)],
        })
        return self.job.image(image_path, objects)

    def finish(self) -> list[str]:
        """Write the JSON files; returns the captures files written, relative to ``root``."""
        folder = self.root / self.dataset_dir
        self.job.write_json(folder / "annotation_definitions.json", {"version": VERSION, "annotation_definitions": [
            {"id": self.segmentation_id, "name": "semantic segmentation",
             "description": "pixel-wise semantic segmentation label", "format": "PNG",
             "spec": [{"label_name": n, "pixel_value": _rgba(k + 1)} for k, n in enumerate(CLASSES)]},
            {"id": BOX_DEFINITION_ID, "name": "bounding box",
             "description": "Bounding box for each labeled object visible to the sensor", "format": "json",
             "spec": self.job.label_spec()},
        ]})
        self.job.write_json(folder / "sensors.json", {"version": VERSION, "sensors": [
            {"id": self.sensor_id, "ego_id": self.ego_id, "modality": "camera", "description": "Main Camera"}]})
        self.job.write_json(folder / "egos.json", {"version": VERSION, "egos": [
            {"id": self.ego_id, "description": "Main Camera"}]})
        self.job.write_json(folder / "metric_definitions.json", {"version": VERSION, "metric_definitions": [
            {"id": self.count_metric_id, "name": "object count",
             "description": "Counts of objects for each label in the sensor's view",
             "spec": self.job.label_spec()}]})
        per_file = captures_per_file(len(self.captures), self.job.options.captures_per_file)
        written = []
        for number, start in enumerate(range(0, max(len(self.captures), 1), per_file)):
            name = f"{self.dataset_dir}/captures_{number:03d}.json"
            self.job.write_json(self.root / name,
                                {"version": VERSION, "captures": self.captures[start:start + per_file]})
            written.append(name)
        self.job.write_json(folder / "metrics_000.json", {"version": VERSION, "metrics": self.metrics})
        return written

    def _relabelled(self, obj: DrawnObject) -> DrawnObject:
        if not self.relabel:
            return obj
        return dataclasses.replace(obj, class_index=(obj.class_index + 1) % len(CLASSES))


def captures_per_file(num_captures: int, requested: int | None) -> int:
    """Captures per file: ``requested``, or Unity's 150 lowered so two captures make two files."""
    if requested is not None:
        return requested
    return min(UNITY_CAPTURES_PER_FILE, max(1, math.ceil(num_captures / 2)))


def write_perception(job: Job) -> SampleDataset:
    """Layout ``perception``: one legacy dataset whose root is the output folder."""
    ids = Ids(job.seed, stream=1)
    frames = frame_numbers(ids, job.num_images)
    dataset = LegacyDataset(job, job.output, ids)
    images = [dataset.add(frames[r.index], r) for r in job.render("rgba-png", segmentation=True)]
    dataset.finish()
    return job.dataset(job.output, images)


def _rgba(index: int) -> dict[str, float]:
    """A segmentation colour as Unity serialises a ``Color``: channels in [0, 1]."""
    r, g, b, a = (round(int(v) / 255, 4) for v in SEGMENTATION_COLOURS[index])
    return {"r": r, "g": g, "b": b, "a": a}
