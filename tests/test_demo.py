"""The whole compiled pipeline on the KFP local runner: emulator -> transfer -> convert -> train -> evaluate."""
import glob
import os

import pytest

from components.common import manifest
from components.workflow.demo import run_demo, summary
from pipeline import compile_pipeline
from tests.components.evaluate.test_evaluation import pycocotools_summary


@pytest.mark.slow
def test_whole_pipeline_runs_locally_on_a_tiny_sample(tmp_path, monkeypatch):
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    result = run_demo(str(tmp_path / "demo"), compile_pipeline, images=40, max_steps=30, width=160, height=120)
    summary_doc = result.metrics["metrics"]
    assert "AP" in summary_doc
    # The evaluate step's AP50 is pycocotools' own on the exported model and the convert step's ground truth.
    # The convert output: the folder with manifest.json, which names the generation evaluated.
    out, = {os.path.dirname(p) for p in glob.glob(str(tmp_path / "demo" / "**" / manifest.MANIFEST), recursive=True)
            if os.path.exists(os.path.join(os.path.dirname(p), "eval_coco.json"))}
    generation = manifest.generation_uri(out)
    expected = pycocotools_summary(result.model, os.path.join(generation, "eval"),
                                   os.path.join(generation, "eval_coco.json"))
    assert summary_doc["AP50"] == pytest.approx(expected["AP50"], abs=1e-6)
    assert os.path.exists(os.path.join(result.model, "saved_model.pb"))
    report = open(result.report).read()
    assert report.count("data:image/") >= 3
    assert "AP50" in report or "AP@0.5" in report
    assert "data:image/" in open(result.preview).read()
    # The transfer really went through the emulator into the local bucket.
    buckets = tmp_path / "demo" / "buckets" / "synthdet-demo"
    assert any(p.name.endswith(".png") for p in buckets.rglob("*.png"))
    assert "mAP@0.5" in summary(result)
