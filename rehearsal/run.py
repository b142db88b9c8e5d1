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
from rehearsal.spec import check_spec, executor_input, task_inputs
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
        # The train task sets its model's URI at run time: the evaluate task receives the one it set.
        self.report.facts["trained_model_uri"] = task_inputs(run.record("evaluate").command)["artifacts"]["model"]

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
        """Build the CustomJob from the train task's inputs as Vertex would see them, then run its chief.

        On Vertex the pipeline root is a bucket: the convert output is copied into the emulator
        bucket under ``gs://BUCKET/pipeline_root``, and the job is built (and checked) from those
        gs:// URIs. TensorFlow cannot reach the GCS emulator, so when the chief runs, that prefix in
        its args and AIP_* variables names the local folder holding the same files, as Vertex's
        Cloud Storage FUSE mount (/gcs/BUCKET) would.
        """
        from components.common import uris

        local_root = os.path.join(self.workdir, "pipeline_root")
        gs_root = f"gs://{BUCKET}/pipeline_root"
        inputs = task_inputs(self.task_run.record("train").command)
        examples = inputs["artifacts"]["examples"]
        for rel in uris.iter_files(examples):
            with open(os.path.join(examples, rel), "rb") as f:
                uris.write_bytes(uris.join(examples.replace(local_root, gs_root, 1), rel), f.read())
        inputs["artifacts"] = {k: v.replace(local_root, gs_root, 1) for k, v in inputs["artifacts"].items()}
        inputs.update(mode="vertex", model_dir=f"{gs_root}/customjob/checkpoints", project=PROJECT, region=REGION)
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
        mounted = [a.replace(gs_root, local_root) for a in chief["command"] + chief["args"]]
        aip = {k: v.replace(gs_root, local_root) for k, v in aip.items()}
        log = os.path.join(self.logs, "customjob-chief.log")
        started = time.monotonic()
        with open(log, "w") as out:
            done = subprocess.run(mounted, cwd=self.neutral, env=env.env(aip), stdout=out, stderr=subprocess.STDOUT)
        if done.returncode:
            raise RuntimeError(f"the CustomJob's chief exited {done.returncode} in the {name} image; {log}:\n"
                               f"{tail(log)}")
        base = os.path.join(local_root, "customjob")
        exported = [d for d, _, files in os.walk(base) if "saved_model.pb" in files]
        if not exported:
            raise RuntimeError(f"the CustomJob wrote no SavedModel under {base}")
        self.report.facts["customjob"] = {"image": image, "machine_spec": pools[0]["machine_spec"],
                                          "args": chief["args"], "seconds": round(time.monotonic() - started, 1),
                                          "saved_model": exported[0]}
        result.detail = f"{image} on {pools[0]['machine_spec']['machine_type']}: SavedModel at {exported[0]}"

    # serving ----------------------------------------------------------------------------------------
    def serving(self, result: StepResult) -> None:
        from pipeline import UPLOAD_SERVING_IMAGE

        major, minor = serving.TENSORFLOW.split(".")[:2]
        if f"tf2-cpu.{major}-{minor}" not in UPLOAD_SERVING_IMAGE:
            raise RuntimeError(f"the upload's serving image is {UPLOAD_SERVING_IMAGE}, but the rehearsal stands in "
                               f"TensorFlow {serving.TENSORFLOW} for it: update rehearsal/serving.py")
        model = self.report.facts["trained_model_uri"]
        answer = serving.query(self.serving_python, model, self.neutral, os.path.join(self.logs, "serving.log"))
        self.report.facts["serving"] = answer
        result.detail = f"TF {answer.get('tf_version')} answered {answer.get('outputs')}"

    # upload -----------------------------------------------------------------------------------------
    def upload(self, result: StepResult) -> None:
        from pipeline import UPLOAD_SERVING_IMAGE

        upload = next((r for r in self.task_run.records if r.returncode is None and "model-upload" in r.name), None)
        if upload is None:
            raise RuntimeError("the Model Registry upload task was not reached")
        args = upload.command
        flags = {a: b for a, b in zip(args, args[1:]) if a.startswith("--")}
        if flags.get("--project") != PROJECT or flags.get("--location") != REGION:
            raise RuntimeError(f"the upload goes to project {flags.get('--project')!r}, location "
                               f"{flags.get('--location')!r}; expected {PROJECT!r}, {REGION!r}")
        model = executor_input(args)["inputs"]["artifacts"]["unmanaged_container_model"]["artifacts"][0]
        if model["uri"] != self.report.facts["trained_model_uri"]:
            raise RuntimeError(f"the upload names model {model['uri']}, not the trained one")
        image = model.get("metadata", {}).get("containerSpec", {}).get("imageUri")
        if image != UPLOAD_SERVING_IMAGE:
            raise RuntimeError(f"the uploaded model would be served by {image!r}, not {UPLOAD_SERVING_IMAGE}")
        self.report.facts["upload"] = {"project": PROJECT, "location": REGION, "artifact_uri": model["uri"],
                                       "serving_image": image}
        result.detail = f"project {PROJECT}, {REGION}, served by {image}; resolved, not sent (calls Vertex AI)"


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
