"""Checks that run before any expensive work; each failure names the flag to fix.

``check(settings, layout, remote=..., replicas=...)`` runs them all and returns what the trainer
needs from the files (label map, Model Garden's num_classes, eval count, checkpoint step).
"""
from __future__ import annotations

import json
import logging
import os
import re
import threading
from dataclasses import dataclass

from components.common import label_map, manifest, uris
from components.train import model_garden
from components.train.layout import Layout
from components.train.settings import Settings, SettingsError

logger = logging.getLogger(__name__)
_CHECKPOINT_PATH = re.compile(r'^model_checkpoint_path:\s*"([^"]+)"', re.MULTILINE)


class PreflightError(SettingsError):
    """The run cannot work as configured (raised before training or submission)."""


@dataclass(frozen=True)
class Checked:
    labels: dict[int, str]
    num_classes: int               # Model Garden's meaning: highest label id + 1
    eval_examples: int | None      # from stats.json; None when there is no stats file
    checkpoint_step: int | None    # latest checkpoint in the model dir, if any


def match_files(patterns: str) -> list[str]:
    """Files matching a glob or comma-separated globs, local or gs://.

    ``uris.glob``: ``*`` stays within one path segment, as in TensorFlow's ``gfile.glob``, which
    the trainer reads the records with.
    """
    found: list[str] = []
    for pattern in (p.strip() for p in patterns.split(",") if p.strip()):
        found += uris.glob(pattern)
    return found


def read_labels(settings: Settings) -> dict[int, str]:
    try:
        text = uris.read_text(settings.label_map)
    except (FileNotFoundError, OSError) as err:
        raise PreflightError("label_map", f"cannot read {settings.label_map}: {err}") from err
    try:
        return label_map.parse_pbtxt(text, settings.label_map)
    except ValueError as err:
        raise PreflightError("label_map", str(err)) from err


def read_stats(path: str) -> dict | None:
    try:
        return json.loads(uris.read_text(path))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as err:
        raise PreflightError("stats", f"cannot read {path}: {err}") from err


def check_num_classes(settings: Settings, labels: dict[int, str], stats: dict | None) -> int:
    """Model Garden's num_classes (max id + 1). ``settings.num_classes`` counts object classes."""
    highest = max(labels)
    if settings.num_classes and settings.num_classes != highest:
        raise PreflightError("num_classes", f"{settings.num_classes} disagrees with {settings.label_map}, whose "
                             f"labels run up to id {highest} ({len(labels)} classes); use {highest} or leave it unset")
    if stats is not None:
        data_classes = int(stats.get("num_classes", 0))
        if data_classes > highest + 1:
            raise PreflightError("label_map", f"the records use label ids up to {data_classes - 1} (stats.json) but "
                                 f"{settings.label_map} stops at {highest}; higher ids would train as background")
        names = {int(k): v for k, v in stats.get("labels", {}).items()}
        clash = {i: (n, labels.get(i)) for i, n in names.items() if labels.get(i) != n}
        if clash:
            raise PreflightError("label_map", f"{settings.label_map} disagrees with stats.json on ids {clash}")
    return highest + 1


def check_eval_count(settings: Settings, stats: dict | None, stats_path: str) -> int | None:
    if stats is None:
        logger.warning("No stats file at %s: --num-eval-images is not checked against the eval split", stats_path)
        return None
    examples = stats.get("examples", {})
    train, evaluation = int(examples.get("train", 0)), int(examples.get("eval", 0))
    if train < 1:
        raise PreflightError("train_data", f"{stats_path} counts no train examples")
    if evaluation < 1:
        raise PreflightError("eval_data", f"{stats_path} counts no eval examples")
    if settings.replicas and evaluation < settings.replicas:
        raise PreflightError("eval_data", f"{evaluation} eval examples ({stats_path}) cannot fill one batch "
                             f"over {settings.replicas} replicas")
    if settings.num_eval_images > evaluation:
        raise PreflightError("num_eval_images", f"{settings.num_eval_images} is more than the {evaluation} eval "
                             f"examples in {stats_path}")
    return evaluation


def checkpoint_step(model_dir: str) -> int | None:
    """The step of the latest checkpoint named in ``<model_dir>/checkpoint``, or None."""
    try:
        text = uris.read_text(uris.join(model_dir, "checkpoint"))
    except (FileNotFoundError, OSError):
        return None
    found = _CHECKPOINT_PATH.search(text)
    digits = re.search(r"-(\d+)$", found.group(1)) if found else None
    return int(digits.group(1)) if digits else None


def check_model_dir(settings: Settings, model_dir: str) -> int | None:
    """Empty unless resuming; a resumed run must still have steps to train."""
    step = checkpoint_step(model_dir)
    if settings.resume:
        if step is None:
            raise PreflightError("resume", f"no checkpoint to resume from in {model_dir}")
        if settings.max_steps <= step:
            raise PreflightError("max_steps", f"{settings.max_steps} is not above the checkpoint's step {step} in "
                                 f"{model_dir}; the run would only evaluate and stop")
        return step
    if uris.exists(model_dir) and next(uris.iter_files(model_dir), None) is not None:
        detail = f" (checkpoint at step {step})" if step is not None else ""
        raise PreflightError("model_dir", f"{model_dir} is not empty{detail}; pass --resume to continue, "
                             "or choose an empty directory")
    return None


