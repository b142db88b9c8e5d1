"""The finalize step: publish shards, label map, COCO file and stats as OUT's new generation.

Shards are written by the workers under ``OUT/.tmp-<run>/``; only here are they moved into
``OUT/gen-<run>/train/`` and ``OUT/gen-<run>/eval/``, beside the previous generation, which
``OUT/manifest.json`` keeps naming until the new one is complete (components/common/manifest.py).
A failed or killed run never changes what a reader going by the manifest sees.

    OUT/manifest.json                       the commit point, written last
    OUT/gen-<run>/{train,eval}/*.tfrecord   the shards
    OUT/gen-<run>/{label_map.pbtxt,label_map.csv,eval_coco.json,stats.json,errors.jsonl}
    OUT/{label_map.pbtxt,...,stats.json}    copies of those five, written just before the manifest
    OUT/.failed-<run>/{stats.json,errors.jsonl}   the latest failed run's, until a run passes
"""
from __future__ import annotations

import json
import logging
import re
import time
from collections import Counter, defaultdict
from typing import Iterable

from components.common import label_map, manifest, uris
from components.convert.split import SPLITS

# An image listed again (by the dedupe step, or by the plan within one dataset): not a rejection.
DUPLICATE_REASONS = frozenset({"duplicate_image", "repeated_image"})
# Errors of images the encode step read and rejected (the others were never read).
READ_REJECTS = frozenset({"bad_image"})

logger = logging.getLogger(__name__)
MAX_EXAMPLES_PER_REASON = 5
_LEGACY_SHARD = re.compile(r"^(train|eval)/(train|eval)-\d{5}-of-\d{5}\.tfrecord$")
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
    """COCO detection JSON of the eval split, for Model Garden's evaluator and the evaluate step.

    Built by ``components.common.coco_truth`` from the values the records hold, as evaluate builds it.

    Raises:
        ImageIdError: two eval records share an ``image/source_id``.
    """
    from components.common.coco_truth import coco_ground_truth as from_records
    from components.convert.examples import record_truth

    return from_records((record_truth(w.key, w.source_id, w.width, w.height, w.objects) for w in rows), labels)


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


def run_id(temp_dir: str) -> str:
    """The run's id, from its temporary folder ``OUT/.tmp-<run>``."""
    name = temp_dir.rstrip("/").rsplit("/", 1)[-1]
    return name[len(".tmp-"):] if name.startswith(".tmp-") else name


