"""What a conversion counted: the ``stats.json`` document, the checks it must pass, and its summary.

Pure functions over counts; ``outputs.publish`` writes what they return.
"""
from __future__ import annotations

from collections import Counter, defaultdict

from components.common import label_map, uris
from components.convert.split import SPLITS

# An image listed again (by the dedupe step, or by the plan within one dataset): not a rejection.
DUPLICATE_REASONS = frozenset({"duplicate_image", "repeated_image"})
# Errors of images the encode step read and rejected (the others were never read).
READ_REJECTS = frozenset({"bad_image"})
MAX_EXAMPLES_PER_REASON = 5


def bad_fraction(images_rejected: int, images_listed: int, share_lost_by_file_count: float) -> float:
    """The rejected share of the dataset that ``--max-bad-fraction`` bounds.

    Annotation files lost whole count by the images they held where known (those images are in
    ``images_rejected`` and ``images_listed``); a lost file of unknown size counts as its share of
    the annotation files, ``share_lost_by_file_count``, and the images measure the rest.
    """
    by_images = images_rejected / images_listed if images_listed else 0.0
    return share_lost_by_file_count + (1 - share_lost_by_file_count) * by_images


def build_stats(counts: dict, errors: list[dict], context: dict, error_counts: dict | None = None,
                lost: dict | None = None, sensors: dict | None = None) -> dict:
    """The ``stats.json`` document.

    ``error_counts`` (per reason) when ``errors`` lists only some; ``lost`` the whole annotation
    files lost (``transforms.LostFilesFn``); ``sensors`` the captures left out per (sensor, reason).
    """
    skipped = Counter(error_counts) if error_counts is not None else Counter(e["reason"] for e in errors)
    examples: dict[str, list[str]] = defaultdict(list)
    for e in errors:
        if len(examples[e["reason"]]) < MAX_EXAMPLES_PER_REASON:
            examples[e["reason"]].append(e["file"])
    lost = lost or {"count": 0, "images": 0, "unknown": 0, "files": []}
    written = sum(counts.get("examples", {}).values())
    duplicates = sum(skipped.get(reason, 0) for reason in DUPLICATE_REASONS)
    # Every error is a rejected image but a lost file's own line and a duplicate listing.
    images_rejected = sum(skipped.values()) - lost["count"] - duplicates
    images_listed = written + images_rejected + lost["images"]
    files = context.get("annotation_files", 0)
    by_files = lost["unknown"] / files if files else 0.0
    encode_rejected = sum(n for reason, n in skipped.items() if reason in READ_REJECTS)
    objects = sum(counts.get("objects", {}).values())
    dropped = sum(counts.get("dropped", {}).values())
    labels = context["labels"]
    return {
        "source": context["source"], "format": context["format"], "eval_pct": context["eval_pct"],
        "images_read": written + encode_rejected,
        "images_listed": images_listed,
        "images_rejected": images_rejected,
        "duplicate_images": duplicates,
        "examples": {s: counts.get("examples", {}).get(s, 0) for s in SPLITS},
        "objects": {s: counts.get("objects", {}).get(s, 0) for s in SPLITS},
        "negative_examples": {s: counts.get("negatives", {}).get(s, 0) for s in SPLITS},
        "objects_per_class": {labels[i]: counts.get("per_class", {}).get(labels[i], 0) for i in sorted(labels)},
        "image_sizes": dict(sorted(counts.get("sizes", {}).items(), key=lambda kv: -kv[1])),
        "skipped": dict(sorted(skipped.items())),
        "skipped_examples": dict(sorted(examples.items())),
        "errors_listed": len(errors),
        "annotation_files": files,
        "lost_annotation_files": lost["count"],
        "lost_annotation_files_listed": lost["files"],
        "images_in_lost_files": lost["images"],
        "lost_files_of_unknown_size": lost["unknown"],
        "share_lost_by_file_count": round(by_files, 6),
        "boxes_read": objects + dropped,
        "dropped_boxes": dict(sorted(counts.get("dropped", {}).items())),
        "dropped_box_fraction": round(dropped / (objects + dropped), 6) if objects + dropped else 0.0,
        "sensors": sensor_stats(counts.get("sensors", {}), sensors or {}),
        "warnings": dict(sorted(counts.get("warnings", {}).items())),
        "bad_fraction": round(bad_fraction(images_rejected + lost["images"], images_listed, by_files), 6),
        "superseded_attempts": list(context.get("superseded_attempts", [])),
        "labels": {str(i): n for i, n in sorted(labels.items())},
        "num_classes": label_map.num_classes(labels) if labels else 0,
        "num_object_classes": len(labels),
    }


def sensor_stats(examples: dict, skipped: dict) -> dict:
    """Per sensor id: examples written, captures left out on purpose and why (not rejections)."""
    out: dict[str, dict] = {}
    for sensor in sorted(set(examples) | {s for s, _ in skipped}):
        reasons = {r: n for (s, r), n in sorted(skipped.items()) if s == sensor}
        entry = {"examples": examples.get(sensor, 0), "skipped": sum(reasons.values())}
        if reasons:
            entry["reason"] = max(reasons, key=reasons.get)
        out[sensor] = entry
    return out


