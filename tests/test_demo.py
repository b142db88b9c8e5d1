"""The whole compiled pipeline on the KFP local runner: emulator -> transfer -> convert -> train -> evaluate.

One run of the demo as ``make demo`` runs it (300 images, the local preset's 400 steps: minutes on two cores).
"""
import glob
import io
import json
import os

import pytest
import yaml

from components.common import manifest
from components.workflow.demo import LOCAL, TRAIN_SEED, DemoResult, run_demo, summary
from pipeline import compile_pipeline
from tests.components.evaluate.test_evaluation import pycocotools_summary

# The seeded demo scores the same on every run of one machine; this floor leaves room for another machine.
AP50_FLOOR = 0.85


def check_demo(result: DemoResult, workdir: str, console: str) -> None:
    """What a demo run must leave behind: a detector above the floor, evaluated once, and a quiet console."""
    scores = result.metrics["metrics"]
    assert scores["AP50"] >= AP50_FLOOR, summary(result)
    # The evaluate step's AP50 is pycocotools' own on the exported model and the convert step's ground truth.
    # The convert output: the folder with manifest.json, which names the generation evaluated.
    out, = {os.path.dirname(p) for p in glob.glob(os.path.join(workdir, "**", manifest.MANIFEST), recursive=True)
            if os.path.exists(os.path.join(os.path.dirname(p), "eval_coco.json"))}
    generation = manifest.generation_uri(out)
    expected = pycocotools_summary(result.model, os.path.join(generation, "eval"),
                                   os.path.join(generation, "eval_coco.json"))
    assert scores["AP50"] == pytest.approx(expected["AP50"], abs=1e-6)
    # Seeded, and evaluated once: by the evaluate step, not during training.
    model_dir = os.path.dirname(os.path.dirname(result.model))
    params = yaml.safe_load(open(os.path.join(model_dir, "params.yaml")))
    assert params["task"]["train_data"]["seed"] == TRAIN_SEED and params["trainer"]["validation_steps"] == 0
    assert not glob.glob(os.path.join(model_dir, "validation", "*"))
    assert "AP50" not in json.load(open(os.path.join(model_dir, "eval_metrics.json")))
    report = open(result.report).read()
    assert report.count("data:image/") >= 3 and ("AP50" in report or "AP@0.5" in report)
    assert "data:image/" in open(result.preview).read()
    # The transfer really went through the emulator into the local bucket.
    buckets = os.path.join(workdir, "buckets", "synthdet-demo")
    assert glob.glob(os.path.join(buckets, "**", "*.png"), recursive=True)
    # One console line per step; the runner's executor input and output are in the log only.
    lines = console.splitlines()
    assert lines[0].startswith("Demo in") and result.log in lines[0]
    assert [line[:5] for line in lines[1:]] == [f"[{n}/6]" for n in range(1, 7)]
    steps = LOCAL["max_steps"]
    assert all(line.endswith(" s") for line in lines[1:]) and f"{steps}/{steps} steps" in lines[5]
    assert "KFP Executor" not in console and "KFP Executor" in open(result.log).read()
    assert "mAP@0.5" in summary(result)


@pytest.mark.slow
def test_the_demo_trains_a_detector_above_the_floor(tmp_path, monkeypatch):
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    console = io.StringIO()
    workdir = str(tmp_path / "demo")
    result = run_demo(workdir, compile_pipeline, console=console)
    check_demo(result, workdir, console.getvalue())