def publish(output: str, temp_dir: str, shards: list, counts: dict, eval_rows: list,
            errors: list[dict], context: dict, error_counts: dict | None = None,
            lost: dict | None = None, sensors: dict | None = None) -> dict:
    """Publish this run's shards and files as OUT's new generation; returns the stats written.

    ``errors`` are the lines of ``errors.jsonl``; ``error_counts`` the full count per reason when
    only the first of each reason are listed; ``lost`` and ``sensors`` as in ``build_stats``.

    The shards are published only when at least one example was written, the share of rejected
    images is within ``context["max_bad_fraction"]`` and the share of dropped boxes within
    ``context["max_dropped_box_fraction"]`` (``check``); ``stats["ok"]`` says which. A run
    that fails writes its stats and errors to ``OUT/.failed-<run>/`` and leaves the published
    output as it was. A run that passes moves its shards into ``OUT/gen-<run>/``, writes its files
    there and copies of them into OUT, and then ``OUT/manifest.json``: only that write switches
    readers to the new generation. The old generation, temporary folders and generations of
    killed runs are removed after it. Killed anywhere, a retry of the same run (Beam retries the
    step) finishes the job, and the next run cleans up.
    """
    stats = build_stats(counts, errors, context, error_counts, lost, sensors)
    for f in stats["lost_annotation_files_listed"]:
        held = (f"{f['images']} images" if f["images"] is not None
                else f"images unknown, counted as 1 of {stats['annotation_files']} annotation files")
        logger.warning("Annotation file %s was lost whole (%s; %s): counted as rejected", f["file"], f["reason"],
                       held)
    if stats["lost_annotation_files"] > len(stats["lost_annotation_files_listed"]):
        logger.warning("%d more annotation files were lost whole: see errors.jsonl",
                       stats["lost_annotation_files"] - len(stats["lost_annotation_files_listed"]))
    stats["empty_splits"] = empty_splits(stats, context["eval_pct"])
    for split in stats["empty_splits"]:
        logger.warning("The %s split is empty (eval_pct %s, %d examples in all)", split, context["eval_pct"],
                       sum(stats["examples"].values()))
    problems = check(stats, context)
    stats["ok"], stats["problems"] = not problems, problems
    run = run_id(temp_dir)
    stats["run"] = run
    current = _current(output)
    if current is not None and current.get("run") == run:
        logger.info("Run %s is already published under %s; finishing its clean-up", run, output)
        _clean(output, current["generation"], temp_dir)
        return json.loads(uris.read_text(uris.join(output, current["files"]["stats.json"]["path"])))
    error_lines = "".join(json.dumps(e) + "\n" for e in errors)
    if not stats["ok"]:
        failed = uris.join(output, f".failed-{run}")
        stats["shards"] = {s: 0 for s in SPLITS}
        uris.write_text(uris.join(failed, "errors.jsonl"), error_lines)
        uris.write_text(uris.join(failed, "stats.json"), json.dumps(stats, indent=2))
        _clean(output, current["generation"] if current else None, temp_dir, keep_failed=f".failed-{run}",
               legacy=False)
        logger.warning("Nothing published: %s. Stats and errors are in %s; the previous output in %s is as it was",
                       "; ".join(problems), failed, output)
        return stats
    generation = f"gen-{run}"
    folder = uris.join(output, generation)
    listed: dict[str, list[tuple[str, int]]] = {s: [] for s in SPLITS}
    for split in SPLITS:
        mine = sorted((s for s in shards if s.split == split and s.records), key=lambda s: s.path)
        for index, shard in enumerate(mine):
            name = shard_name(split, index, len(mine))
            _move(shard.path, uris.join(folder, name))
            listed[split].append((name, shard.records))
    stats["shards"] = {s: len(v) for s, v in listed.items()}
    stats["generation"] = generation
    labels = context["labels"]
    files = {"label_map.pbtxt": label_map.to_pbtxt(labels), "label_map.csv": label_map.to_csv(labels),
             "eval_coco.json": json.dumps(coco_ground_truth(eval_rows, labels)), "errors.jsonl": error_lines,
             "stats.json": json.dumps(stats, indent=2)}
    for name, text in files.items():
        uris.write_text(uris.join(folder, name), text)
    found = manifest.sizes(folder)
    document = {
        "version": manifest.VERSION, "run": run, "generation": generation,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "splits": {split: {"file_pattern": f"{generation}/{split}/{split}-*.tfrecord",
                           "examples": stats["examples"][split],
                           "shards": [{"path": f"{generation}/{name}", "records": records, "bytes": found[name]}
                                      for name, records in names]}
                   for split, names in listed.items()},
        "files": {name: {"path": f"{generation}/{name}", "bytes": found[name]} for name in files},
    }
    # Copies for readers that take OUT/stats.json or OUT/label_map.pbtxt; the manifest names the originals.
    for name, text in files.items():
        uris.write_text(uris.join(output, name), text)
    uris.write_text(uris.join(output, manifest.MANIFEST), json.dumps(document, indent=2))
    _clean(output, generation, temp_dir)
    logger.info("Published %d train and %d eval examples in %d+%d shards under %s",
                stats["examples"]["train"], stats["examples"]["eval"],
                stats["shards"]["train"], stats["shards"]["eval"], folder)
    return stats


def _current(output: str) -> dict | None:
    """OUT's manifest, or None when there is none (a first run, or output in the earlier layout)."""
    try:
        return manifest.read_manifest(output)
    except FileNotFoundError:
        return None


def _move(src: str, dst: str) -> None:
    """Move one shard; one that an earlier attempt of this run already moved is left where it is."""
    if uris.is_file(src):
        uris.rename(src, dst)
    elif not uris.is_file(dst):
        raise FileNotFoundError(f"shard {src} is gone and {dst} was never written")


def _clean(output: str, keep: str | None, temp_dir: str, keep_failed: str | None = None,
           legacy: bool = True) -> None:
    """Remove what no reader needs: generations other than ``keep``, every ``.tmp-*`` folder,
    ``.failed-*`` folders but ``keep_failed`` and, when ``legacy``, shards of the earlier layout
    (``OUT/train/``, ``OUT/eval/``)."""
    uris.delete_tree(temp_dir)
    tops = set()
    for rel in uris.iter_files(output):
        top = rel.split("/", 1)[0]
        if legacy and _LEGACY_SHARD.match(rel):
            uris.delete(uris.join(output, rel))
        elif "/" in rel:
            tops.add(top)
    for top in sorted(tops):
        if ((top.startswith("gen-") and top != keep) or top.startswith(".tmp-")
                or (top.startswith(".failed-") and top != keep_failed)):
            uris.delete_tree(uris.join(output, top))


def last_stats(output: str) -> dict:
    """The stats of the latest run into ``output``: its failure record, else the published generation's.

    A run that passes removes every ``.failed-*`` folder and one that fails leaves only its own, so
    a failure record means the latest run failed.
    """
    failures = uris.glob(uris.join(output, ".failed-*", "stats.json"))
    if failures:
        return json.loads(uris.read_text(failures[-1]))
    doc = manifest.read_manifest(output)
    return json.loads(uris.read_text(uris.join(output, doc["files"]["stats.json"]["path"])))


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
