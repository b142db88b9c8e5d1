r"""The training entrypoint: the same code in the Vertex AI container and on this machine.

Locally::

    python -m components.train.trainer --preset local --train-data 'GEN/train/*.tfrecord' \
        --eval-data 'GEN/eval/*.tfrecord' --label-map GEN/label_map.pbtxt --model-dir ./model

On Vertex AI the CustomJob's container runs ``python -m components.train.trainer <Settings.to_args()>``;
without ``--model-dir`` / ``--export-dir`` it takes ``AIP_CHECKPOINT_DIR`` / ``AIP_MODEL_DIR``, and it
writes TensorBoard summaries to ``AIP_TENSORBOARD_LOG_DIR`` when set. It trains with an evaluation
every ``train_steps_per_eval`` steps (Model Garden's train_and_eval, driven by Orbit), checkpoints
into the model dir, resumes from the latest checkpoint there, and exports a SavedModel at the end.

Two ``--params-override`` keys change how it runs (``pipeline.py demo`` sets both):

- ``task.train_data.seed=N`` seeds the whole run, not only the input shuffles: Python, NumPy and
  TensorFlow (weight initialisation, augmentation) via ``tf.keras.utils.set_random_seed``, with the
  inputs built in order on one tf.data thread, so two runs on one machine train the same model
  (``make_deterministic``).
- ``trainer.validation_steps=0`` trains without evaluating (Orbit refuses 0 steps of evaluation);
  the evaluate step scores the exported model instead.
"""
from __future__ import annotations

import argparse
import glob
import json
import logging
import os
import subprocess
import sys
import time
from typing import Any, Mapping, Sequence

from components.common import uris
from components.train import layout as layout_lib
from components.train import preflight
from components.train.model_garden import Runtime, build_params, runtime_for
from components.train.settings import Settings, add_arguments, from_namespace

logger = logging.getLogger(__name__)


def scalar_metrics(output: Mapping[str, Any] | None) -> dict[str, float]:
    """The numeric entries of an Orbit eval output (numpy scalars -> float)."""
    out = {}
    for key, value in (output or {}).items():
        try:
            out[key] = float(value)
        except (TypeError, ValueError):
            continue
    return out


def numpy_needs_annotation_file() -> bool:
    """NumPy >= 2.4 makes Model Garden 2.20's ground-truth conversion raise (``int()`` of a 1-element
    array in ``coco_utils.convert_groundtruths_to_coco_dataset``); an annotation file avoids that path."""
    import numpy

    major, minor = (int(p) for p in numpy.__version__.split(".")[:2])
    return (major, minor) >= (2, 4)


def annotation_file(layout: layout_lib.Layout, explicit: bool) -> str | None:
    """The eval COCO file if it exists; its absence is an error where the fallback path crashes."""
    if uris.exists(layout.annotation_file):
        return layout.annotation_file
    if explicit or numpy_needs_annotation_file():
        raise preflight.PreflightError("annotation_file", f"{layout.annotation_file} does not exist; the convert "
                                       "step writes eval_coco.json beside the label map")
    logger.warning("No %s: ground truth for COCO metrics comes from the eval records", layout.annotation_file)
    return None


def is_chief(environ: Mapping[str, str]) -> bool:
    """False on the extra workers of a multi-worker job; Vertex names pool 0 "chief" in TF_CONFIG."""
    task = json.loads(environ.get("TF_CONFIG") or "{}").get("task", {})
    return task.get("type", "chief") in ("chief", "master")


class DeviceError(preflight.PreflightError):
    """The machine lacks the accelerators the settings ask for."""


def check_devices(settings: Settings, visible_gpus: int, tpu_found: bool) -> None:
    """Refuse to train when the asked-for GPUs or TPU are not visible (rather than train on the CPU).

    Raises:
        DeviceError: fewer than ``accelerator_count`` GPUs are visible, or a TPU was asked for and none found.
    """
    kind, count = settings.accelerator_type, settings.accelerator_count
    if settings.is_gpu and visible_gpus < count:
        raise DeviceError("accelerator_count", f"asked for {count} x {kind} but TensorFlow sees {visible_gpus} "
                          "GPU(s); the NVIDIA driver libraries are missing or not on LD_LIBRARY_PATH (Vertex "
                          "mounts them under /usr/local/nvidia/lib64), or the machine has fewer GPUs")
    if settings.is_tpu and not tpu_found:
        raise DeviceError("accelerator_type", f"asked for {kind} but this machine shows no TPU (no TensorFlow "
                          "TPU device, no /dev/accel* or /dev/vfio device); run on a TPU VM with the "
                          "synthdet-train-tpu image")


