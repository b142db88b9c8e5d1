"""The cloud rehearsal: what ships, run as the cloud runs it, offline.

    make rehearse                      # or: .venv/bin/python -m rehearsal [--workdir DIR]

Steps, each failing with its own name:
  compile   compile.sh with a registry, as for a cloud run; the spec must name our images for every
            task, the Dataflow workers and the CustomJob.
  images    one environment per container image, replayed from its Dockerfile (rehearsal.images),
            and the serving image's TensorFlow.
  pipeline  every task of the compiled pipeline.yaml with its compiled command and arguments, in its
            image's environment, from a folder outside the repository, chained on the previous
            tasks' artifacts: transfer from the Unity Simulation emulator into a bucket on the GCS
            emulator, convert (its Beam work done by SDK workers of a worker pool started in the
            convert image), train, evaluate, the serving description of the upload.
  dataflow  the conversion's Dataflow job as DataflowRunner builds it (dry run) in the convert image,
            checked for the worker image and the options.
  customjob the CustomJob the train step would submit, its worker pool run as written: the image's
            environment, command, args and the AIP_* variables Vertex sets, on the CPU.
  serving   the exported SavedModel loaded and queried with the serving image's TensorFlow.
  upload    the Model Registry upload's resolved request: project, region, model and serving image.
What cannot run here (Google's services, GPUs and TPUs, IAM, image builds) is listed in the README.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterator

import yaml

from components.common import images as image_names
from rehearsal import serving
from rehearsal.images import ROOT, ImageEnv, build_image_env, default_cache_dir
from rehearsal.services import beam_worker_pool, gcs_emulator
from rehearsal.tasks import TaskRun, run_compiled_pipeline, tail

logger = logging.getLogger(__name__)

REGISTRY = "rehearsal.invalid/synthdet"
TAG = "rehearsal"
PROJECT = "rehearsal-project"
REGION = "us-central1"
BUCKET = "synthdet-rehearsal"
IMAGES = ("transfer", "convert", "train", "evaluate")
STEPS = ("compile", "images", "pipeline", "dataflow", "customjob", "serving", "upload")
PROBE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "probe.py")


class StepFailed(RuntimeError):
    """A rehearsal step failed; ``step`` names it."""

    def __init__(self, step: str, message: str) -> None:
        super().__init__(f"rehearsal step {step!r} failed: {message}")
        self.step = step


@dataclass
class StepResult:
    name: str
    seconds: float
    detail: str = ""


@dataclass
class Report:
    steps: list[StepResult] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    def table(self) -> str:
        rows = [f"{s.name:<10} {s.seconds:7.1f} s  {s.detail}" for s in self.steps]
        total = sum(s.seconds for s in self.steps)
        return "\n".join(rows + [f"{'total':<10} {total:7.1f} s"])


def executor_input(command: list[str]) -> dict:
    """The executor input JSON a compiled task's command carries (after ``--executor_input``)."""
    for flag, value in zip(command, command[1:]):
        if flag == "--executor_input":
            return json.loads(value)
    raise ValueError("the task's command has no --executor_input")


def task_inputs(command: list[str]) -> dict:
    """Input parameter values plus ``{"artifacts": {name: uri}}`` of one resolved task."""
    doc = executor_input(command)["inputs"]
    values = dict(doc.get("parameterValues", {}))
    values["artifacts"] = {name: spec["artifacts"][0]["uri"] for name, spec in doc.get("artifacts", {}).items()}
    return values


def compiled_tasks(spec: dict) -> dict[str, dict]:
    """Every task of the compiled pipeline, conditions' sub-DAGs included: name -> task."""
    found: dict[str, dict] = {}

    def walk(owner: dict) -> None:
        for name, task in owner["dag"]["tasks"].items():
            found[name] = task
            comp = spec["components"][task["componentRef"]["name"]]
            if "dag" in comp:
                walk(comp)

    walk(spec["root"])
    return found


