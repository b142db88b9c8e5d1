"""Settings -> a locked Model Garden RetinaNet ExperimentConfig.

Start from the registered ``retinanet_resnetfpn_coco`` experiment, apply one override dict built from
``Settings`` (``overrides``), then the preset's extra keys, then the user's ``params_override``;
validate and lock. Nothing here reads flags or the environment.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from components.train.settings import RESNET50_IMAGENET, Settings, SettingsError, pad_to_multiple

logger = logging.getLogger(__name__)

EXPERIMENT = "retinanet_resnetfpn_coco"
# Feature levels 3..max; each input side is padded up to a multiple of 2**max. The local preset's small
# inputs stop at level 6: level 7 would be a 2x2 grid, and 192 would be padded to 256.
MAX_LEVEL = 7
PRESET_MAX_LEVEL = {"seed": MAX_LEVEL, "local": 6}
# Records are shuffled before decoding; the COCO default (10000) holds ~20 GB of 1280x960 PNGs.
SHUFFLE_BUFFER = 1000
# Extra Model Garden keys per preset. "local": a half-width backbone and slim FPN and heads, which
# cost little accuracy on simple scenes and make a CPU step about 15 times cheaper; and Adam, which
# from random weights reaches a given loss in fewer steps than the seed's SGD, and more surely (README).
PRESET_OVERRIDES: dict[str, dict[str, Any]] = {
    "seed": {},
    "local": {"task": {"model": {"backbone": {"resnet": {"depth_multiplier": 0.5}},
                                 "head": {"num_convs": 2, "num_filters": 64},
                                 "decoder": {"fpn": {"num_filters": 64}}},
                       "train_data": {"shuffle_buffer_size": 256}},
              "trainer": {"optimizer_config": {"optimizer": {"type": "adam"}}}},
}


@dataclass(frozen=True)
class Runtime:
    """How this process trains: distribution strategy and replica count."""

    strategy: str       # one_device, mirrored, multi_worker_mirrored or tpu
    num_gpus: int = 0
    replicas: int = 1
    tpu: str | None = None


def runtime_for(settings: Settings, visible_gpus: int = 0) -> Runtime:
    """The strategy for ``settings``' hardware; ``visible_gpus`` decides when no accelerator is named."""
    if settings.is_tpu:
        return Runtime("tpu", 0, settings.replicas or 1, tpu="local")
    gpus = settings.accelerator_count if settings.is_gpu else visible_gpus
    if settings.replica_count > 1:
        return Runtime("multi_worker_mirrored", gpus, max(gpus, 1) * settings.replica_count)
    if gpus:
        return Runtime("mirrored", gpus, gpus)
    return Runtime("one_device", 0, 1)


def max_level(settings: Settings) -> int:
    """The highest feature level of ``settings``' preset."""
    return PRESET_MAX_LEVEL[settings.preset]


def input_size(settings: Settings) -> tuple[int, int]:
    """The model's input (height, width): the image size padded up to a multiple of 2**max_level."""
    return pad_to_multiple(settings.image_hw, 2 ** max_level(settings))


def init_checkpoint(settings: Settings) -> str | None:
    value = settings.init_checkpoint.strip()
    if value == "auto":
        return RESNET50_IMAGENET if settings.resnet_depth == 50 else None
    return None if value.lower() in ("", "none", "null") else value


def steps_per_loop(settings: Settings, runtime: Runtime) -> int:
    """The largest divisor of train_steps_per_eval up to 500 (100 on CPU, for steadier progress logs)."""
    cap = 100 if runtime.strategy == "one_device" and not runtime.num_gpus else 500
    interval = settings.train_steps_per_eval
    return max(d for d in range(1, min(cap, interval) + 1) if interval % d == 0)


