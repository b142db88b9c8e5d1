import pytest

from components.train.settings import PRESETS, Settings, SettingsError, pad_to_multiple, parse_args, parse_image_size

REQUIRED = dict(train_data="d/train/*.tfrecord", eval_data="d/eval/*.tfrecord", label_map="d/label_map.pbtxt",
                model_dir="m")


def make(**changes) -> Settings:
    return Settings(**{**REQUIRED, **changes})


def test_defaults_are_the_seed_flags():
    s = make()
    assert (s.train_batch_size, s.num_eval_images, s.train_steps_per_eval, s.max_steps) == (16, 200, 2000, 75000)
    assert (s.warmup_learning_rate, s.warmup_steps, s.initial_learning_rate) == (0.01, 500, 0.001)
    assert (s.image_size, s.fpn_type, s.aug_scale_min, s.aug_scale_max) == ("960,1280", "nasfpn", 0.8, 1.2)
    assert s.num_classes == 0 and s.resnet_depth == 50 and s.preset == "seed"


def test_local_preset_fills_defaults_and_given_values_win():
    s = Settings.create("local", **REQUIRED, max_steps=300, train_batch_size=None)
    assert s.preset == "local" and s.max_steps == 300
    assert s.train_batch_size == 8 and s.image_hw == (192, 256) and s.resnet_depth == 18
    assert s.fpn_type == "fpn" and s.init_checkpoint == "none" and s.mixed_precision() == "float32"
    assert s.num_eval_images == -1


@pytest.mark.parametrize("text, expected", [("960,1280", (960, 1280)), (" 128 , 256 ", (128, 256))])
def test_image_size_is_height_comma_width(text, expected):
    assert parse_image_size(text) == expected


@pytest.mark.parametrize("text", ["960x1280", "960", "a,b", "960,1280,3", "-5,100", "16,16", ""])
def test_malformed_image_size_is_an_error_naming_the_flag(text):
    with pytest.raises(SettingsError, match="--image-size") as err:
        make(image_size=text)
    assert err.value.field == "image_size"


def test_padding_rounds_each_side_up_to_the_multiple():
    assert pad_to_multiple((960, 1280), 128) == (1024, 1280)
    assert pad_to_multiple((128, 130), 128) == (128, 256)


@pytest.mark.parametrize("changes, flag", [
    (dict(train_batch_size=0), "--train-batch-size"),
    (dict(max_steps=0), "--max-steps"),
    (dict(num_eval_images=0), "--num-eval-images"),
    (dict(num_eval_images=-2), "--num-eval-images"),
    (dict(num_classes=-1), "--num-classes"),
    (dict(warmup_steps=75000), "--warmup-steps"),
    (dict(initial_learning_rate=0.0), "--initial-learning-rate"),
    (dict(fpn_type="bifpn"), "--fpn-type"),
    (dict(aug_scale_min=1.5), "--aug-scale-min"),
    (dict(resnet_depth=19), "--resnet-depth"),
    (dict(precision="int8"), "--precision"),
    (dict(preset="huge"), "--preset"),
    (dict(model_dir=""), "--model-dir"),
    (dict(accelerator_type="NVIDIA_K80", accelerator_count=1), "--accelerator-type"),
    (dict(accelerator_type="NVIDIA_L4"), "--accelerator-count"),
    (dict(accelerator_count=2), "--accelerator-count"),
    (dict(accelerator_type="TPU_V2", accelerator_count=4), "--accelerator-count"),
    (dict(accelerator_type="TPU_V5_LITEPOD"), "--tpu-topology"),
    (dict(accelerator_type="NVIDIA_L4", accelerator_count=1, tpu_topology="2x2"), "--tpu-topology"),
    (dict(accelerator_type="TPU_V3", accelerator_count=8, replica_count=2), "--replica-count"),
])
def test_impossible_values_fail_on_construction(changes, flag):
    with pytest.raises(SettingsError, match=flag):
        make(**changes)


def test_hardware_decides_replicas_and_precision():
    assert make().replicas is None and make().mixed_precision() == "float32"
    t4 = make(accelerator_type="NVIDIA_TESLA_T4", accelerator_count=2, replica_count=3)
    assert t4.replicas == 6 and t4.mixed_precision() == "float16"
    assert make(accelerator_type="NVIDIA_L4", accelerator_count=1).mixed_precision() == "bfloat16"
    v3 = make(accelerator_type="TPU_V3", accelerator_count=8)
    assert v3.is_tpu and v3.replicas == 8 and v3.mixed_precision() == "bfloat16"
    assert make(accelerator_type="TPU_V5_LITEPOD", tpu_topology="2x2").replicas == 4
    assert make(accelerator_type="NVIDIA_L4", accelerator_count=1, precision="float32").mixed_precision() == "float32"


def test_flags_round_trip_through_the_container_args():
    s = Settings.create("local", **REQUIRED, resume=True, params_override="-x: 1\n--y: 2",
                        accelerator_type="NVIDIA_L4", accelerator_count=2, max_steps=123)
    args = s.to_args()
    assert "--resume" in args and "--max-steps=123" in args and "--stats=" in args
    assert parse_args(args) == s
    assert parse_args(make().to_args()) == make()


def test_presets_only_name_settings_fields():
    names = set(Settings.__dataclass_fields__)
    for values in PRESETS.values():
        assert set(values) <= names


def test_the_seed_tutorials_underscore_flags_are_accepted():
    seed = ["--train_data=d/train/*.tfrecord", "--eval_data=d/eval/*.tfrecord", "--label_map=d/label_map.pbtxt",
            "--model_dir=m", "--train_batch_size=16", "--num_eval_images=200", "--image_size=960,1280",
            "--max_steps=3000", "--fpn_type=fpn"]
    s = parse_args(seed)
    assert s == make(train_batch_size=16, num_eval_images=200, image_size="960,1280", max_steps=3000, fpn_type="fpn")
    dashed = [name.replace("_", "-") + "=" + value for name, value in (a.split("=", 1) for a in seed)]
    assert parse_args(dashed) == s


def test_every_settings_flag_answers_to_its_underscore_spelling_and_help_shows_the_dashed_one():
    import argparse

    from components.train.__main__ import build_parser
    from components.train.settings import add_arguments, flag

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    by_dest = {a.dest: a.option_strings for a in parser._actions}
    for name in Settings.__dataclass_fields__:
        if "_" in name:
            assert by_dest[name] == [flag(name), "--" + name]
    args = build_parser().parse_args([f"--{k}={v}" for k, v in REQUIRED.items()] + ["--resume", "--local"])
    assert args.train_data == REQUIRED["train_data"] and args.resume is True and args.local is True
    assert "--train-batch-size TRAIN_BATCH_SIZE, --train_batch_size" in build_parser().format_help()
