"""The compiled pipeline: tasks, parameters and defaults, hardware, conditions; components; submit."""
import json
import os
import subprocess
import sys

import pytest
import yaml
from kfp import components

import pipeline
from components.workflow.submit import make_submission, parse_params, pipeline_parameters
from components.workflow.validate import validate_parameters

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("compiled"))
    env = {**os.environ, "SYNTHDET_IMAGE_REGISTRY": "europe-docker.pkg.dev/acme/synthdet", "SYNTHDET_IMAGE_TAG": "7.1"}
    subprocess.run(["bash", os.path.join(ROOT, "compile.sh"), out], check=True, env=env, cwd=ROOT,
                   capture_output=True, timeout=300)
    return out


def spec_of(compiled):
    return yaml.safe_load(open(os.path.join(compiled, "pipeline.yaml")))


def all_tasks(dag_owner, spec, found=None):
    found = {} if found is None else found
    for name, task in dag_owner["dag"]["tasks"].items():
        found[name] = task
        comp = spec["components"][task["componentRef"]["name"]]
        if "dag" in comp:
            all_tasks(comp, spec, found)
    return found


def test_parameters_have_the_seed_defaults(compiled):
    params = spec_of(compiled)["root"]["inputDefinitions"]["parameters"]
    defaults = {n: p.get("defaultValue") for n, p in params.items()}
    assert defaults["eval_pct"] == 20.0 and defaults["train_batch_size"] == 16
    assert defaults["image_size"] == "960,1280" and defaults["fpn_type"] == "nasfpn"
    assert defaults["warmup_steps"] == 500 and defaults["warmup_learning_rate"] == 0.01
    assert defaults["initial_learning_rate"] == 0.001 and defaults["max_steps"] == 75000
    assert defaults["train_steps_per_eval"] == 2000 and defaults["num_eval_images"] == 200
    assert defaults["accelerator_type"] == "NVIDIA_TESLA_P100" and defaults["machine_type"] == "n1-standard-16"
    assert not any("token" in n and "secret" not in n for n in params), "a token must never be a parameter"


def test_tasks_conditions_and_images(compiled):
    spec = spec_of(compiled)
    tasks = all_tasks(spec["root"], spec)
    names = {t.get("taskInfo", {}).get("name") for t in tasks.values()}
    for expected in ("Transfer from Unity Simulation", "Dataset in a bucket", "Convert to TFRecords",
                     "Train RetinaNet", "Evaluate on synthetic eval split",
                     "Convert real photos", "Evaluate on real photos", "Upload to Model Registry"):
        assert expected in names
    # The dataset preview is an output of the convert step itself.
    convert_spec = spec["components"]["comp-convert"]["outputDefinitions"]["artifacts"]
    assert convert_spec["preview"]["artifactType"]["schemaTitle"] == "system.HTML"
    conditions = json.dumps(spec)
    assert "passed" in conditions and "triggerPolicy" in conditions
    train_task = next(t for t in tasks.values() if t.get("taskInfo", {}).get("name") == "Train RetinaNet")
    bound = train_task["inputs"]["parameters"]
    assert bound["accelerator_type"]["componentInputParameter"] == "accelerator_type"
    assert bound["machine_type"]["componentInputParameter"] == "machine_type"
    images = {e["container"]["image"] for e in spec["deploymentSpec"]["executors"].values()}
    ours = {i for i in images if "synthdet-" in i}
    assert ours == {f"europe-docker.pkg.dev/acme/synthdet/synthdet-{n}:7.1"
                    for n in ("transfer", "convert", "train", "evaluate")}


def test_every_component_yaml_loads_back(compiled):
    for name in ("transfer", "convert", "preview", "train", "evaluate"):
        comp = components.load_component_from_file(os.path.join(compiled, "components", f"{name}.yaml"))
        assert comp.name == name


def test_submit_dry_run_prints_the_submission(compiled):
    proc = subprocess.run(
        [sys.executable, "pipeline.py", "submit", "--project", "acme", "--region", "us-central1",
         "--pipeline-root", "gs://acme-ml/root", "--template", os.path.join(compiled, "pipeline.yaml"),
         "--param", "dataset_uri=gs://acme-ml/run", "--param", "max_steps=2000",
         "--param", "project=acme", "--param", "dataflow_temp_location=gs://acme-ml/tmp", "--dry-run"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["parameter_values"] == {"dataset_uri": "gs://acme-ml/run", "max_steps": 2000, "project": "acme",
                                       "dataflow_temp_location": "gs://acme-ml/tmp"}
    assert doc["pipeline_root"] == "gs://acme-ml/root" and doc["location"] == "us-central1"


@pytest.mark.parametrize("params, message", [
    (["max_stepz=1"], "no such parameter"),
    (["max_steps=many"], "expected integer"),
    (["dataset_uri=/local"], "gs://"),
    (["run_execution_id=E"], "missing unity_project_id"),
    (["dataset_uri=gs://b/d", "project=p", "dataflow_temp_location=gs://b/t", "image_size=960x1280"], "--image-size"),
    (["dataset_uri=gs://b/d", "project=p", "dataflow_temp_location=gs://b/t", "accelerator_type=TPU_V3"], "--accelerator-count"),
    (["dataset_uri=gs://b/d"], "project"),
])
def test_submit_validation(compiled, params, message):
    with pytest.raises(ValueError, match=message):
        make_submission(os.path.join(compiled, "pipeline.yaml"), "acme", "us-central1", "gs://b/root", params,
                        validate=validate_parameters)


def test_parse_params_types(compiled):
    spec = pipeline_parameters(os.path.join(compiled, "pipeline.yaml"))
    assert parse_params(["upload_model=false", "eval_pct=10", "fpn_type=fpn"], spec) == {
        "upload_model": False, "eval_pct": 10.0, "fpn_type": "fpn"}


def test_pipeline_module_exposes_compile():
    assert callable(pipeline.compile_pipeline) and set(pipeline.COMPONENTS) >= {"transfer", "convert", "train"}
