import logging

import pytest

from components.train.model_garden import (Runtime, build_params, eval_batch_and_steps, init_checkpoint, overrides,
                                           runtime_for, steps_per_loop)
from components.train.settings import RESNET50_IMAGENET, Settings, SettingsError

BASE = dict(train_data="gs://b/out/train/*.tfrecord", eval_data="gs://b/out/eval/*.tfrecord",
            label_map="gs://b/out/label_map.pbtxt", model_dir="gs://b/runs/r1")
GPU = Runtime("mirrored", 1, 1)


def seed(**changes) -> Settings:
    return Settings.create("seed", **BASE, **changes)


def test_seed_flags_land_on_the_model_garden_keys(caplog):
    settings = seed(accelerator_type="NVIDIA_TESLA_P100", accelerator_count=1)
    with caplog.at_level(logging.INFO, logger="components.train.model_garden"):
        params = build_params(settings, runtime_for(settings), 64, "gs://b/out/eval_coco.json")
    assert "padded up to 1024,1280" in caplog.text
    task, trainer, runtime = params.task, params.trainer, params.runtime
    assert task.model.num_classes == 64 and list(task.model.input_size) == [1024, 1280, 3]
    assert task.model.decoder.type == "nasfpn" and task.model.backbone.resnet.model_id == 50
    assert task.train_data.global_batch_size == 16 and task.train_data.input_path == BASE["train_data"]
    assert task.train_data.parser.aug_scale_min == 0.8 and task.train_data.parser.aug_scale_max == 1.2
    assert task.train_data.parser.aug_rand_hflip is True
    assert task.validation_data.input_path == BASE["eval_data"] and task.validation_data.global_batch_size == 8
    assert task.annotation_file == "gs://b/out/eval_coco.json"
    assert task.init_checkpoint == RESNET50_IMAGENET and task.init_checkpoint_modules == "backbone"
    assert trainer.train_steps == 75000 and trainer.validation_interval == 2000
    assert trainer.validation_steps == 25 and trainer.checkpoint_interval == 2000
    assert trainer.steps_per_loop == 500 and trainer.summary_interval == 500
    opt = trainer.optimizer_config
    assert opt.learning_rate.type == "cosine" and opt.learning_rate.cosine.initial_learning_rate == 0.001
    assert opt.learning_rate.cosine.decay_steps == 75000
    assert opt.warmup.linear.warmup_steps == 500 and opt.warmup.linear.warmup_learning_rate == 0.01
    assert runtime.distribution_strategy == "mirrored" and runtime.num_gpus == 1
    assert runtime.mixed_precision_dtype == "float32" and task.train_data.dtype == "float32"  # P100: no fast fp16
    with pytest.raises(ValueError, match="locked"):
        params.override({"task": {"model": {"num_classes": 3}}})


def test_learning_rate_schedule_ramps_from_warmup_to_the_cosine_start():
    from official.core import task_factory
    from official.core.train_utils import create_optimizer

    params = build_params(seed(init_checkpoint="none"), Runtime("one_device"), 4, None)
    optimizer = create_optimizer(task_factory.get_task(params.task), params)
    schedule = optimizer.learning_rate
    assert float(schedule(0)) == pytest.approx(0.01)
    assert float(schedule(500)) == pytest.approx(0.001, rel=1e-3)
    assert float(schedule(75000)) == pytest.approx(0.0, abs=1e-6)


def test_local_preset_is_small_and_offline():
    settings = Settings.create("local", **BASE)
    params = build_params(settings, Runtime("one_device"), 4, None)
    model = params.task.model
    # 192x256 holds a 320x240 scene without padding: levels 3-6 need multiples of 64, not 128.
    assert list(model.input_size) == [192, 256, 3] and (model.min_level, model.max_level) == (3, 6)
    assert model.backbone.resnet.model_id == 18 and params.trainer.optimizer_config.optimizer.type == "adam"
    assert model.backbone.resnet.depth_multiplier == 0.5 and model.head.num_filters == 64
    assert model.decoder.type == "fpn" and model.decoder.fpn.num_filters == 64
    assert params.task.init_checkpoint is None and params.task.annotation_file is None
    assert params.trainer.validation_steps == -1 and params.trainer.steps_per_loop == 100
    assert params.runtime.distribution_strategy == "one_device"


