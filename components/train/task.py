"""What the KFP ``train`` component does, as plain Python (the component only calls ``run_task``)."""
from __future__ import annotations

import logging
from dataclasses import fields
from typing import Any

from components.common import uris
from components.common.logs import configure
from components.train import launcher
from components.train.job_spec import Vertex
from components.train.model_garden import MAX_LEVEL
from components.train.settings import Settings, SettingsError, pad_to_multiple

logger = logging.getLogger(__name__)

# Component parameters that are Settings fields, with the seed defaults the component declares.
SEED_DEFAULTS = {f.name: f.default for f in fields(Settings)
                 if f.name not in ("train_data", "eval_data", "label_map", "model_dir", "export_dir", "stats",
                                   "annotation_file", "preset", "resume")}
VERTEX_FIELDS = ("project", "region", "machine_type", "trainer_image", "service_account",
                 "base_output_dir", "tensorboard", "timeout_s")


MODES = ("local", "vertex")
# Hardware parameters describe the Vertex machine; a local run uses whatever this machine has.
HARDWARE_FIELDS = ("accelerator_type", "accelerator_count", "tpu_topology", "replica_count")


def settings_for_task(train_uri: str, eval_uri: str, label_map_uri: str, examples_uri: str, model_dir: str,
                      preset: str, resume: bool, params: dict) -> Settings:
    """Settings from component parameters; a parameter left at its seed default takes the preset's value."""
    given = {k: v for k, v in params.items() if k in SEED_DEFAULTS and v != SEED_DEFAULTS[k]}
    return Settings.create(
        preset, train_data=uris.join(train_uri, "*.tfrecord"), eval_data=uris.join(eval_uri, "*.tfrecord"),
        label_map=label_map_uri, stats=uris.join(examples_uri, "stats.json"),
        annotation_file=uris.join(examples_uri, "eval_coco.json"), model_dir=model_dir, resume=resume, **given)


def vertex_for_task(params: dict) -> Vertex:
    values = {k: params[k] for k in VERTEX_FIELDS if k in params}
    return Vertex(**values)


def run_task(train_data: Any, eval_data: Any, label_map: Any, examples: Any, model: Any, checkpoints: Any,
             metrics: Any, gcp_resources: str, mode: str, preset: str, model_dir: str, resume: bool,
             **params: Any) -> None:
    """Train into ``model_dir`` (default: the checkpoints artifact) and fill in the output artifacts."""
    configure()
    if mode not in MODES:
        raise SettingsError("mode", f"expected one of {', '.join(MODES)}, got {mode!r}")
    local = mode == "local"
    if local:
        ignored = {k: params.pop(k) for k in HARDWARE_FIELDS if k in params}
        logger.info("Local training uses this machine's devices; ignoring %s", ignored)
    settings = settings_for_task(train_data.uri, eval_data.uri, label_map.uri, examples.uri,
                                 model_dir or checkpoints.uri, preset, resume, params)
    vertex = None if local else vertex_for_task(params)
    if local:
        with open(gcp_resources, "w") as f:
            f.write('{"resources": []}')
    layout, results = launcher.launch(settings, vertex, gcp_resources)
    checkpoints.uri = layout.model_dir
    model.uri = layout.saved_model_dir
    model.metadata.update({
        "framework": "tensorflow", "signatures": ["serving_default", "serving_tf_example"],
        "input_size": list(pad_to_multiple(settings.image_hw, 2 ** MAX_LEVEL)),
        "label_map": uris.join(layout.export_dir, "label_map.pbtxt"), "export_dir": layout.export_dir,
        "preset": settings.preset,
    })
    for key in ("AP", "AP50", "AP75", "APs", "APm", "APl", "ARmax100", "step", "train_seconds"):
        if key in results:
            metrics.log_metric(key, float(results[key]))
    logger.info("SavedModel at %s (AP50 %s)", model.uri, results.get("AP50"))
