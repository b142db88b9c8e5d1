"""The whole pipeline on this machine: sample data, Unity Simulation emulator, kfp local runner.

    python pipeline.py demo [--workdir demo_output] [--images 300] [--max-steps 400]

Generates the sample run execution into the emulator's store, starts the emulator on a free
loopback port, compiles the pipeline, and runs the compiled spec with KFP's SubprocessRunner:
transfer (from the emulator) -> convert (DirectRunner) -> train (CPU) -> evaluate. Prints the
mAP, the reports and the exported model. The emulator is stopped even when a step fails.
"""
from __future__ import annotations

import contextlib
import glob
import json
import logging
import os
import shutil
import sys
import time
from dataclasses import dataclass
from typing import Callable, TextIO

from components.common.logs import FORMAT
from components.train.settings import PRESETS
from components.workflow.console import Steps, TaskLog

logger = logging.getLogger(__name__)
DEMO_BUCKET = "synthdet-demo"
# The emulator's one accepted token, handed to the transfer task through its environment only.
DEMO_TOKEN_ENV = "USIM_ACCESS_TOKEN"
SAMPLE_SEED = 0
TRAIN_SEED = 0
LOCAL = PRESETS["local"]
# The KFP tasks a demo runs, as its console lines name them.
TASK_LABELS = {"transfer": "Transfer from the Unity Simulation emulator",
               "convert": "Convert to TFRecords (DirectRunner) and preview",
               "train": "Train RetinaNet on the CPU", "evaluate": "Evaluate the exported model"}


@dataclass(frozen=True)
class DemoResult:
    metrics: dict
    report: str
    preview: str
    model: str
    seconds: float
    log: str


def local_arguments(sample, api_url: str, buckets_root: str, max_steps: int) -> dict:
    """Pipeline parameters for a CPU-only run on this machine."""
    return {
        "unity_project_id": sample.project_id, "run_definition_id": sample.run_definition_id,
        "run_execution_id": sample.run_execution_id, "bucket": DEMO_BUCKET,
        "usim_api_url": api_url, "buckets_root": buckets_root, "transfer_poll_interval": 1.0,
        "convert_runner": "DirectRunner", "training_mode": "local", "training_preset": "local",
        # The trainer's "local" preset (ResNet-18, 192x256, batch 8, Adam) fills in the other flags.
        "max_steps": max_steps, "train_steps_per_eval": max_steps,
        "warmup_steps": max(1, min(LOCAL["warmup_steps"], max_steps // 5)), "upload_model": False,
        # A seeded, deterministic run that does not evaluate while it trains: the evaluate step
        # scores the exported model once (components/train/trainer.py reads both keys).
        "params_override": f"task.train_data.seed={TRAIN_SEED},trainer.validation_steps=0",
    }


def run_demo(workdir: str, compile_spec: Callable[[str], str], images: int = 300,
             max_steps: int = LOCAL["max_steps"],
             width: int = 320, height: int = 240, console: TextIO | None = None) -> DemoResult:
    """Run the demo in ``workdir`` (replaced); returns where its results are.

    The console gets one line per step; the tasks' own output (KFP's executor input and output,
    Beam, TensorFlow) goes to ``workdir/demo.log``.

    Args:
        compile_spec: writes the pipeline's spec to the path given (``pipeline.compile_pipeline``).
        console: where the step lines go (default: standard output).
    """
    started = time.monotonic()
    workdir = os.path.abspath(workdir)
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    log_path = os.path.join(workdir, "demo.log")
    console = console or sys.stdout
    steps = Steps(console, total=6)
    console.write(f"Demo in {workdir}; the steps' own output goes to {log_path}\n")
    with open(log_path, "w") as log:
        stream = TaskLog(log, steps, TASK_LABELS, max_steps)
        root = logging.getLogger()
        handlers = root.handlers[:]
        root.handlers = [logging.StreamHandler(stream)]
        root.handlers[0].setFormatter(logging.Formatter(FORMAT, datefmt="%H:%M:%S"))
        try:
            with contextlib.redirect_stdout(stream), contextlib.redirect_stderr(stream):
                _run(workdir, compile_spec, steps, images, max_steps, width, height)
        except BaseException:
            steps.finish(failed=True)
            console.write(f"The demo failed; see {log_path}\n")
            raise
        finally:
            root.handlers = handlers
    return _collect(workdir, time.monotonic() - started, log_path)


def _run(workdir: str, compile_spec: Callable[[str], str], steps: Steps, images: int, max_steps: int,
         width: int, height: int) -> None:
    from kfp import components, local

    from components.samples import generate
    from components.transfer.emulator import UnitySimulationEmulator

    store, buckets = os.path.join(workdir, "unity_store"), os.path.join(workdir, "buckets")
    steps.start(f"Generate {images} sample images ({width}x{height}, seed {SAMPLE_SEED})")
    sample = generate(store, "unity-simulation", num_images=images, width=width, height=height, seed=SAMPLE_SEED)
    steps.finish()
    steps.start("Compile the pipeline")
    spec = compile_spec(os.path.join(workdir, "pipeline.yaml"))
    steps.finish()
    token = os.urandom(16).hex()
    emulator = UnitySimulationEmulator(store, buckets, token=token, destination="local").start()
    previous = os.environ.get(DEMO_TOKEN_ENV)
    os.environ[DEMO_TOKEN_ENV] = token
    try:
        logger.info("Running %s with the KFP local runner (Unity emulator at %s)", spec, emulator.url)
        local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=os.path.join(workdir, "runs"),
                   raise_on_error=True)
        pipeline = components.load_component_from_file(spec)
        pipeline(**local_arguments(sample, emulator.url, buckets, max_steps))
    finally:
        emulator.stop()
        if previous is None:
            os.environ.pop(DEMO_TOKEN_ENV, None)
        else:
            os.environ[DEMO_TOKEN_ENV] = previous


def _newest(pattern: str) -> str:
    found = sorted(glob.glob(pattern, recursive=True), key=os.path.getmtime)
    if not found:
        raise FileNotFoundError(f"nothing matches {pattern}")
    return found[-1]


def _collect(workdir: str, seconds: float, log: str) -> DemoResult:
    runs = os.path.join(workdir, "runs")
    metrics = json.load(open(_newest(os.path.join(runs, "**", "evaluate", "metrics_json"))))
    # Copies with an .html name, so a double-click opens them in a browser.
    report = shutil.copyfile(_newest(os.path.join(runs, "**", "evaluate", "report")),
                             os.path.join(workdir, "evaluation_report.html"))
    preview = shutil.copyfile(_newest(os.path.join(runs, "**", "convert", "preview")),
                              os.path.join(workdir, "dataset_preview.html"))
    model = os.path.dirname(_newest(os.path.join(runs, "**", "saved_model.pb")))
    return DemoResult(metrics, report, preview, model, seconds, log)


def summary(result: DemoResult) -> str:
    m = result.metrics["metrics"]
    lines = [f"mAP@0.5        {m.get('AP50', float('nan')):.3f}",
             f"mAP@[.5:.95]   {m.get('AP', float('nan')):.3f}",
             f"report         {result.report}",
             f"dataset view   {result.preview}",
             f"model          {result.model}",
             f"log            {result.log}",
             f"total time     {result.seconds / 60:.1f} min"]
    return "\n".join(lines)
