"""Dataset preview: what the trainer will see in a set of TFRecords, as one self-contained HTML page.

Local:  ``python -m components.preview --data OUT --label-map OUT/label_map.pbtxt
          --stats OUT/stats.json --output preview.html`` (OUT: the convert step's output folder; its
          ``manifest.json`` names the shards read)
Cloud:  the convert component writes it as its ``preview`` output; the ``preview`` KFP component
        runs it on any ``examples`` folder.

It reads the records (not the source format), in plain Python with Pillow, so that it also runs
where there is no TensorFlow and no matplotlib (the convert image): a sample grid with boxes and class names, the class
histogram per split, image sizes, objects per image, box sizes, the problems found in the records,
and, from ``stats.json``, the converter's counts and skip reasons.
"""
from __future__ import annotations

import json
import logging
from typing import Sequence

from components.common import manifest, uris
from components.common.label_map import read_label_map
from components.common.plain_records import read_examples
from components.preview.page import render_preview
from components.preview.summary import DatasetSummary, summarize

logger = logging.getLogger(__name__)


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
