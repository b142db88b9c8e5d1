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
    outputs = comp["outputDefinitions"]
    assert set(outputs["artifacts"]) == {"examples", "train_data", "eval_data", "label_map", "metrics"}
    assert set(outputs["parameters"]) == {"gcp_resources", "num_classes"}


@pytest.mark.slow
def test_component_runs_locally_and_points_artifacts_into_its_output(tmp_path):
    legacy_dataset(str(tmp_path / "ds"), 12)
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(tmp_path / "root"))
    task = convert(source=str(tmp_path / "ds"), eval_pct=25.0)
    examples = task.outputs["examples"].uri
    assert task.outputs["num_classes"] == 3
    assert task.outputs["train_data"].uri == os.path.join(examples, "train")
    assert task.outputs["label_map"].uri == os.path.join(examples, "label_map.pbtxt")
    assert os.path.exists(os.path.join(examples, "stats.json"))
    assert task.outputs["metrics"].metadata["train_examples"] + task.outputs["metrics"].metadata["eval_examples"] == 12