def tpu_found() -> bool:
    """Whether this machine has a TPU: a TensorFlow TPU device, or the TPU device files of a TPU VM."""
    import tensorflow as tf

    if tf.config.list_physical_devices("TPU"):
        return True
    return bool(glob.glob("/dev/accel[0-9]*") or glob.glob("/dev/vfio/[0-9]*"))


def detect_runtime(settings: Settings) -> Runtime:
    """The strategy for this machine, after checking it has the accelerators ``settings`` ask for."""
    import tensorflow as tf

    visible = len(tf.config.list_physical_devices("GPU"))
    check_devices(settings, visible_gpus=visible, tpu_found=settings.is_tpu and tpu_found())
    gpus = 0 if settings.accelerator_type else visible
    return runtime_for(settings, visible_gpus=gpus)


def _summary_managers(layout: layout_lib.Layout, trainer) -> dict:
    """Write summaries to AIP_TENSORBOARD_LOG_DIR (streamed by Vertex TensorBoard) when it is elsewhere."""
    if layout.tensorboard_dir == layout.model_dir:
        return {}
    import orbit
    import tensorflow as tf

    step = trainer.global_step
    return {"summary_manager": orbit.utils.SummaryManager(
                uris.join(layout.tensorboard_dir, "train"), tf.summary.scalar, global_step=step),
            "eval_summary_manager": orbit.utils.SummaryManager(
                uris.join(layout.tensorboard_dir, "validation"), tf.summary.scalar, global_step=step)}


def seed(params) -> int | None:
    """The run's seed: ``task.train_data.seed``, or None for an unseeded run."""
    return params.task.train_data.seed


def evaluates(params) -> bool:
    """Whether training evaluates every ``validation_interval`` steps (``validation_steps`` 0: never)."""
    return params.trainer.validation_steps != 0


def make_deterministic(task, value: int) -> None:
    """Seed Python, NumPy and TensorFlow (weights, augmentation) and make ``task``'s inputs repeatable.

    The inputs are built with one tf.data thread and in order: the parser's augmentation draws its
    random numbers one image after another, so each image gets the same draw on every run.
    TensorFlow's own ``enable_op_determinism`` would do that by rewriting the parallel map, which
    fails on Model Garden's parser in TensorFlow 2.20 ("input[0] == '^args_3', is not found").
    """
    import tensorflow as tf

    tf.keras.utils.set_random_seed(value)
    build = task.build_inputs
    options = tf.data.Options()
    options.deterministic = True
    options.threading.private_threadpool_size = 1

    def build_inputs(params, input_context=None):
        return build(params, input_context).with_options(options)

    task.build_inputs = build_inputs


