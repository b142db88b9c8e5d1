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
from typing import Iterable

from components.common import label_map, manifest, uris
from components.convert.split import SPLITS
from components.convert.stats import build_stats, check, empty_splits


logger = logging.getLogger(__name__)
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
