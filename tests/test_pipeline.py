"""The compiled pipeline: tasks, parameters and defaults, hardware, conditions; components; submit."""
import json
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml
from kfp import components

import pipeline
from components.common.images import REGISTRY_HINT, image_name
from components.train.task import UNSET, is_unset, settings_for_task
from components.workflow.submit import make_submission, parse_params, pipeline_parameters, typed_defaults
from components.workflow.validate import (STEPS, UNCHECKED, ParameterError, bindings, compiled_tasks, constants,
                                          validate_parameters)

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
    defaults = typed_defaults(params)
    assert defaults["eval_pct"] == 20.0 and defaults["training_preset"] == "seed"
    assert defaults["accelerator_type"] == "NVIDIA_A100_80GB" and defaults["accelerator_count"] == 1
    assert defaults["machine_type"] == ""  # derived from the accelerator
    # The training flags are unset; the seed preset fills them in, as the train step builds its settings.
    train = next(s for s in STEPS if s.task == "Train RetinaNet")
    given = {comp: defaults[pipe] for comp, pipe in train.inputs.items() if comp not in ("mode", "preset")}
    assert all(is_unset(k, v) for k, v in given.items() if k in UNSET)
    settings = settings_for_task("gs://b/o/train", "gs://b/o/eval", "gs://b/o/label_map.pbtxt", "gs://b/o",
                                 "gs://b/model", defaults["training_preset"], False, given)
    assert (settings.train_batch_size, settings.image_size, settings.fpn_type) == (16, "960,1280", "nasfpn")
    assert (settings.warmup_steps, settings.warmup_learning_rate, settings.initial_learning_rate) == (500, 0.01, 0.001)
    assert (settings.max_steps, settings.train_steps_per_eval, settings.num_eval_images) == (75000, 2000, 200)
    assert (settings.aug_scale_min, settings.aug_scale_max, settings.resnet_depth) == (0.8, 1.2, 50)
    assert not any("token" in n and "secret" not in n for n in params), "a token must never be a parameter"


def test_validation_wires_parameters_as_the_pipeline_does(compiled):
    """validate.STEPS says, per task, what synthdet_pipeline binds; the compiled spec must agree."""
    tasks = compiled_tasks(spec_of(compiled))
    assert set(tasks) == {s.task for s in STEPS} | set(UNCHECKED)
    for step in STEPS:
        task = tasks[step.task]
        assert bindings(task) == dict(step.inputs), step.task
        fixed = constants(task)
        ours = {k: image_name(v) for k, v in fixed.items() if isinstance(v, str) and image_name(v)}
        assert ours == dict(step.images), step.task
        assert {k: v for k, v in fixed.items() if k not in ours} == dict(step.constants), step.task


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
    # Upload runs inside "upload_model == true", inside "the evaluate task's passed output == true".
    by_name = {t["taskInfo"]["name"]: (key, t) for key, t in spec["root"]["dag"]["tasks"].items()}
    evaluate_key = by_name["Evaluate on synthetic eval split"][0]
    _, requested = by_name["upload-requested"]
    assert requested["triggerPolicy"]["condition"] == "inputs.parameter_values['pipelinechannel--upload_model'] == true"
    channels = requested["inputs"]["parameters"]
    assert channels["pipelinechannel--upload_model"] == {"componentInputParameter": "upload_model"}
    assert channels[f"pipelinechannel--{evaluate_key}-passed"] == {
        "taskOutputParameter": {"outputParameterKey": "passed", "producerTask": evaluate_key}}
    inner = spec["components"][requested["componentRef"]["name"]]["dag"]["tasks"]
    (gate,) = inner.values()
    assert gate["taskInfo"]["name"] == "model-passed-gate"
    assert gate["triggerPolicy"]["condition"] == (
        f"inputs.parameter_values['pipelinechannel--{evaluate_key}-passed'] == true")
    gated = spec["components"][gate["componentRef"]["name"]]["dag"]["tasks"].values()
    assert "Upload to Model Registry" in {t["taskInfo"]["name"] for t in gated}
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
         "--param", "dataflow_temp_location=gs://acme-ml/tmp", "--dry-run"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    # project and region follow --project and --region unless given: the Dataflow job, the CustomJob
    # and the Model Registry upload then run where the pipeline runs.
    assert doc["parameter_values"] == {"dataset_uri": "gs://acme-ml/run", "max_steps": 2000, "project": "acme",
                                       "region": "us-central1", "dataflow_temp_location": "gs://acme-ml/tmp"}
    assert doc["pipeline_root"] == "gs://acme-ml/root" and doc["location"] == "us-central1"


BUCKET_RUN = ["dataset_uri=gs://b/d", "project=p", "dataflow_temp_location=gs://b/t"]