def eval_batch_and_steps(settings: Settings, runtime: Runtime, eval_examples: int | None = None) -> tuple[int, int]:
    """Global eval batch (a multiple of the replicas) and validation steps (-1 = whole split).

    The batch never exceeds the images to evaluate: a split smaller than one batch would give none.
    """
    batch = settings.eval_batch_size
    if settings.num_eval_images > 0:
        batch = min(batch, settings.num_eval_images)
    if eval_examples:
        batch = min(batch, eval_examples)
    batch = max(runtime.replicas, batch // runtime.replicas * runtime.replicas)
    if settings.num_eval_images == -1:
        return batch, -1
    return batch, max(1, settings.num_eval_images // batch)


def overrides(settings: Settings, runtime: Runtime, num_classes: int, annotation_file: str | None,
              eval_examples: int | None = None) -> dict:
    """The one override dict for the preset experiment. ``num_classes`` counts the background;
    ``eval_examples`` is the eval split's size when known (stats.json)."""
    height, width = input_size(settings)
    dtype = settings.mixed_precision()
    eval_batch, eval_steps = eval_batch_and_steps(settings, runtime, eval_examples)
    loop = steps_per_loop(settings, runtime)
    data = {"dtype": dtype}
    return {
        "runtime": {
            "distribution_strategy": runtime.strategy, "num_gpus": runtime.num_gpus, "tpu": runtime.tpu,
            "mixed_precision_dtype": dtype, "loss_scale": "dynamic" if dtype == "float16" else None,
        },
        "task": {
            "init_checkpoint": init_checkpoint(settings),
            "init_checkpoint_modules": "backbone",
            "annotation_file": annotation_file or None,
            "model": {
                "num_classes": num_classes,
                "input_size": [height, width, 3],
                "min_level": 3, "max_level": max_level(settings),
                "backbone": {"type": "resnet", "resnet": {"model_id": settings.resnet_depth}},
                "decoder": {"type": settings.fpn_type},
            },
            "train_data": {
                **data, "input_path": settings.train_data, "global_batch_size": settings.train_batch_size,
                "shuffle_buffer_size": SHUFFLE_BUFFER,
                "parser": {"aug_rand_hflip": True, "aug_scale_min": settings.aug_scale_min,
                           "aug_scale_max": settings.aug_scale_max},
            },
            # A last partial batch is evaluated too, except on TPUs, which need static shapes.
            "validation_data": {**data, "input_path": settings.eval_data, "global_batch_size": eval_batch,
                                "drop_remainder": runtime.strategy == "tpu"},
        },
        "trainer": {
            "train_steps": settings.max_steps,
            "validation_interval": settings.train_steps_per_eval,
            "validation_steps": eval_steps,
            "steps_per_loop": loop, "summary_interval": loop,
            "checkpoint_interval": settings.train_steps_per_eval,
            "optimizer_config": {
                "optimizer": {"type": "sgd", "sgd": {"momentum": 0.9}},
                "learning_rate": {"type": "cosine", "cosine": {
                    "initial_learning_rate": settings.initial_learning_rate, "decay_steps": settings.max_steps}},
                "warmup": {"type": "linear", "linear": {
                    "warmup_steps": settings.warmup_steps,
                    "warmup_learning_rate": settings.warmup_learning_rate}},
            },
        },
    }


def build_params(settings: Settings, runtime: Runtime, num_classes: int, annotation_file: str | None,
                 eval_examples: int | None = None):
    """The locked ExperimentConfig. Raises SettingsError for a bad params_override or input size."""
    from official.core import exp_factory
    from official.modeling.hyperparams import params_dict
    from official.vision import registry_imports  # noqa: F401  (registers the experiments)

    padded, top = input_size(settings), max_level(settings)
    if padded != settings.image_hw:
        logger.info("image_size %s is padded up to %d,%d (each side a multiple of %d for levels 3-%d)",
                    settings.image_size, padded[0], padded[1], 2 ** top, top)
    params = exp_factory.get_exp_config(EXPERIMENT)
    params.override(overrides(settings, runtime, num_classes, annotation_file, eval_examples), is_strict=True)
    params.override(PRESET_OVERRIDES[settings.preset], is_strict=True)
    if settings.params_override:
        try:
            params_dict.override_params_dict(params, settings.params_override, is_strict=True)
        except (KeyError, ValueError, TypeError, AttributeError) as err:
            raise SettingsError("params_override", f"{settings.params_override!r} does not apply: {err}") from err
    model = params.task.model
    multiple = 2 ** model.max_level
    if any(side % multiple for side in model.input_size[:2]):
        raise SettingsError("params_override", f"input size {model.input_size[:2]} is not a multiple of "
                            f"2**max_level = {multiple}")
    params.validate()
    params.lock()
    return params
