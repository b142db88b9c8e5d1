import json
import os

import pytest
import yaml
from kfp import compiler, local

from components.convert.component import convert
from tests.components.convert.builders import legacy_dataset


def test_component_compiles_with_its_interface(tmp_path):
    path = str(tmp_path / "convert.yaml")
    compiler.Compiler().compile(convert, path)
    spec = yaml.safe_load(open(path))
    comp = spec["components"]["comp-convert"]
    params = comp["inputDefinitions"]["parameters"]
    assert params["eval_pct"]["defaultValue"] == 20.0 and params["runner"]["defaultValue"] == "DirectRunner"
    assert params["max_dropped_box_fraction"]["defaultValue"] == 0.05
    outputs = comp["outputDefinitions"]
    assert set(outputs["artifacts"]) == {"examples", "train_data", "eval_data", "label_map", "metrics", "preview"}
    assert outputs["artifacts"]["preview"]["artifactType"]["schemaTitle"] == "system.HTML"
    assert set(outputs["parameters"]) == {"gcp_resources", "num_classes"}


@pytest.mark.slow
def test_component_runs_locally_and_points_artifacts_into_its_output(tmp_path):
    legacy_dataset(str(tmp_path / "ds"), 12)
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(tmp_path / "root"))
    task = convert(source=str(tmp_path / "ds"), eval_pct=25.0)
    examples = task.outputs["examples"].uri
    assert task.outputs["num_classes"] == 3
    generation = json.load(open(os.path.join(examples, "manifest.json")))["generation"]
    assert task.outputs["train_data"].uri == os.path.join(examples, generation, "train")
    assert task.outputs["label_map"].uri == os.path.join(examples, generation, "label_map.pbtxt")
    assert os.path.exists(os.path.join(examples, "stats.json"))
    assert task.outputs["metrics"].metadata["train_examples"] + task.outputs["metrics"].metadata["eval_examples"] == 12
    # The dataset preview of the records just written, drawn without TensorFlow.
    preview = task.outputs["preview"]
    assert preview.metadata["records"] == 12 and preview.metadata["problems"] == 0
    page = open(preview.path).read()
    assert page.count("data:image/jpeg") >= 12 and "cube" in page


def test_a_preview_that_cannot_be_made_says_so_and_keeps_the_conversion(tmp_path, caplog):
    from types import SimpleNamespace

    from components.convert.task import write_preview

    preview = SimpleNamespace(path=str(tmp_path / "preview.html"), metadata={})
    write_preview(str(tmp_path / "no-records"), preview)
    assert "no TFRecord files match" in preview.metadata["error"]
    assert "The dataset preview of" in open(preview.path).read()
    assert any(r.levelname == "ERROR" and "Dataset preview" in r.getMessage() for r in caplog.records)
