import json
import os
from pathlib import Path

import pytest
import yaml
from kfp import compiler, dsl, local

from components.evaluate.component import evaluate, preview


def compiled(component, tmp_path):
    path = str(tmp_path / "c.yaml")
    compiler.Compiler().compile(component, path)
    return yaml.safe_load(Path(path).read_text())


def test_evaluate_compiles_with_its_interface(tmp_path):
    comp = compiled(evaluate, tmp_path)["components"]["comp-evaluate"]
    inputs = comp["inputDefinitions"]
    assert {k: v["artifactType"]["schemaTitle"] for k, v in inputs["artifacts"].items()} == {
        "model": "system.Model", "eval_data": "system.Dataset", "label_map": "system.Artifact"}
    params = inputs["parameters"]
    assert params["min_map"]["defaultValue"] == 0.0 and params["gate_metric"]["defaultValue"] == "AP50"
    outputs = comp["outputDefinitions"]
    assert {k: v["artifactType"]["schemaTitle"] for k, v in outputs["artifacts"].items()} == {
        "metrics": "system.Metrics", "report": "system.HTML", "metrics_json": "system.Artifact"}
    assert {k: v["parameterType"] for k, v in outputs["parameters"].items()} == {
        "passed": "BOOLEAN", "gate_value": "NUMBER_DOUBLE"}


def test_preview_compiles_with_its_interface(tmp_path):
    comp = compiled(preview, tmp_path)["components"]["comp-preview"]
    assert set(comp["inputDefinitions"]["artifacts"]) == {"examples"}
    assert set(comp["outputDefinitions"]["artifacts"]) == {"report"}
    assert comp["inputDefinitions"]["parameters"]["max_records"]["defaultValue"] == 2000


@pytest.mark.slow
def test_components_run_locally_on_imported_artifacts(exported, eval_set, tmp_path):
    root, images = eval_set
    (root / "stats.json").write_text(json.dumps({"skipped": {"missing_image": 1}}))

    @dsl.pipeline
    def check(model_uri: str, data_uri: str, label_map_uri: str, min_map: float) -> bool:
        model = dsl.importer(artifact_uri=model_uri, artifact_class=dsl.Model)
        data = dsl.importer(artifact_uri=data_uri, artifact_class=dsl.Dataset)
        label_map = dsl.importer(artifact_uri=label_map_uri, artifact_class=dsl.Artifact)
        preview(examples=data.output, num_images=2)
        scored = evaluate(model=model.output, eval_data=data.output, label_map=label_map.output,
                          min_map=min_map, num_report_images=2)
        return scored.outputs["passed"]

    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(tmp_path / "root"))
    run = check(model_uri=exported, data_uri=str(root / "eval"), label_map_uri=str(root / "label_map.pbtxt"),
                min_map=0.9)
    assert run.output is True
    reports = [os.path.join(d, f) for d, _, files in os.walk(tmp_path / "root") for f in files if f == "report"]
    assert len(reports) == 2
    assert any("Detector evaluation" in Path(p).read_text() for p in reports)
    assert any("Dataset preview" in Path(p).read_text() for p in reports)
