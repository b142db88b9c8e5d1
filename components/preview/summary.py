"""Counts and checks over parsed detection records, and a seeded sample of them for the preview grid."""
from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Iterable

import numpy as np

from components.common.example import Example

MAX_BOX_POINTS = 20000
MAX_PROBLEM_EXAMPLES = 5
_SHARD = re.compile(r"^(?P<split>.+?)-\d{5}-of-\d{5}")


def split_of(path: str) -> str:
    """``.../train-00000-of-00004.tfrecord`` -> ``train``; else the record file's folder name."""
    name = path.rstrip("/").rsplit("/", 1)[-1]
    match = _SHARD.match(name)
    if match:
        return match.group("split")
    parent = path.rstrip("/").rsplit("/", 2)
    return parent[-2] if len(parent) > 1 else "records"


@dataclass
class DatasetSummary:
    """Counts gathered over the records read (all of them, or the first ``limit``)."""

    labels: dict[int, str]
    records: int = 0
    limit_reached: bool = False
    per_split: Counter = field(default_factory=Counter)
    objects: dict[str, Counter] = field(default_factory=dict)
    image_sizes: Counter = field(default_factory=Counter)
    formats: Counter = field(default_factory=Counter)
    objects_per_image: list[int] = field(default_factory=list)
    box_sizes: list[tuple[float, float]] = field(default_factory=list)
    problems: Counter = field(default_factory=Counter)
    problem_examples: dict[str, list[str]] = field(default_factory=dict)
    samples: list[Example] = field(default_factory=list)

    def problem(self, reason: str, filename: str) -> None:
        self.problems[reason] += 1
        examples = self.problem_examples.setdefault(reason, [])
        if len(examples) < MAX_PROBLEM_EXAMPLES and filename not in examples:
            examples.append(filename)

    def class_ids(self) -> list[int]:
        seen = {label for counts in self.objects.values() for label in counts}
        return sorted(seen | set(self.labels))

    def name(self, label: int) -> str:
        return self.labels.get(label, f"id {label}")


def _check(summary: DatasetSummary, ex: Example, label_map: dict[int, str], source_ids: set[str]) -> None:
    where = ex.filename or ex.file
    if not ex.source_id.isdigit():
        summary.problem("image/source_id is not a decimal number", where)
    elif ex.source_id in source_ids:
        summary.problem("image/source_id repeats an earlier record", where)
    source_ids.add(ex.source_id)
    b = ex.boxes
    if b.size and (np.any(b < 0) or np.any(b > 1) or np.any(b[:, 2] <= b[:, 0]) or np.any(b[:, 3] <= b[:, 1])):
        summary.problem("box outside [0, 1] or with no area", where)
    for i, label in enumerate(int(v) for v in ex.labels):
        text = ex.texts[i] if i < len(ex.texts) else ""
        if label < 1:
            summary.problem("class label below 1 (0 is the background)", where)
        elif label_map and label not in label_map:
            summary.problem("class label not in the label map", where)
        elif label_map and text and text != label_map[label]:
            summary.problem("class text differs from the label map's name", where)


def summarize(examples: Iterable[Example], label_map: dict[int, str] | None = None,
              num_images: int = 24, seed: int = 0) -> DatasetSummary:
    """One pass over parsed records: counts, checks, and a seeded random sample for the grid."""
    label_map = dict(label_map or {})
    summary = DatasetSummary(labels=dict(label_map))
    rng, source_ids = random.Random(seed), set()
    for ex in examples:
        split = split_of(ex.file)
        summary.per_split[split] += 1
        counts = summary.objects.setdefault(split, Counter())
        for i, label in enumerate(int(v) for v in ex.labels):
            counts[label] += 1
            if label not in summary.labels and i < len(ex.texts) and ex.texts[i]:
                summary.labels[label] = ex.texts[i]
        summary.image_sizes[(ex.width, ex.height)] += 1
        summary.formats[ex.image_format or "unknown"] += 1
        summary.objects_per_image.append(ex.num_objects)
        if len(summary.box_sizes) < MAX_BOX_POINTS:
            summary.box_sizes += [(float(w), float(h)) for _, _, w, h in ex.pixel_boxes()]
        _check(summary, ex, label_map, source_ids)
        light = replace(ex, serialized=b"", image=None)
        if len(summary.samples) < num_images:
            summary.samples.append(light)
        elif num_images and (j := rng.randint(0, summary.records)) < num_images:
            summary.samples[j] = light
        summary.records += 1
    return summary