def check(stats: dict, context: dict) -> list[str]:
    """What makes this run unusable, as sentences; empty when it may be published."""
    problems = []
    if sum(stats["examples"].values()) == 0:
        problems.append("no valid image was found")
    if stats["bad_fraction"] > context["max_bad_fraction"]:
        lost = ""
        if stats["lost_annotation_files"]:
            lost = (f" (counting {stats['lost_annotation_files']} of {stats['annotation_files']} annotation "
                    f"files lost whole)")
        problems.append(f"{stats['bad_fraction']:.1%} of images were rejected{lost}, more than "
                        f"--max-bad-fraction {context['max_bad_fraction']:.1%}")
    boxes, dropped = stats["boxes_read"], sum(stats["dropped_boxes"].values())
    limit = context.get("max_dropped_box_fraction", 1.0)
    if boxes and (dropped == boxes or dropped / boxes > limit):
        top = sorted(stats["dropped_boxes"].items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        reasons = ", ".join(f"{reason} {n}" for reason, n in top)
        what = "every box was dropped" if dropped == boxes else "more than --max-dropped-box-fraction " \
                                                              f"{limit:.1%}"
        problems.append(f"{dropped} of {boxes} boxes read ({dropped / boxes:.1%}) were dropped: {what} "
                        f"({reasons})")
    return problems


def empty_splits(stats: dict, eval_pct: float) -> list[str]:
    """Splits the eval percentage asked for that got no example."""
    wanted = {"train": eval_pct < 100, "eval": eval_pct > 0}
    return [s for s in SPLITS if wanted[s] and stats["examples"][s] == 0]


def errors_file(stats: dict, output: str) -> str:
    """Where a run's ``errors.jsonl`` is: OUT's copy, or the failure record of a run that failed."""
    if stats.get("ok", True) or "run" not in stats:
        return uris.join(output, "errors.jsonl")
    return uris.join(output, f".failed-{stats['run']}", "errors.jsonl")


def format_summary(stats: dict, output: str, files_per_reason: int = 3) -> str:
    """A plain-text table of a conversion's result, for the terminal and component logs.

    Each skip reason names its first ``files_per_reason`` files; the rest are in ``errors.jsonl``.
    """
    rows = [("output", output if stats.get("ok", True) else f"{output} (nothing published)"),
            ("format", stats["format"]), ("images read", stats["images_read"]),
            ("train examples", f"{stats['examples']['train']} ({stats['objects']['train']} objects)"),
            ("eval examples", f"{stats['examples']['eval']} ({stats['objects']['eval']} objects)"),
            ("classes", f"{stats['num_object_classes']} (num_classes incl. background: {stats['num_classes']})")]
    rows += [(f"  {name}", n) for name, n in stats["objects_per_class"].items()]
    rows += [(f"empty split: {split}", "no examples") for split in stats.get("empty_splits", [])]
    for reason, n in stats["skipped"].items():
        named = stats.get("skipped_examples", {}).get(reason, [])[:files_per_reason]
        more = ", ..." if n > len(named) else ""
        rows.append((f"skipped: {reason}", f"{n} ({', '.join(named)}{more})" if named else n))
    if stats.get("lost_annotation_files"):
        named = [f["file"] for f in stats["lost_annotation_files_listed"][:files_per_reason]]
        more = ", ..." if stats["lost_annotation_files"] > len(named) else ""
        rows.append(("annotation files lost", f"{stats['lost_annotation_files']} of {stats['annotation_files']} "
                                              f"({', '.join(named)}{more})"))
    rows += [(f"dropped boxes: {reason}", n) for reason, n in stats["dropped_boxes"].items()]
    if stats["dropped_boxes"]:
        rows.append(("dropped boxes, share", f"{stats.get('dropped_box_fraction', 0.0):.1%} of "
                                             f"{stats.get('boxes_read', 0)} read"))
    for sensor, entry in stats.get("sensors", {}).items():
        left_out = f", {entry['skipped']} left out ({entry['reason']})" if entry["skipped"] else ""
        rows.append((f"sensor {sensor}", f"{entry['examples']} examples{left_out}"))
    rows += [(f"images with {reason}", n) for reason, n in stats.get("warnings", {}).items()]
    if stats.get("superseded_attempts"):
        rows.append(("superseded attempts", len(stats["superseded_attempts"])))
    if "bad_fraction" in stats:
        rows.append(("rejected share", f"{stats['bad_fraction']:.1%}"))
    rows += [("problem", p) for p in stats.get("problems", [])]
    if stats["skipped"]:
        rows.append(("every skipped file", errors_file(stats, output)))
    if "seconds" in stats:
        rows.append(("seconds", stats["seconds"]))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)