def check_replicas(settings: Settings, replicas: int) -> None:
    if settings.train_batch_size % replicas:
        raise PreflightError("train_batch_size", f"{settings.train_batch_size} does not divide over {replicas} "
                             "replicas; use a multiple of the replica count")


def check_paths(settings: Settings, layout: Layout, remote: bool) -> None:
    """TPU training needs gs:// data and output; a Vertex job cannot see this machine's files."""
    names = {"train_data": settings.train_data, "eval_data": settings.eval_data,
             "model_dir": layout.model_dir, "export_dir": layout.export_dir}
    if settings.is_tpu:
        for name, value in names.items():
            if not uris.is_gcs(value):
                raise PreflightError(name, f"TPU training reads and writes gs:// only, got {value!r}")
    if remote:
        names.update(label_map=settings.label_map, annotation_file=layout.annotation_file)
        for name, value in names.items():
            if not (uris.is_gcs(value) or value.startswith("/gcs/")):
                raise PreflightError(name, f"a Vertex AI job cannot read local paths; got {value!r} (use gs://)")


def check_data(settings: Settings) -> None:
    for name in ("train_data", "eval_data"):
        if not match_files(getattr(settings, name)):
            raise PreflightError(name, f"{getattr(settings, name)!r} matches no files")


def check_manifest(settings: Settings) -> None:
    """Shards of a conversion output with ``manifest.json`` must be the published ones, whole (names, sizes)."""
    for name in ("train_data", "eval_data"):
        for pattern in (p.strip() for p in getattr(settings, name).split(",") if p.strip()):
            try:
                manifest.check_data(pattern)
            except manifest.ManifestError as err:
                raise PreflightError(name, str(err)) from err


def _gcs_exists(path: str, timeout_s: float) -> bool:
    """``tf.io.gfile.exists`` bounded to ``timeout_s``; raises OSError when it errs or does not answer in time."""
    import tensorflow as tf

    answer: dict = {}

    def ask() -> None:
        try:
            answer["exists"] = tf.io.gfile.exists(path)
        except (tf.errors.OpError, OSError) as err:
            answer["error"] = err

    asker = threading.Thread(target=ask, name="init-checkpoint-check", daemon=True)
    asker.start()
    asker.join(timeout_s)
    if asker.is_alive():
        raise OSError(f"no answer within {timeout_s:g} s")
    if "error" in answer:
        raise OSError(getattr(answer["error"], "message", None) or str(answer["error"]))
    return answer["exists"]


def check_init_checkpoint(settings: Settings, *, timeout_s: float = 10.0) -> str | None:
    """The backbone checkpoint Model Garden will read (``<path>.index``, or a folder with a ``checkpoint`` file).

    Returns the path checked (None when there is none). A gs:// path gets one attempt of at most
    ``timeout_s``: without network or credentials TensorFlow would otherwise fail deep inside model building.
    """
    path = model_garden.init_checkpoint(settings)
    if path is None:
        return None
    candidates = (path + ".index", path.rstrip("/") + "/checkpoint")
    try:
        if uris.is_gcs(path):
            found = any(_gcs_exists(candidate, timeout_s) for candidate in candidates)
        else:
            found = any(os.path.isfile(uris.local_path(candidate)) for candidate in candidates)
        reason = f"{candidates[0]} does not exist"
    except OSError as err:
        found, reason = False, f"cannot reach {candidates[0]}: {err}"
    if not found:
        raise PreflightError("init_checkpoint", f"{reason}. Pass --init-checkpoint none to start from random "
                             "weights, or --preset local for a small run without it, or copy the checkpoint "
                             "(its .index and .data-* files) to a bucket this machine can read and pass "
                             "--init-checkpoint gs://BUCKET/PATH/ckpt-N")
    return path


def check(settings: Settings, layout: Layout, *, remote: bool = False, replicas: int | None = None,
          check_dir: bool = True) -> Checked:
    """Run every check; ``check_dir=False`` skips the model-dir test (a restarted worker resumes)."""
    check_paths(settings, layout, remote)
    if replicas or settings.replicas:
        check_replicas(settings, replicas or settings.replicas or 1)
    labels = read_labels(settings)
    stats = read_stats(layout.stats)
    if stats is None and settings.stats:
        raise PreflightError("stats", f"{settings.stats} does not exist")
    num_classes = check_num_classes(settings, labels, stats)
    evaluation = check_eval_count(settings, stats, layout.stats)
    check_data(settings)
    check_manifest(settings)
    step = check_model_dir(settings, layout.model_dir) if check_dir else checkpoint_step(layout.model_dir)
    return Checked(labels=labels, num_classes=num_classes, eval_examples=evaluation, checkpoint_step=step)
