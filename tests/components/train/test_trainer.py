import glob
import json
import os

import numpy as np
import pytest
import yaml

from components.train import layout as layout_lib
from components.train.preflight import PreflightError
from components.train.trainer import annotation_file, is_chief, parse, scalar_metrics
from tests.components.evaluate.test_evaluation import pycocotools_summary
from tests.components.train.conftest import settings_for


def test_scalar_metrics_keep_numbers_only():
    assert scalar_metrics({"AP": np.float32(0.5), "AP50": 1, "per_class": {"a": 1}, "name": "x"}) == {
        "AP": 0.5, "AP50": 1.0}
    assert scalar_metrics(None) == {}


def test_only_the_chief_exports():
    assert is_chief({})
    assert is_chief({"TF_CONFIG": json.dumps({"task": {"type": "chief", "index": 0}})})
    assert not is_chief({"TF_CONFIG": json.dumps({"task": {"type": "worker", "index": 0}})})


def test_vertex_dirs_stand_in_for_missing_flags():
    env = {"AIP_CHECKPOINT_DIR": "gs://b/base/checkpoints/", "AIP_MODEL_DIR": "gs://b/base/model/"}
    settings = parse(["--train-data", "gs://b/t/*", "--eval-data", "gs://b/e/*", "--label-map", "gs://b/l.pbtxt",
                      "--preset", "local"], env)
    assert settings.model_dir == "gs://b/base/checkpoints/" and settings.export_dir == "gs://b/base/model/"
    assert settings.train_batch_size == 8
    with pytest.raises(SystemExit):
        parse(["--train-data", "t", "--eval-data", "e", "--label-map", "l"], {})


def test_annotation_file_is_used_when_present_and_required_when_named(records, tmp_path, monkeypatch):
    settings = settings_for(records, str(tmp_path / "m"))
    assert annotation_file(layout_lib.resolve(settings), False) == os.path.join(records, "eval_coco.json")
    missing = settings.replace(annotation_file=str(tmp_path / "none.json"))
    with pytest.raises(PreflightError, match="--annotation-file"):
        annotation_file(layout_lib.resolve(missing), True)
    default_missing = settings.replace(label_map=str(tmp_path / "label_map.pbtxt"))
    monkeypatch.setattr("components.train.trainer.numpy_needs_annotation_file", lambda: False)
    assert annotation_file(layout_lib.resolve(default_missing), False) is None
    monkeypatch.setattr("components.train.trainer.numpy_needs_annotation_file", lambda: True)
    with pytest.raises(PreflightError, match="--annotation-file"):
        annotation_file(layout_lib.resolve(default_missing), False)


@pytest.mark.slow
def test_local_training_evaluates_checkpoints_and_exports(trained):
    model_dir, data = trained["model_dir"], trained["data"]
    metrics = trained["metrics"]
    assert metrics["step"] == 4.0 and "AP" in metrics
    # Four steps train nothing worth a floor: Model Garden's own evaluation of the last checkpoint must agree
    # with pycocotools run directly on the exported model's detections.
    expected = pycocotools_summary(trained["saved_model"], os.path.join(data, "eval"),
                                   os.path.join(data, "eval_coco.json"))
    assert metrics["AP50"] == pytest.approx(expected["AP50"], abs=0.01)
    assert json.load(open(os.path.join(model_dir, "eval_metrics.json"))) == metrics
    assert {os.path.basename(p) for p in glob.glob(os.path.join(model_dir, "ckpt-*.index"))} == {
        "ckpt-2.index", "ckpt-4.index"}
    params = yaml.safe_load(open(os.path.join(model_dir, "params.yaml")))
    # COCO metrics read the convert step's ground truth file (the numpy 2.4-safe path).
    assert params["task"]["annotation_file"] == os.path.join(data, "eval_coco.json")
    assert params["task"]["model"]["num_classes"] == 4 and params["task"]["init_checkpoint"] is None
    assert glob.glob(os.path.join(model_dir, "validation", "events.out.tfevents.*"))
    assert glob.glob(os.path.join(model_dir, "train", "events.out.tfevents.*"))
    assert trained["saved_model"] == os.path.join(model_dir, "export", "saved_model")
    assert os.path.exists(os.path.join(trained["saved_model"], "saved_model.pb"))


@pytest.mark.slow
def test_each_evaluation_is_written_to_tensorboard(trained):
    import tensorflow as tf

    steps = set()
    for path in glob.glob(os.path.join(trained["model_dir"], "validation", "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            if any(v.tag == "AP50" for v in event.summary.value):
                steps.add(event.step)
    assert steps == {2, 4}