@pytest.mark.parametrize("params, message", [
    (["max_stepz=1"], "no such parameter"),
    (["max_steps=many"], "expected integer"),
    (["dataset_uri=/local"], "--param dataset_uri: '/local': expected a gs:// folder"),
    (["run_execution_id=E"], "missing unity_project_id"),
    (BUCKET_RUN + ["image_size=960x1280"], "--param image_size"),
    (BUCKET_RUN + ["accelerator_type=TPU_V3"], "--param accelerator_count"),
    (["dataset_uri=gs://b/d", "project="], "--param project"),
    (["dataset_uri=gs://b/d"], "--param dataflow_temp_location"),
    (BUCKET_RUN + ["max_bad_fraction=2"], "--param max_bad_fraction"),
    (BUCKET_RUN + ["dataset_format=cocoa"], "--param dataset_format"),
    (BUCKET_RUN + ["convert_runner=Flink"], "--param convert_runner"),
    (BUCKET_RUN + ["training_mode=gke"], "--param training_mode"),
    (BUCKET_RUN + ["region=mars"], "--param region"),
    (BUCKET_RUN + ["training_output_dir=/tmp/x"], "--param training_output_dir"),
    (BUCKET_RUN + ["accelerator_type=NVIDIA_L4", "machine_type=n1-standard-16"], "--param machine_type"),
])
def test_submit_validation(compiled, params, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        make_submission(os.path.join(compiled, "pipeline.yaml"), "acme", "us-central1", "gs://b/root", params,
                        validate=validate_parameters)


def test_submit_accepts_what_the_converter_accepts(compiled):
    job = make_submission(os.path.join(compiled, "pipeline.yaml"), "acme", "us-central1", "gs://b/root",
                          BUCKET_RUN + ["eval_pct=100", "training_preset=local", "train_batch_size=16"],
                          validate=validate_parameters)
    assert job.parameter_values["eval_pct"] == 100.0 and job.parameter_values["train_batch_size"] == 16


def test_submit_errors_are_parameter_errors(compiled):
    with pytest.raises(ParameterError) as err:
        make_submission(os.path.join(compiled, "pipeline.yaml"), "acme", "us-central1", "gs://b/root",
                        BUCKET_RUN + ["max_bad_fraction=2"], validate=validate_parameters)
    assert err.value.parameter == "max_bad_fraction" and "--max-bad-fraction" not in str(err.value)


@pytest.fixture(scope="module")
def fresh_checkout(tmp_path_factory):
    """The working tree as a fresh checkout has it: tracked and unignored files, no compiled/ folder."""
    dest = tmp_path_factory.mktemp("checkout")
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            check=True, capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        if os.path.isfile(os.path.join(ROOT, name)):
            os.makedirs(os.path.dirname(os.path.join(dest, name)), exist_ok=True)
            shutil.copy2(os.path.join(ROOT, name), os.path.join(dest, name))
    assert not os.path.exists(os.path.join(dest, "compiled"))
    return str(dest)


SUBMIT = ["pipeline.py", "submit", "--project", "acme", "--region", "us-central1", "--pipeline-root",
          "gs://acme-ml/root", "--param", "dataset_uri=gs://acme-ml/run", "--param", "project=acme",
          "--param", "dataflow_temp_location=gs://acme-ml/tmp", "--dry-run"]


def test_submit_dry_run_compiles_on_a_fresh_checkout(fresh_checkout):
    env = {**os.environ, "SYNTHDET_IMAGE_REGISTRY": "europe-docker.pkg.dev/acme/synthdet", "SYNTHDET_IMAGE_TAG": "7.1"}
    proc = subprocess.run([sys.executable, *SUBMIT], cwd=fresh_checkout, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert os.path.exists(os.path.join(fresh_checkout, doc["template_path"]))


def test_submit_refuses_placeholder_images(fresh_checkout):
    env = {k: v for k, v in os.environ.items() if k not in ("SYNTHDET_IMAGE_REGISTRY", "SYNTHDET_IMAGE_TAG")}
    proc = subprocess.run([sys.executable, *SUBMIT], cwd=fresh_checkout, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 2 and proc.stdout == ""
    assert "placeholder images" in proc.stderr and REGISTRY_HINT in proc.stderr


def test_parse_params_types(compiled):
    spec = pipeline_parameters(os.path.join(compiled, "pipeline.yaml"))
    assert parse_params(["upload_model=false", "eval_pct=10", "fpn_type=fpn"], spec) == {
        "upload_model": False, "eval_pct": 10.0, "fpn_type": "fpn"}


def test_pipeline_module_exposes_compile():
    assert callable(pipeline.compile_pipeline) and set(pipeline.COMPONENTS) >= {"transfer", "convert", "train"}


def test_remote_jobs_get_their_images_from_the_compiled_spec(compiled):
    """The Dataflow workers and the CustomJob run images named at compile time, not looked up at run time."""
    spec = spec_of(compiled)
    by_name = {t["taskInfo"]["name"]: t for t in all_tasks(spec["root"], spec).values()}
    registry = "europe-docker.pkg.dev/acme/synthdet"

    def constant(task, name):
        return by_name[task]["inputs"]["parameters"][name]["runtimeValue"]["constant"]

    for task in ("Convert to TFRecords", "Convert real photos"):
        assert constant(task, "sdk_container_image") == f"{registry}/synthdet-convert:7.1"
    assert constant("Train RetinaNet", "trainer_image") == f"{registry}/synthdet-train:7.1"
    assert constant("Train RetinaNet", "trainer_tpu_image") == f"{registry}/synthdet-train-tpu:7.1"
    # The upload goes to the pipeline's project and region (submit fills them from --project/--region).
    upload = by_name["Upload to Model Registry"]["inputs"]["parameters"]
    assert upload["project"] == {"componentInputParameter": "pipelinechannel--project"}
    assert upload["location"] == {"componentInputParameter": "pipelinechannel--region"}
