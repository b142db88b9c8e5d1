"""The finalize step: publish shards, label map, COCO file and stats as one replacement of OUT.

Shards are written by the workers under ``OUT/.tmp-<run>/``; only here are they renamed into
``OUT/train/`` and ``OUT/eval/``, after the previous output has been removed, so a failed or killed
run never leaves partial shards where a trainer would read them.
"""
from __future__ import annotations

import json
import logging
import re
from collections import Counter, defaultdict
from typing import Iterable

from components.common import label_map, uris
from components.convert.split import SPLITS

logger = logging.getLogger(__name__)
MAX_EXAMPLES_PER_REASON = 5
PUBLISHED = ("train", "eval", "label_map.pbtxt", "label_map.csv", "eval_coco.json")
# Every path this converter writes below OUT (this layout's and the earlier one's); nothing else may be there
# when OUT lies inside the source.
_OWNED = re.compile(r"^(manifest\.json|stats\.json|errors\.jsonl|label_map\.(pbtxt|csv)|eval_coco\.json"
                    r"|(train|eval)/(train|eval)-\d{5}-of-\d{5}\.tfrecord|(gen|\.tmp|\.failed)-[^/]+/.+)$")


def check_owned(output: str, source: str) -> None:
    """Refuse an output folder inside the source that holds anything but this converter's files.

    Raises:
        ValueError: naming --output, --source and a file that is not the converter's.
    """
    foreign = next((rel for rel in uris.iter_files(output) if not _OWNED.match(rel)), None)
    if foreign is not None:
        raise ValueError(f"--output {output!r} lies inside --source {source!r} and holds {foreign!r}, which is "
                         "not a conversion's output: the conversion would replace dataset files. Choose an "
                         "--output outside the source, or an empty folder")


def shard_name(split: str, index: int, total: int) -> str:
    return f"{split}/{split}-{index:05d}-of-{total:05d}.tfrecord"


def coco_ground_truth(rows: Iterable, labels: dict[int, str]) -> dict:
    """COCO detection JSON of the eval split, for Model Garden's evaluator and the evaluate step."""
    images, annotations = [], []
    for w in sorted(rows, key=lambda r: r.key):
        images.append({"id": w.source_id, "file_name": w.key, "width": w.width, "height": w.height})
        for o in w.objects:
            annotations.append({"id": len(annotations) + 1, "image_id": w.source_id, "category_id": o.label,
                                "bbox": [o.x, o.y, o.width, o.height], "area": o.area,
                                "iscrowd": o.is_crowd})
    return {"info": {"description": "synthdet eval split"}, "images": images, "annotations": annotations,
            "categories": [{"id": i, "name": n, "supercategory": "object"} for i, n in sorted(labels.items())]}


def build_stats(counts: dict, errors: list[dict], context: dict, error_counts: dict | None = None) -> dict:
    """The ``stats.json`` document; ``error_counts`` (per reason) when ``errors`` lists only some."""
    skipped = Counter(error_counts) if error_counts is not None else Counter(e["reason"] for e in errors)
    examples: dict[str, list[str]] = defaultdict(list)
    for e in errors:
        if len(examples[e["reason"]]) < MAX_EXAMPLES_PER_REASON:
            examples[e["reason"]].append(e["file"])
    written = sum(counts.get("examples", {}).values())
    image_skips = sum(n for reason, n in skipped.items()
                      if reason in ("missing_image", "bad_image", "unsafe_path", "no_box_annotation",
                                    "bad_capture", "bad_image_record"))
    labels = context["labels"]
    return {
        "source": context["source"], "format": context["format"], "eval_pct": context["eval_pct"],
        "images_read": written + image_skips,
        "examples": {s: counts.get("examples", {}).get(s, 0) for s in SPLITS},
        "objects": {s: counts.get("objects", {}).get(s, 0) for s in SPLITS},
        "negative_examples": {s: counts.get("negatives", {}).get(s, 0) for s in SPLITS},
        "objects_per_class": {labels[i]: counts.get("per_class", {}).get(labels[i], 0) for i in sorted(labels)},
        "image_sizes": dict(sorted(counts.get("sizes", {}).items(), key=lambda kv: -kv[1])),
        "skipped": dict(sorted(skipped.items())),
        "skipped_examples": dict(sorted(examples.items())),
        "errors_listed": len(errors),
        "dropped_boxes": dict(sorted(counts.get("dropped", {}).items())),
        "warnings": dict(sorted(counts.get("warnings", {}).items())),
        "bad_fraction": round(image_skips / (written + image_skips), 6) if written + image_skips else 0.0,
        "superseded_attempts": list(context.get("superseded_attempts", [])),
        "labels": {str(i): n for i, n in sorted(labels.items())},
        "num_classes": label_map.num_classes(labels) if labels else 0,
        "num_object_classes": len(labels),
    }


