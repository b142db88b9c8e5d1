"""Dataset preview: what the trainer will see in a set of TFRecords, as one self-contained HTML page.

Local:  ``python -m components.evaluate preview --data OUT --label-map OUT/label_map.pbtxt
          --stats OUT/stats.json --output preview.html`` (OUT: the convert step's output folder; its
          ``manifest.json`` names the shards read)
Cloud:  the convert component writes it as its ``preview`` output; the ``preview`` KFP component
        runs it on any ``examples`` folder.

It reads the records (not the source format), in plain Python so that it also runs where there is
no TensorFlow (the convert step): a sample grid with boxes and class names, the class
histogram per split, image sizes, objects per image, box sizes, the problems found in the records,
and, from ``stats.json``, the converter's counts and skip reasons.
"""
from __future__ import annotations

import json
import logging
import random
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Iterable, Sequence

import numpy as np

from components.common import manifest, uris
from components.evaluate.labels import read_label_map
from components.evaluate.example import Example
from components.evaluate.plain_records import read_examples

logger = logging.getLogger(__name__)

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


def read_stats(uri: str) -> dict:
    """``stats.json`` of the convert step; raises ValueError when it is missing or not JSON."""
    try:
        return json.loads(uris.read_text(uri))
    except FileNotFoundError as err:
        raise ValueError(f"--stats {uri!r}: no such file") from err
    except json.JSONDecodeError as err:
        raise ValueError(f"--stats {uri!r}: not JSON ({err})") from err


def published(folder: str) -> str:
    """The published generation ``OUT/gen-<run>`` of a convert output with ``manifest.json``; else ``folder``."""
    return manifest.generation_uri(folder) if uris.is_file(uris.join(folder, manifest.MANIFEST)) else folder


def expand(patterns: Sequence[str]) -> list[str]:
    """Patterns with each convert output folder (one with ``manifest.json``) replaced by its listed shards."""
    found = []
    for pattern in patterns:
        if not set(pattern) & set("*?[") and uris.is_file(uris.join(pattern, manifest.MANIFEST)):
            doc = manifest.read_manifest(pattern)
            found += [s["uri"] for split in manifest.SPLITS if split in doc["splits"]
                      for s in manifest.shards(pattern, split, doc)]
        else:
            found.append(pattern)
    return found


def write_preview(data: str | Sequence[str], output: str, label_map: str | None = None,
                  stats: str | None = None, max_records: int = 2000, num_images: int = 24,
                  seed: int = 0) -> DatasetSummary:
    """Read records, write the preview page to ``output`` (local or gs://), return the summary.

    Args:
        data: TFRecord glob(s), folder(s) or file(s); a convert output folder with ``manifest.json``
            stands for the shards it lists.
        label_map: pbtxt or csv label map, to name classes and check ``class/text``.
        stats: the convert step's ``stats.json`` (counts and skip reasons).
        max_records: read at most this many records (shards interleaved); 0 reads all.
        num_images: images in the sample grid.
    """
    from components.evaluate.preview_page import render_preview

    if max_records < 0 or num_images < 0:
        raise ValueError("--max-records and --num-images must not be negative")
    labels = read_label_map(label_map) if label_map else None
    stats_doc = read_stats(stats) if stats else None
    patterns = [data] if isinstance(data, str) else list(data)
    summary = summarize(read_examples(expand(patterns), limit=max_records), labels, num_images, seed)
    summary.limit_reached = bool(max_records) and summary.records >= max_records
    if not summary.records:
        raise ValueError(f"--data {', '.join(patterns)}: the files hold no records")
    page = render_preview(summary, stats_doc, ", ".join(patterns), max_records)
    uris.write_text(output, page)
    logger.info("Previewed %d records (%s) into %s", summary.records,
                ", ".join(f"{k}: {v}" for k, v in sorted(summary.per_split.items())), output)
    return summary


def preview_examples(examples: str, output: str, max_records: int = 2000, num_images: int = 24) -> DatasetSummary:
    """Preview the convert step's output folder: its train/ and eval/ records, label map and stats.

    With ``manifest.json`` in it, the generation it names (``OUT/gen-<run>``) is read.
    """
    examples = published(examples)

    def present(name: str) -> str | None:
        uri = uris.join(examples, name)
        return uri if uris.exists(uri) else None

    data = [uris.join(examples, split) for split in ("train", "eval") if present(split)]
    if not data:
        data = [examples]
    label_map = present("label_map.pbtxt") or present("label_map.csv")
    return write_preview(data, output, label_map, present("stats.json"), max_records, num_images)