def check_spec(spec: dict) -> dict[str, str]:
    """Every image in the compiled spec is a real one of ours (or Google's); returns what names them.

    Raises ValueError naming the task: an executor image with the placeholder registry, a convert
    task without the Dataflow worker image, a train task without the trainer image.
    """
    found = {}
    for label, executor in spec["deploymentSpec"]["executors"].items():
        image = executor["container"]["image"]
        if image_names.is_placeholder(image):
            raise ValueError(f"executor {label} runs {image}, the placeholder registry")
        found[label] = image
    for name, task in compiled_tasks(spec).items():
        component = task["componentRef"]["name"]
        params = task.get("inputs", {}).get("parameters", {})
        wanted = {"comp-convert": ("sdk_container_image", "convert"),
                  "comp-train": ("trainer_image", "train")}
        for prefix, (param, image) in wanted.items():
            if component == prefix or component.startswith(prefix + "-"):
                value = params.get(param, {}).get("runtimeValue", {}).get("constant", "")
                if image_names.image_name(value) != image or image_names.is_placeholder(value):
                    raise ValueError(f"task {name} passes {param}={value!r}: the compiled spec must name the "
                                     f"{image} image ({image_names.REGISTRY_HINT})")
                found[f"{name}.{param}"] = value
    return found


class Rehearsal:
    """One rehearsal in ``workdir``; ``context`` is the repository (a changed copy, in the tests)."""

    def __init__(self, workdir: str, cache_dir: str | None = None, context: str = ROOT,
                 images: tuple[str, ...] = IMAGES) -> None:
        self.workdir, self.context, self.images = os.path.abspath(workdir), context, images
        self.cache_dir = cache_dir or default_cache_dir()
        self.report = Report()
        self.envs: dict[str, ImageEnv] = {}
        self.serving_python = ""
        self.spec_path = os.path.join(self.workdir, "compiled", "pipeline.yaml")
        self.neutral = os.path.join(self.workdir, "cwd")  # every task's working directory
        self.logs = os.path.join(self.workdir, "logs")
        self.task_run: TaskRun | None = None
        self.token = os.urandom(12).hex()

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[StepResult]:
        result = StepResult(name, 0.0)
        started = time.monotonic()
        logger.info("== rehearsal step %s", name)
        try:
            yield result
        except StepFailed:
            raise
        except Exception as err:  # any failure inside a step is that step's failure, named as such
            raise StepFailed(name, f"{type(err).__name__}: {err}") from err
        finally:
            result.seconds = round(time.monotonic() - started, 1)
        self.report.steps.append(result)
        logger.info("== %s passed in %.0f s %s", name, result.seconds, result.detail)

    def run(self, until: str = STEPS[-1]) -> Report:
        """Run the steps in order up to ``until``; raises StepFailed naming the first that fails."""
        shutil.rmtree(self.workdir, ignore_errors=True)
        for path in (self.neutral, self.logs):
            os.makedirs(path, exist_ok=True)
        actions: dict[str, Callable[[StepResult], None]] = {
            "compile": self.compile, "images": self.build_images, "pipeline": self.run_pipeline,
            "dataflow": self.dataflow, "customjob": self.customjob, "serving": self.serving,
            "upload": self.upload}
        with contextlib.ExitStack() as stack:
            self.stack = stack
            for name in STEPS[:STEPS.index(until) + 1]:
                with self.step(name) as result:
                    actions[name](result)
        with open(os.path.join(self.workdir, "rehearsal.json"), "w") as f:
            json.dump({"steps": [asdict(s) for s in self.report.steps], "facts": self.report.facts}, f, indent=1)
        return self.report

    # compile ----------------------------------------------------------------------------------------
    def compile(self, result: StepResult) -> None:
        env = {**os.environ, "SYNTHDET_IMAGE_REGISTRY": REGISTRY, "SYNTHDET_IMAGE_TAG": TAG,
               "PYTHON": sys.executable}
        out = os.path.dirname(self.spec_path)
        done = subprocess.run(["bash", os.path.join(self.context, "compile.sh"), out], cwd=self.context, env=env,
                              capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"compile.sh failed:\n{done.stderr[-3000:]}")
        with open(self.spec_path) as f:
            spec = yaml.safe_load(f)
        named = check_spec(spec)
        self.report.facts["images"] = named
        result.detail = f"{len(named)} image references, none a placeholder"

    # images -----------------------------------------------------------------------------------------
    def build_images(self, result: StepResult) -> None:
        work = os.path.join(self.workdir, "images")
        for name in self.images:
            self.envs[name] = build_image_env(name, work, os.path.join(self.cache_dir, "layers"), self.context)
        self.serving_python = serving.build_env(os.path.join(self.cache_dir, "layers"))
        result.detail = f"{', '.join(self.images)} from their Dockerfiles; serving TF {serving.TENSORFLOW}"

    # pipeline ---------------------------------------------------------------------------------------
    def run_pipeline(self, result: StepResult) -> None:
        from components.samples import generate
        from components.transfer.emulator import UnitySimulationEmulator

        host = self.stack.enter_context(gcs_emulator(BUCKET))
        store = os.path.join(self.workdir, "unity_store")
        sample = generate(store, "unity-simulation", num_images=40, width=160, height=120, seed=0)
        emulator = self.stack.enter_context(
            UnitySimulationEmulator(store, token=self.token, destination="gcs"))
        task_env = {"STORAGE_EMULATOR_HOST": host, "USIM_ACCESS_TOKEN": self.token}
        convert = self.envs["convert"]
        pool = self.stack.enter_context(beam_worker_pool(convert.python, self.neutral, convert.env(task_env),
                                                         os.path.join(self.logs, "beam-worker-pool.log")))
        self.task_run = TaskRun(self.envs, self.neutral, self.logs, extra_env=task_env)
        arguments = {
            "unity_project_id": sample.project_id, "run_definition_id": sample.run_definition_id,
            "run_execution_id": sample.run_execution_id, "bucket": BUCKET, "usim_api_url": emulator.url,
            "transfer_poll_interval": 1.0, "convert_runner": "DirectRunner",
            "convert_extra_beam_args": ["--environment_type=EXTERNAL", f"--environment_config={pool}"],
            "project": PROJECT, "region": REGION, "dataflow_temp_location": f"gs://{BUCKET}/dataflow/tmp",
            "training_mode": "local", "training_preset": "local", "max_steps": 20, "train_steps_per_eval": 20,
            "warmup_steps": 5, "accelerator_type": "", "accelerator_count": 0, "machine_type": "",
            "min_map": 0.0, "upload_model": True, "model_display_name": "synthdet-rehearsal",
        }
        run_compiled_pipeline(self.spec_path, arguments, self.task_run, os.path.join(self.workdir, "pipeline_root"))
        ran = [r for r in self.task_run.records if r.returncode is not None]
        self.report.facts["tasks"] = [{"task": r.name, "image": r.image, "seconds": r.seconds} for r in ran]
        self._check_pipeline_outputs(pool)
        result.detail = ", ".join(f"{r.name} {r.seconds:.0f}s" for r in ran)

    def _check_pipeline_outputs(self, pool: str) -> None:
        run = self.task_run
        transfer = task_inputs(run.record("transfer").command)
        convert = task_inputs(run.record("convert").command)
        if not convert["source"].startswith(f"gs://{BUCKET}/"):
            raise RuntimeError(f"convert read {convert['source']}, not the bucket the transfer wrote to")
        if transfer["bucket"] != BUCKET:
            raise RuntimeError(f"transfer wrote to {transfer['bucket']}")
        with open(os.path.join(self.logs, "beam-worker-pool.log"), errors="replace") as f:
            started = f.read().count("Starting worker")
        if not started:
            raise RuntimeError(f"no SDK worker of the convert image's pool ({pool}) ran the conversion")
        self.report.facts["beam_workers_started"] = started
        outputs = executor_input(run.record("train").command)["outputs"]["artifacts"]
        model_uri = outputs["model"]["artifacts"][0]["uri"]
        self.report.facts["trained_model_uri"] = model_uri

    # dataflow ---------------------------------------------------------------------------------------
    def _probe(self, image: str, what: str, inputs: dict) -> dict:
        env = self.envs[image]
        path = os.path.join(self.workdir, f"{what}_inputs.json")
        job_file = os.path.join(self.workdir, f"{what}_job.json")
        with open(path, "w") as f:
            json.dump(inputs, f, indent=1)
        log = os.path.join(self.logs, f"probe-{what}.log")
        with open(log, "w") as out:
            done = subprocess.run([env.python, PROBE, what, "--inputs", path, "--job-file", job_file],
                                  cwd=self.neutral, env=env.env(self.task_run.extra_env), stdout=out,
                                  stderr=subprocess.STDOUT)
        if done.returncode:
            raise RuntimeError(f"building the {what} job in the {image} image failed; {log}:\n{tail(log)}")
        with open(job_file) as f:
            return json.load(f)

    def dataflow(self, result: StepResult) -> None:
        inputs = task_inputs(self.task_run.record("convert").command)
        inputs.update(runner="DataflowRunner", extra_beam_args=[], output=f"gs://{BUCKET}/rehearsal/dataflow-out",
                      temp_location=f"gs://{BUCKET}/dataflow/tmp")
        job = self._probe("convert", "dataflow", inputs)
        expected = self.report.facts["images"]["convert.sdk_container_image"]
        pools = job["environment"]["workerPools"]
        workers = {p.get("workerHarnessContainerImage") for p in pools}
        harness = {h["containerImage"] for p in pools for h in p.get("sdkHarnessContainerImages", [])}
        if workers | harness != {expected}:
            raise RuntimeError(f"the Dataflow job's workers run {sorted(workers | harness)}, not {expected}")
        options = job["environment"]["sdkPipelineOptions"]["options"]
        for key, value in (("project", PROJECT), ("region", REGION)):
            if options.get(key) != value:
                raise RuntimeError(f"the Dataflow job's {key} is {options.get(key)!r}, not {value!r}")
        if not str(options.get("temp_location", "")).startswith(f"gs://{BUCKET}/dataflow/tmp"):
            raise RuntimeError(f"the Dataflow job's temp_location is {options.get('temp_location')!r}")
        self.report.facts["dataflow"] = {"worker_image": expected, "job_name": options.get("job_name"),
                                         "max_num_workers": options.get("max_num_workers"),
                                         "machine_type": pools[0].get("machineType")}
        result.detail = f"workers run {expected}; job {options.get('job_name')}"

    # customjob --------------------------------------------------------------------------------------
    def customjob(self, result: StepResult) -> None:
        record = self.task_run.record("train")
        inputs = task_inputs(record.command)
        base = os.path.join(self.workdir, "customjob")
        inputs.update(mode="vertex", model_dir=os.path.join(base, "checkpoints"), project=PROJECT, region=REGION)
        job = self._probe("train", "customjob", inputs)
        pools = job["job_spec"]["worker_pool_specs"]
        chief = pools[0]["container_spec"]
        image = chief["image_uri"]
        name = image_names.image_name(image)
        if name not in self.envs or image_names.is_placeholder(image):
            raise RuntimeError(f"the CustomJob would pull {image}, not an image this repository builds")
        env = self.envs[name]
        output = job["job_spec"]["base_output_directory"]["output_uri_prefix"].rstrip("/")
        aip = {"AIP_MODEL_DIR": f"{output}/model/", "AIP_CHECKPOINT_DIR": f"{output}/checkpoints/",
               "AIP_TENSORBOARD_LOG_DIR": f"{output}/logs/", "CLOUD_ML_PROJECT_ID": PROJECT}
        aip.update({e["name"]: e["value"] for e in chief.get("env", [])})
        log = os.path.join(self.logs, "customjob-chief.log")
        started = time.monotonic()
        with open(log, "w") as out:
            done = subprocess.run(chief["command"] + chief["args"], cwd=self.neutral, env=env.env(aip),
                                  stdout=out, stderr=subprocess.STDOUT)
        if done.returncode:
            raise RuntimeError(f"the CustomJob's chief exited {done.returncode} in the {name} image; {log}:\n"
                               f"{tail(log)}")
        exported = [d for d, _, files in os.walk(base) if "saved_model.pb" in files]
        if not exported:
            raise RuntimeError(f"the CustomJob wrote no SavedModel under {base}")
        self.report.facts["customjob"] = {"image": image, "machine_spec": pools[0]["machine_spec"],
                                          "seconds": round(time.monotonic() - started, 1),
                                          "saved_model": exported[0]}
        result.detail = f"{image} on {pools[0]['machine_spec']['machine_type']}: SavedModel at {exported[0]}"

    # serving ----------------------------------------------------------------------------------------
    def serving(self, result: StepResult) -> None:
        model = self.report.facts["trained_model_uri"]
        answer = serving.query(self.serving_python, model, self.neutral, os.path.join(self.logs, "serving.log"))
        self.report.facts["serving"] = answer
        result.detail = f"TF {answer.get('tf_version')} answered {answer.get('outputs')}"

    # upload -----------------------------------------------------------------------------------------
    def upload(self, result: StepResult) -> None:
        served = self.task_run.record("serving-model")
        described = executor_input(served.command)["outputs"]["artifacts"]["unmanaged_model"]["artifacts"][0]
        upload = next((r for r in self.task_run.records if r.returncode is None and "model-upload" in r.name), None)
        if upload is None:
            raise RuntimeError("the Model Registry upload task was not reached")
        args = upload.command
        flags = {a: b for a, b in zip(args, args[1:]) if a.startswith("--")}
        if flags.get("--project") != PROJECT or flags.get("--location") != REGION:
            raise RuntimeError(f"the upload goes to project {flags.get('--project')!r}, location "
                               f"{flags.get('--location')!r}; expected {PROJECT!r}, {REGION!r}")
        upload_inputs = executor_input(args)["inputs"]["artifacts"]["unmanaged_container_model"]["artifacts"][0]
        if upload_inputs["uri"] != self.report.facts["trained_model_uri"]:
            raise RuntimeError(f"the upload names model {upload_inputs['uri']}, not the trained one")
        self.report.facts["upload"] = {"project": PROJECT, "location": REGION, "artifact_uri": upload_inputs["uri"],
                                       "serving_description": described.get("uri")}
        result.detail = f"project {PROJECT}, {REGION}; resolved, not sent (calls Vertex AI)"


def main(argv: list[str] | None = None) -> int:
    import argparse

    from components.common.logs import configure

    parser = argparse.ArgumentParser(prog="python -m rehearsal", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", default=os.path.join(ROOT, "rehearsal_output"),
                        help="where it runs (replaced; default ./rehearsal_output)")
    parser.add_argument("--cache-dir", default=None, help=f"dependency layers (default {default_cache_dir()})")
    parser.add_argument("--until", choices=STEPS, default=STEPS[-1], help="stop after this step")
    args = parser.parse_args(argv)
    configure()
    rehearsal = Rehearsal(args.workdir, args.cache_dir)
    try:
        report = rehearsal.run(args.until)
    except StepFailed as err:
        logging.getLogger("rehearsal").error("%s", err)
        print("\n".join(f"passed  {s.name:<10} {s.seconds:7.1f} s" for s in rehearsal.report.steps))
        print(f"FAILED  {err.step}")
        return 1
    print(report.table())
    print(f"report: {os.path.join(args.workdir, 'rehearsal.json')}")
    return 0
