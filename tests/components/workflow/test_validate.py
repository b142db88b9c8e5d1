"""Submit-time validation: the steps' own settings, built from pipeline parameters, name the parameter."""
import pytest

import pipeline
from components.convert.task import settings_for_task as convert_settings
from components.workflow.submit import pipeline_parameters, typed_defaults
from components.workflow.validate import STEPS, ParameterError, validate_parameters

REGISTRY = "europe-docker.pkg.dev/acme/synthdet"
FROM_BUCKET = {"dataset_uri": "gs://acme-ml/run", "project": "acme", "dataflow_temp_location": "gs://acme-ml/tmp"}
FROM_UNITY = {"unity_project_id": "1c2d3e4f-0000-4000-8000-00000000abcd", "run_definition_id": "El64GVP",
              "run_execution_id": "5M6wq80", "bucket": "acme-synth-data", "project": "acme",
              "usim_token_secret": "projects/acme/secrets/usim/versions/2",
              "dataflow_temp_location": "gs://acme-ml/tmp"}


@pytest.fixture(scope="module")
def defaults(tmp_path_factory):
    path = pipeline.compile_pipeline(str(tmp_path_factory.mktemp("compiled") / "pipeline.yaml"))
    return typed_defaults(pipeline_parameters(path))


@pytest.fixture(autouse=True)
def registry(monkeypatch):
    # Without a compiled spec the checks use the images this environment would compile in.
    monkeypatch.setenv("SYNTHDET_IMAGE_REGISTRY", REGISTRY)


def check(defaults, base, **given):
    validate_parameters({**defaults, **base, **given})


@pytest.mark.parametrize("base", [FROM_BUCKET, FROM_UNITY])
def test_the_defaults_pass(defaults, base):
    check(defaults, base)


def test_eval_pct_100_is_accepted_as_the_converter_accepts_it(defaults):
    convert_settings("gs://b/d", "gs://b/o", 100.0, "auto", 0.05, "DirectRunner", "", "", "", "", 0, 0, "", "", [])
    check(defaults, FROM_BUCKET, eval_pct=100.0)
    with pytest.raises(ParameterError, match=r"^--param eval_pct 100.5: expected a percentage in \[0, 100\]"):
        check(defaults, FROM_BUCKET, eval_pct=100.5)


@pytest.mark.parametrize("given, parameter, text", [
    ({"max_bad_fraction": 2.0}, "max_bad_fraction", "expected a fraction in [0, 1]"),
    ({"max_dropped_box_fraction": -0.1}, "max_dropped_box_fraction", "expected a fraction"),
    ({"dataset_format": "cocoa"}, "dataset_format", "expected one of auto"),
    ({"convert_runner": "Flink"}, "convert_runner", "expected one of DirectRunner, DataflowRunner"),
    ({"dataflow_max_workers": -2}, "dataflow_max_workers", "worker count"),
    ({"dataflow_temp_location": "/tmp/t"}, "dataflow_temp_location", "gs://"),
    ({"project": ""}, "project", "DataflowRunner needs"),
    ({"training_mode": "gke"}, "training_mode", "expected one of local, vertex"),
    ({"training_preset": "huge"}, "training_preset", "expected one of seed, local"),
    ({"region": "mars"}, "region", "expected a region such as us-central1"),
    ({"training_output_dir": "/tmp/x"}, "training_output_dir", "gs://"),
    ({"accelerator_type": "NVIDIA_L4", "machine_type": "n1-standard-16"}, "machine_type", "n1-standard-16"),
    ({"accelerator_type": "NVIDIA_TESLA_K80"}, "accelerator_type", "NVIDIA_TESLA_K80"),
    ({"accelerator_type": "TPU_V3"}, "accelerator_count", "8"),
    ({"accelerator_type": "TPU_V3", "accelerator_count": 8, "train_batch_size": 12}, "train_batch_size", "8"),
    ({"image_size": "960x1280"}, "image_size", "height,width"),
    ({"fpn_type": "bifpn"}, "fpn_type", "fpn, nasfpn"),
    ({"train_steps_per_eval": -1}, "train_steps_per_eval", "at least 1"),
    ({"warmup_steps": 80000}, "warmup_steps", "is not below --param max_steps 75000"),
    ({"tensorboard": "projects/p/locations/l/tensorboards/1"}, "service_account", "service account"),
    ({"min_map": 1.5}, "min_map", "expected a value in [0, 1]"),
    ({"dataset_uri": "/local/run"}, "dataset_uri", "gs://"),
    ({"real_dataset_uri": "photos/"}, "real_dataset_uri", "gs://"),
])
def test_a_value_a_step_refuses_is_refused_naming_the_parameter(defaults, given, parameter, text):
    with pytest.raises(ParameterError) as err:
        check(defaults, FROM_BUCKET, **given)
    message = str(err.value)
    assert err.value.parameter == parameter and message.startswith(f"--param {parameter}")
    assert text in message
    assert f"--{parameter.replace('_', '-')}" not in message  # the flag the user never typed


@pytest.mark.parametrize("given, parameter", [
    ({"bucket": "Acme_Data"}, "bucket"),
    ({"bucket": "gs://acme/sub"}, "bucket"),
    ({"run_execution_id": "../x"}, "run_execution_id"),
    ({"unity_project_id": "not a project"}, "unity_project_id"),
    ({"transfer_poll_interval": 900.0}, "transfer_poll_interval"),
    ({"usim_token_secret": "usim-token"}, "usim_token_secret"),
    ({"usim_token_secret": ""}, "usim_token_secret"),
    ({"buckets_root": "/tmp/buckets"}, "buckets_root"),
    ({"bucket": ""}, "bucket"),
])
def test_transfer_values_are_checked_with_the_transfer_settings(defaults, given, parameter):
    with pytest.raises(ParameterError) as err:
        check(defaults, FROM_UNITY, **given)
    assert err.value.parameter == parameter and str(err.value).startswith(f"--param {parameter}")


def test_the_transfer_is_not_checked_when_the_dataset_is_in_a_bucket(defaults):
    check(defaults, FROM_BUCKET, bucket="Not_A_Bucket", transfer_poll_interval=900.0)


def test_local_training_ignores_the_hardware_as_the_step_does(defaults):
    check(defaults, FROM_BUCKET, training_mode="local", accelerator_type="NVIDIA_TESLA_K80")


def test_preset_local_with_a_seed_value_keeps_it(defaults):
    check(defaults, FROM_BUCKET, training_preset="local", train_batch_size=16)


def test_every_wired_parameter_is_a_parameter_of_the_component():
    import importlib
    import inspect

    for step in STEPS:
        func = getattr(importlib.import_module(f"components.{step.component}.component"), step.component).python_func
        names = set(inspect.signature(func).parameters)
        assert set(step.inputs) | set(step.constants) | set(step.images) <= names, step.task
