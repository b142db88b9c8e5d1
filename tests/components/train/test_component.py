import json
import os
import shutil
from typing import NamedTuple

import pytest
import yaml
from kfp import compiler, dsl, local

from components.train.component import train
from components.train.task import UNSET
from tests.components.evaluate.test_evaluation import pycocotools_summary


def test_component_compiles_with_the_training_flags_unset(tmp_path):
    path = str(tmp_path / "train.yaml")
    compiler.Compiler().compile(train, path)
    comp = yaml.safe_load(open(path))["components"]["comp-train"]
    params = comp["inputDefinitions"]["parameters"]
    defaults = {name: params[name].get("defaultValue") for name in params}
    # Unset: the preset fills them in (the seed's batch 16, 960,1280, ...: tests/components/train/test_task.py).
    assert {name: defaults[name] for name in UNSET} == UNSET
    assert defaults["mode"] == "vertex" and defaults["preset"] == "seed"
    assert set(comp["inputDefinitions"]["artifacts"]) == {"train_data", "eval_data", "label_map", "examples"}
    outputs = comp["outputDefinitions"]
    assert set(outputs["artifacts"]) == {"model", "checkpoints", "metrics"}
    assert set(outputs["parameters"]) == {"gcp_resources"}


Outputs = NamedTuple("Outputs", [("model", dsl.Model), ("checkpoints", dsl.Artifact), ("metrics", dsl.Metrics)])


@dsl.pipeline
def resume_pipeline(train_uri: str, eval_uri: str, label_map_uri: str, data: str, model_dir: str) -> Outputs:
    """Import the convert output as the four artifacts the component takes, then train locally."""
    def imported(uri, cls):
        return dsl.importer(artifact_uri=uri, artifact_class=cls, reimport=False).output

    task = train(train_data=imported(train_uri, dsl.Dataset), eval_data=imported(eval_uri, dsl.Dataset),
                 label_map=imported(label_map_uri, dsl.Artifact), examples=imported(data, dsl.Dataset),
                 mode="local", preset="local", model_dir=model_dir, resume=True, max_steps=6,
                 train_steps_per_eval=2, warmup_steps=1, image_size="128,128", accelerator_type="NVIDIA_TESLA_P100",
                 accelerator_count=1)
    return Outputs(model=task.outputs["model"], checkpoints=task.outputs["checkpoints"],
                   metrics=task.outputs["metrics"])


@pytest.mark.slow
def test_component_resumes_a_local_run_and_outputs_the_saved_model(trained, tmp_path):
    model_dir = str(tmp_path / "model")
    shutil.copytree(trained["model_dir"], model_dir)  # the shared run stays as other tests expect it
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(tmp_path / "root"))
    data = trained["data"]  # OUT/gen-<run>: the convert component's train_data, eval_data and label_map
    run = resume_pipeline(train_uri=os.path.join(data, "train"), eval_uri=os.path.join(data, "eval"),
                          label_map_uri=os.path.join(data, "label_map.pbtxt"), data=trained["out"],
                          model_dir=model_dir)
    # Resumed from ckpt-4 and trained to 6 (on this machine's CPU: the P100 request is for Vertex only).
    assert os.path.exists(os.path.join(model_dir, "ckpt-6.index"))
    assert json.load(open(os.path.join(model_dir, "eval_metrics.json")))["step"] == 6.0
    model = run.outputs["model"]
    assert model.uri == os.path.join(model_dir, "export", "saved_model")
    assert os.path.exists(os.path.join(model.uri, "saved_model.pb"))
    assert model.metadata["input_size"] == [128, 128] and model.metadata["preset"] == "local"
    assert run.outputs["checkpoints"].uri == model_dir
    metrics = run.outputs["metrics"].metadata
    assert metrics["step"] == 6.0
    # Six steps train nothing worth a floor: the reported AP50 must be pycocotools' on the exported model.
    expected = pycocotools_summary(model.uri, os.path.join(data, "eval"), os.path.join(data, "eval_coco.json"))
    assert metrics["AP50"] == pytest.approx(expected["AP50"], abs=0.01)
