"""Component parameters -> Settings and Vertex: unset parameters take the preset's values, given ones stay."""
import inspect

import pytest

from components.train.component import train
from components.train.settings import PRESETS, SettingsError
from components.train.task import (SETTINGS_FIELDS, UNSET, check_launch, is_unset, plan_for_task,
                                   settings_for_task, vertex_for_task)

DATA = "gs://b/out"
SEED = dict(train_batch_size=16, num_eval_images=200, train_steps_per_eval=2000, max_steps=75000,
            warmup_learning_rate=0.01, warmup_steps=500, initial_learning_rate=0.001, image_size="960,1280",
            fpn_type="nasfpn", aug_scale_min=0.8, aug_scale_max=1.2, resnet_depth=50, init_checkpoint="auto",
            eval_batch_size=8, precision="auto")


def component_defaults() -> dict:
    """The train component's declared parameter defaults (what a pipeline that sets nothing passes)."""
    return {n: p.default for n, p in inspect.signature(train.python_func).parameters.items()
            if p.default is not inspect.Parameter.empty}


def settings(preset: str, **given):
    params = {k: v for k, v in {**component_defaults(), **given}.items()
              if k not in ("mode", "preset", "model_dir", "resume")}
    return settings_for_task(f"{DATA}/train", f"{DATA}/eval", f"{DATA}/label_map.pbtxt", DATA, "gs://b/model",
                             preset, False, params)


def test_nothing_set_with_the_seed_preset_is_the_seed_configuration():
    got = settings("seed")
    assert {k: getattr(got, k) for k in SEED} == SEED


def test_nothing_set_with_the_local_preset_is_the_local_configuration():
    got = settings("local")
    assert {k: getattr(got, k) for k in PRESETS["local"]} == PRESETS["local"]


def test_a_value_equal_to_a_seed_default_is_kept_under_another_preset():
    # Left at its seed default, batch 16 used to be taken for "unset" and replaced by the local 8.
    got = settings("local", train_batch_size=16, image_size="960,1280", fpn_type="nasfpn", resnet_depth=50)
    assert (got.train_batch_size, got.image_size, got.fpn_type, got.resnet_depth) == (16, "960,1280", "nasfpn", 50)
    assert got.max_steps == PRESETS["local"]["max_steps"]  # still unset: the preset's


def test_zero_warmup_is_a_value_not_unset():
    got = settings("seed", warmup_steps=0, warmup_learning_rate=0.0)
    assert (got.warmup_steps, got.warmup_learning_rate) == (0, 0.0)


def test_the_component_defaults_are_the_unset_values():
    defaults = component_defaults()
    assert {k: defaults[k] for k in UNSET} == UNSET
    # Every value a preset sets can be left unset, and every unset parameter is a Settings field.
    assert all(set(p) <= set(UNSET) for p in PRESETS.values()) and set(UNSET) <= set(SETTINGS_FIELDS)
    assert is_unset("max_steps", 0) and not is_unset("max_steps", 1) and not is_unset("params_override", "x")


def test_impossible_values_name_the_parameter():
    with pytest.raises(SettingsError, match="--train-batch-size") as err:
        settings("seed", train_batch_size=-3)
    assert err.value.field == "train_batch_size"


def test_plan_checks_the_mode_and_local_runs_ignore_the_hardware():
    params = {**component_defaults(), "project": "p", "region": "us-central1"}
    rest = {k: v for k, v in params.items() if k not in ("mode", "preset", "model_dir", "resume")}
    with pytest.raises(SettingsError, match="--mode") as err:
        plan_for_task("gke", f"{DATA}/train", f"{DATA}/eval", f"{DATA}/lm.pbtxt", DATA, "gs://b/m", "seed", False,
                      rest)
    assert err.value.field == "mode"
    odd = {**rest, "accelerator_type": "NVIDIA_NOPE", "accelerator_count": 3}
    got, vertex = plan_for_task("local", f"{DATA}/train", f"{DATA}/eval", f"{DATA}/lm.pbtxt", DATA, "gs://b/m",
                                "seed", False, odd)
    assert vertex is None and got.accelerator_type == "" and check_launch(got, vertex) is None
    assert odd["accelerator_type"] == "NVIDIA_NOPE"  # the caller's dict is left as it was


def test_vertex_output_dir_must_be_gcs():
    with pytest.raises(SettingsError, match="--base-output-dir") as err:
        vertex_for_task({"project": "p", "region": "us-central1", "base_output_dir": "/tmp/x"})
    assert err.value.field == "base_output_dir"
    assert vertex_for_task({"project": "p", "region": "us-central1", "base_output_dir": "gs://b/x"}).base_output_dir


def test_check_launch_builds_the_custom_job_and_splits_the_batch():
    image = "europe-docker.pkg.dev/acme/synthdet/synthdet-train:7"
    vertex = vertex_for_task({"project": "p", "region": "us-central1", "trainer_image": image})
    job = check_launch(settings("seed", accelerator_type="NVIDIA_L4", accelerator_count=1), vertex)
    pool = job["job_spec"]["worker_pool_specs"][0]
    assert pool["machine_spec"]["accelerator_type"] == "NVIDIA_L4" and pool["container_spec"]["image_uri"] == image
    with pytest.raises(SettingsError) as err:
        check_launch(settings("seed", accelerator_type="NVIDIA_L4", accelerator_count=1),
                     vertex_for_task({"project": "p", "region": "us-central1", "trainer_image": image,
                                      "machine_type": "n1-standard-16"}))
    assert err.value.field == "machine_type"
    with pytest.raises(SettingsError) as err:
        check_launch(settings("seed", accelerator_type="NVIDIA_TESLA_T4", accelerator_count=4, train_batch_size=6),
                     vertex)
    assert err.value.field == "train_batch_size"
