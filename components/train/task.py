"""What the KFP ``train`` component does, as plain Python (the component only calls ``run_task``).

``plan_for_task`` turns the component parameters into the run's ``Settings`` and ``Vertex`` (None for a
local run), and ``check_launch`` makes every check on them that needs no data; ``pipeline.py submit``
calls both with placeholder artifact URIs, so a value the step would refuse is refused before a run.
"""
from __future__ import annotations

import logging
from dataclasses import fields
from typing import Any

from components.common import uris
from components.common.logs import configure
from components.train import job_spec, launcher, model_garden, preflight
from components.train.job_spec import Vertex
from components.train.settings import Settings, SettingsError

logger = logging.getLogger(__name__)

# Component parameters that are Settings fields (the paths, preset and resume are passed on their own).
SETTINGS_FIELDS = tuple(f.name for f in fields(Settings)
                        if f.name not in ("train_data", "eval_data", "label_map", "model_dir", "export_dir",
                                          "stats", "annotation_file", "preset", "resume"))
# The "unset" value of each parameter a preset fills in: the component (and the pipeline) default to
# it, and a parameter left at it takes the preset's value. Unset is 0 or "" where those are impossible
# values, -1 where 0 means something (no warm-up); num_eval_images -1 stays "the whole eval split".
UNSET: dict[str, Any] = {
    "train_batch_size": 0, "num_eval_images": 0, "train_steps_per_eval": 0, "max_steps": 0,
    "warmup_learning_rate": -1.0, "warmup_steps": -1, "initial_learning_rate": 0.0, "image_size": "",
    "fpn_type": "", "aug_scale_min": 0.0, "aug_scale_max": 0.0, "resnet_depth": 0, "init_checkpoint": "",
    "eval_batch_size": 0, "precision": "",
}
VERTEX_FIELDS = ("project", "region", "machine_type", "trainer_image", "trainer_tpu_image", "service_account",
                 "base_output_dir", "tensorboard", "timeout_s")
MODES = ("local", "vertex")
# Hardware parameters describe the Vertex machine; a local run uses whatever this machine has.
HARDWARE_FIELDS = ("accelerator_type", "accelerator_count", "tpu_topology", "replica_count")


def is_unset(name: str, value: Any) -> bool:
    """True when ``value`` leaves parameter ``name`` to the preset."""
    return value is None or (name in UNSET and type(value) is not bool and value == UNSET[name])


def settings_for_task(train_uri: str, eval_uri: str, label_map_uri: str, examples_uri: str, model_dir: str,
                      preset: str, resume: bool, params: dict) -> Settings:
    """Settings from component parameters; a parameter left unset (see UNSET) takes the preset's value.

    Raises:
        SettingsError: naming the field (= the component parameter) with an impossible value.
    """
    given = {k: v for k, v in params.items() if k in SETTINGS_FIELDS and not is_unset(k, v)}
    return Settings.create(
        preset, train_data=uris.join(train_uri, "*.tfrecord"), eval_data=uris.join(eval_uri, "*.tfrecord"),
        label_map=label_map_uri, stats=uris.join(examples_uri, "stats.json"),
        annotation_file=uris.join(examples_uri, "eval_coco.json"), model_dir=model_dir, resume=resume, **given)


def vertex_for_task(params: dict) -> Vertex:
    """The CustomJob's Vertex settings from component parameters (empty strings = not set)."""
    values = {k: params[k] for k in VERTEX_FIELDS if k in params}
    base = values.get("base_output_dir") or ""
    if base and not uris.is_gcs(base):
        raise SettingsError("base_output_dir", f"{base!r}: a CustomJob writes to a gs:// folder")
    return Vertex(**values)


def plan_for_task(mode: str, train_uri: str, eval_uri: str, label_map_uri: str, examples_uri: str,
                  model_dir: str, preset: str, resume: bool, params: dict) -> tuple[Settings, Vertex | None]:
    """(Settings, Vertex) of a run; Vertex is None for a local run, which ignores the hardware parameters."""
    if mode not in MODES:
        raise SettingsError("mode", f"expected one of {', '.join(MODES)}, got {mode!r}")
    params = dict(params)
    if mode == "local":
        ignored = {k: params.pop(k) for k in HARDWARE_FIELDS if k in params}
        logger.info("Local training uses this machine's devices; ignoring %s", ignored)
    settings = settings_for_task(train_uri, eval_uri, label_map_uri, examples_uri, model_dir, preset, resume,
                                 params)
    return settings, None if mode == "local" else vertex_for_task(params)


def check_launch(settings: Settings, vertex: Vertex | None) -> dict | None:
    """The checks the launch makes that need no data: the replica split of the batch, the Model Garden
    overrides and, for Vertex, the whole CustomJob (machine and accelerator pairing included).

    Returns the CustomJob dict (None for a local run). Raises SettingsError naming the field.
    """
    if settings.replicas:
        preflight.check_replicas(settings, settings.replicas)
    model_garden.overrides(settings, model_garden.runtime_for(settings), num_classes=2, annotation_file=None)
    return None if vertex is None else job_spec.custom_job(settings, vertex)


def run_task(train_data: Any, eval_data: Any, label_map: Any, examples: Any, model: Any, checkpoints: Any,
             metrics: Any, gcp_resources: str, mode: str, preset: str, model_dir: str, resume: bool,
             **params: Any) -> None:
    """Train into ``model_dir`` (default: the checkpoints artifact) and fill in the output artifacts."""
    configure()
    settings, vertex = plan_for_task(mode, train_data.uri, eval_data.uri, label_map.uri, examples.uri,
                                     model_dir or checkpoints.uri, preset, resume, params)
    layout, results = launcher.launch(settings, vertex, gcp_resources)
    checkpoints.uri = layout.model_dir
    model.uri = layout.saved_model_dir
    model.metadata.update({
        "framework": "tensorflow", "signatures": ["serving_default", "serving_tf_example"],
        "input_size": list(model_garden.input_size(settings)),
        "label_map": uris.join(layout.export_dir, "label_map.pbtxt"), "export_dir": layout.export_dir,
        "preset": settings.preset,
    })
    for key in ("AP", "AP50", "AP75", "APs", "APm", "APl", "ARmax100", "step", "train_seconds"):
        if key in results:
            metrics.log_metric(key, float(results[key]))
    logger.info("SavedModel at %s (AP50 %s)", model.uri, results.get("AP50"))