def test_float16_gets_a_dynamic_loss_scale_and_tpu_bfloat16():
    t4 = seed(accelerator_type="NVIDIA_TESLA_T4", accelerator_count=1)
    over = overrides(t4, runtime_for(t4), 4, None)
    assert over["runtime"]["mixed_precision_dtype"] == "float16" and over["runtime"]["loss_scale"] == "dynamic"
    assert over["task"]["validation_data"]["dtype"] == "float16"
    tpu = seed(accelerator_type="TPU_V3", accelerator_count=8)
    over = overrides(tpu, runtime_for(tpu), 4, None)
    assert over["runtime"]["distribution_strategy"] == "tpu" and over["runtime"]["tpu"] == "local"
    assert over["runtime"]["mixed_precision_dtype"] == "bfloat16"


def test_params_override_passes_through_last_and_is_checked():
    params = build_params(seed(params_override="task.model.head.num_convs=2,trainer.max_to_keep=3"),
                          GPU, 4, None)
    assert params.task.model.head.num_convs == 2 and params.trainer.max_to_keep == 3
    with pytest.raises(SettingsError, match="--params-override"):
        build_params(seed(params_override="task.model.no_such_key=1"), GPU, 4, None)
    with pytest.raises(SettingsError, match="2\\*\\*max_level = 256"):
        build_params(seed(image_size="896,1280", params_override="task.model.max_level=8"), GPU, 4, None)


def test_fpn_and_other_backbones():
    params = build_params(seed(fpn_type="fpn", resnet_depth=101, image_size="896,1280"), GPU, 10, None)
    assert params.task.model.decoder.type == "fpn" and params.task.model.backbone.resnet.model_id == 101
    assert list(params.task.model.input_size) == [896, 1280, 3]
    assert params.task.init_checkpoint is None  # no ImageNet checkpoint for ResNet-101


def test_init_checkpoint_choices():
    assert init_checkpoint(seed()) == RESNET50_IMAGENET
    assert init_checkpoint(seed(init_checkpoint="none")) is None
    assert init_checkpoint(seed(init_checkpoint="gs://b/ckpt-1")) == "gs://b/ckpt-1"


def test_runtime_follows_the_hardware():
    assert runtime_for(seed()) == Runtime("one_device", 0, 1)
    assert runtime_for(seed(), visible_gpus=2) == Runtime("mirrored", 2, 2)
    assert runtime_for(seed(accelerator_type="NVIDIA_L4", accelerator_count=4)) == Runtime("mirrored", 4, 4)
    multi = runtime_for(seed(accelerator_type="NVIDIA_L4", accelerator_count=2, replica_count=3))
    assert multi == Runtime("multi_worker_mirrored", 2, 6)
    v5e = runtime_for(seed(accelerator_type="TPU_V5_LITEPOD", tpu_topology="2x4"))
    assert v5e == Runtime("tpu", 0, 8, tpu="local")


def test_loop_sizes_divide_the_eval_interval():
    assert steps_per_loop(seed(train_steps_per_eval=2000), GPU) == 500
    assert steps_per_loop(seed(train_steps_per_eval=700), GPU) == 350
    assert steps_per_loop(seed(train_steps_per_eval=700), Runtime("one_device")) == 100
    assert steps_per_loop(seed(train_steps_per_eval=7), Runtime("one_device")) == 7


def test_eval_batches_cover_num_eval_images_and_divide_over_replicas():
    assert eval_batch_and_steps(seed(), GPU) == (8, 25)
    assert eval_batch_and_steps(seed(num_eval_images=5), GPU) == (5, 1)
    assert eval_batch_and_steps(seed(num_eval_images=-1), GPU) == (8, -1)
    assert eval_batch_and_steps(seed(eval_batch_size=12), Runtime("tpu", 0, 8)) == (8, 25)
    assert eval_batch_and_steps(seed(num_eval_images=3), Runtime("tpu", 0, 8)) == (8, 1)
    assert eval_batch_and_steps(seed(num_eval_images=-1), GPU, eval_examples=7) == (7, -1)


def test_partial_eval_batches_are_kept_except_on_tpu():
    gpu = overrides(seed(), GPU, 4, None)["task"]["validation_data"]
    tpu = overrides(seed(accelerator_type="TPU_V2", accelerator_count=8), Runtime("tpu", 0, 8), 4, None)
    assert gpu["drop_remainder"] is False and tpu["task"]["validation_data"]["drop_remainder"] is True