def publish(output: str, temp_dir: str, shards: list, counts: dict, eval_rows: list,
            errors: list[dict], context: dict, error_counts: dict | None = None) -> dict:
    """Replace OUT's previous results with this run's; returns the stats written.

    ``errors`` are the lines of ``errors.jsonl``; ``error_counts`` the full count per reason when
    only the first of each reason are listed.

    The shards are published only when at least one example was written and the share of
    rejected images is within ``context["max_bad_fraction"]``; ``stats["ok"]`` says which.
    """
    stats = build_stats(counts, errors, context, error_counts)
    written = sum(stats["examples"].values())
    problems = []
    if written == 0:
        problems.append("no valid image was found")
    if stats["bad_fraction"] > context["max_bad_fraction"]:
        problems.append(f"{stats['bad_fraction']:.1%} of images were rejected, more than "
                        f"--max-bad-fraction {context['max_bad_fraction']:.1%}")
    stats["ok"], stats["problems"] = not problems, problems
    for name in PUBLISHED:
        target = uris.join(output, name)
        if name.endswith((".pbtxt", ".csv", ".json")):
            uris.delete(target)
        else:
            uris.delete_tree(target)
    outputs: dict[str, list[str]] = {s: [] for s in SPLITS}
    if stats["ok"]:
        for split in SPLITS:
            mine = sorted((s for s in shards if s.split == split and s.records), key=lambda s: s.path)
            for index, shard in enumerate(mine):
                final = uris.join(output, shard_name(split, index, len(mine)))
                uris.rename(shard.path, final)
                outputs[split].append(final)
        labels = context["labels"]
        uris.write_text(uris.join(output, "label_map.pbtxt"), label_map.to_pbtxt(labels))
        uris.write_text(uris.join(output, "label_map.csv"), label_map.to_csv(labels))
        uris.write_text(uris.join(output, "eval_coco.json"),
                        json.dumps(coco_ground_truth(eval_rows, labels)))
    stats["shards"] = {s: len(v) for s, v in outputs.items()}
    uris.write_text(uris.join(output, "errors.jsonl"), "".join(json.dumps(e) + "\n" for e in errors))
    uris.write_text(uris.join(output, "stats.json"), json.dumps(stats, indent=2))
    uris.delete_tree(temp_dir)
    logger.info("Published %d train and %d eval examples in %d+%d shards under %s",
                stats["examples"]["train"], stats["examples"]["eval"],
                stats["shards"]["train"], stats["shards"]["eval"], output)
    return stats


def format_summary(stats: dict, output: str) -> str:
    """A plain-text table of a conversion's result, for the terminal and component logs."""
    rows = [("output", output), ("format", stats["format"]),
            ("images read", stats["images_read"]),
            ("train examples", f"{stats['examples']['train']} ({stats['objects']['train']} objects)"),
            ("eval examples", f"{stats['examples']['eval']} ({stats['objects']['eval']} objects)"),
            ("classes", f"{stats['num_object_classes']} (num_classes incl. background: {stats['num_classes']})")]
    rows += [(f"  {name}", n) for name, n in stats["objects_per_class"].items()]
    rows += [(f"skipped: {reason}", n) for reason, n in stats["skipped"].items()]
    rows += [(f"dropped boxes: {reason}", n) for reason, n in stats["dropped_boxes"].items()]
    rows += [(f"images with {reason}", n) for reason, n in stats.get("warnings", {}).items()]
    if stats.get("superseded_attempts"):
        rows.append(("superseded attempts", len(stats["superseded_attempts"])))
    if "seconds" in stats:
        rows.append(("seconds", stats["seconds"]))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)