def train(settings: Settings, environ: Mapping[str, str] | None = None) -> dict[str, float]:
    """Train (evaluating as it goes, unless ``trainer.validation_steps`` is 0), then export.

    Returns the last evaluation's metrics (AP, AP50, ...), the step and the training seconds.
    """
    from official.common import distribute_utils
    from official.core import task_factory, train_lib, train_utils
    from official.modeling import performance

    environ = environ if environ is not None else os.environ
    layout = layout_lib.resolve(settings, environ)
    runtime = detect_runtime(settings)
    checked = preflight.check(settings, layout, replicas=runtime.replicas, check_dir=False)
    if checked.checkpoint_step is None:  # a resumed run restores the model dir instead
        preflight.check_init_checkpoint(settings)
    annotations = annotation_file(layout, bool(settings.annotation_file))
    params = build_params(settings, runtime, checked.num_classes, annotations, checked.eval_examples)
    evaluate = evaluates(params)
    logger.info("Training RetinaNet (ResNet-%d, %s, input %s, %d classes) on %s x%d: %s -> %s, steps %s..%d, "
                "%s, seed %s", settings.resnet_depth, settings.fpn_type, params.task.model.input_size[:2],
                checked.num_classes, runtime.strategy, runtime.replicas, settings.train_data, layout.model_dir,
                checked.checkpoint_step or 0, settings.max_steps,
                f"eval every {settings.train_steps_per_eval}" if evaluate else "no evaluation", seed(params))
    train_utils.serialize_config(params, layout.model_dir)
    if params.runtime.mixed_precision_dtype:
        performance.set_mixed_precision_policy(params.runtime.mixed_precision_dtype)
    strategy = distribute_utils.get_distribution_strategy(
        distribution_strategy=params.runtime.distribution_strategy, all_reduce_alg=params.runtime.all_reduce_alg,
        num_gpus=params.runtime.num_gpus, tpu_address=params.runtime.tpu)
    evaluations: list[dict[str, float]] = []
    started = time.monotonic()
    with strategy.scope():
        task = task_factory.get_task(params.task, logging_dir=layout.model_dir)
        if seed(params) is not None:
            make_deterministic(task, seed(params))
        trainer = train_utils.create_trainer(params, task, train=True, evaluate=evaluate)

    def record(output) -> None:
        evaluations.append({**scalar_metrics(output), "step": float(trainer.global_step.numpy()),
                            "seconds": round(time.monotonic() - started, 1)})

    train_lib.run_experiment(
        distribution_strategy=strategy, task=task, mode="train_and_eval" if evaluate else "train", params=params,
        model_dir=layout.model_dir, trainer=trainer, eval_actions=[record], **_summary_managers(layout, trainer))
    elapsed = time.monotonic() - started
    metrics = {k: v for k, v in evaluations[-1].items() if k != "seconds"} if evaluations else {}
    metrics.update(step=float(trainer.global_step.numpy()), train_seconds=round(elapsed, 1))
    if not is_chief(environ):
        logger.info("Worker done at step %d; the chief exports", metrics["step"])
        return metrics
    uris.write_text(layout.metrics_file, json.dumps(metrics, indent=2, sort_keys=True))
    history = [{k: e[k] for k in ("step", "seconds", "AP", "AP50") if k in e} for e in evaluations]
    uris.write_text(layout.history_file, json.dumps(history, indent=1))
    if evaluations:
        logger.info("Trained to step %d in %.0f s; last evaluation: AP %.3f, AP50 %.3f", metrics["step"], elapsed,
                    metrics.get("AP", float("nan")), metrics.get("AP50", float("nan")))
    else:
        logger.info("Trained to step %d in %.0f s (no evaluation during training)", metrics["step"], elapsed)
    export_in_subprocess(layout, settings.label_map)
    return metrics


def export_in_subprocess(layout: layout_lib.Layout, label_map: str) -> None:
    """Export from a fresh process: float32 graph, no training state, no accelerator strategy."""
    command = [sys.executable, "-m", "components.train.export", "--model-dir", layout.model_dir,
               "--export-dir", layout.export_dir, "--label-map", label_map]
    logger.info("Exporting the SavedModel to %s", layout.saved_model_dir)
    done = subprocess.run(command, check=False)
    if done.returncode:
        raise RuntimeError(f"export to {layout.export_dir} failed (exit {done.returncode}): {' '.join(command)}")


def parse(argv: Sequence[str] | None, environ: Mapping[str, str]) -> Settings:
    parser = argparse.ArgumentParser(prog="python -m components.train.trainer", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser, optional=("model_dir",))
    ns = parser.parse_args(argv)
    filled = layout_lib.with_vertex_dirs(vars(ns), environ)
    if not filled.get("model_dir"):
        parser.error("--model-dir is required (or AIP_CHECKPOINT_DIR from Vertex AI)")
    return from_namespace(argparse.Namespace(**filled))


def main(argv: Sequence[str] | None = None) -> int:
    from components.common.logs import configure

    configure()
    try:
        settings = parse(argv, os.environ)
        train(settings)
    except preflight.SettingsError as err:
        logger.error("%s", err)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
