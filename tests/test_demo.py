"""The whole compiled pipeline on the KFP local runner: emulator -> transfer -> convert -> train -> evaluate."""
import os
import pytest

from components.workflow.demo import run_demo, summary


@pytest.mark.slow
def test_whole_pipeline_runs_locally_on_a_tiny_sample(tmp_path, monkeypatch):
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    result = run_demo(str(tmp_path / "demo"), images=40, max_steps=30, width=160, height=120)
    summary_doc = result.metrics["metrics"]
    assert 0.0 <= summary_doc["AP50"] <= 1.0 and "AP" in summary_doc
    assert os.path.exists(os.path.join(result.model, "saved_model.pb"))
    report = open(result.report).read()
    assert report.count("data:image/") >= 3
    assert "AP50" in report or "AP@0.5" in report
    assert "data:image/" in open(result.preview).read()
    # The transfer really went through the emulator into the local bucket.
    buckets = tmp_path / "demo" / "buckets" / "synthdet-demo"
    assert any(p.name.endswith(".png") for p in buckets.rglob("*.png"))
    assert "mAP@0.5" in summary(result)
