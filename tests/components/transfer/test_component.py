import os

import pytest
import yaml
from kfp import compiler, local

from components.transfer.component import transfer
from components.transfer.emulator import Faults
from tests.components.transfer.conftest import BUCKET, DEFINITION, EXECUTION, PROJECT, RUN_FILES, TOKEN, read_tree, \
    run_path

PARAMETERS = {"project_id", "run_definition_id", "run_execution_id", "bucket", "token_secret", "api_url",
              "buckets_root", "timeout", "poll_interval", "max_poll_interval", "skip_if_present", "id_field",
              "max_retries"}


def test_component_compiles_with_its_interface(tmp_path):
    path = str(tmp_path / "transfer.yaml")
    compiler.Compiler().compile(transfer, path)
    text = open(path).read()
    comp = yaml.safe_load(text)["components"]["comp-transfer"]
    params = comp["inputDefinitions"]["parameters"]
    assert set(params) == PARAMETERS
    assert params["timeout"]["defaultValue"] == 21600.0 and params["poll_interval"]["defaultValue"] == 30.0
    assert params["max_poll_interval"]["defaultValue"] == 300.0 and params["token_secret"]["defaultValue"] == ""
    assert {name for name, p in params.items() if not p.get("isOptional")} == {
        "project_id", "run_definition_id", "run_execution_id", "bucket"}
    outputs = comp["outputDefinitions"]
    assert outputs["artifacts"]["dataset"]["artifactType"]["schemaTitle"] == "system.Dataset"
    assert set(outputs["parameters"]) == {"dataset_uri", "transfer_id"}
    assert "synthdet-transfer:" in text and "--no-deps" not in text and "pip install" not in text


# The subprocess runner warns that it ignores the (non-Python-named) base image; that is how local runs work.
@pytest.mark.filterwarnings("ignore:You may be attemping to run a task:RuntimeWarning")
def test_component_runs_locally_against_the_emulator(tmp_path, start_emulator, buckets, monkeypatch):
    monkeypatch.setenv("USIM_ACCESS_TOKEN", TOKEN)
    emu = start_emulator(Faults(error_rate=0.3, retry_after="0", copy_delay=0.2, seed=4))
    root = tmp_path / "root"
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(root))
    task = transfer(project_id=PROJECT, run_definition_id=DEFINITION,
                    run_execution_id=f"urn:run_executions:{EXECUTION}", bucket=BUCKET, api_url=emu.url,
                    buckets_root=buckets, poll_interval=0.1, max_poll_interval=0.2)
    expected = os.path.join(buckets, BUCKET, *run_path().split("/"))
    dataset = task.outputs["dataset"]
    assert dataset.uri == expected and task.outputs["dataset_uri"] == expected
    assert read_tree(expected) == RUN_FILES
    meta = dataset.metadata
    assert meta["status"] == "success" and meta["transfer_id"] == task.outputs["transfer_id"] in emu.transfers
    assert meta["files"] == len(RUN_FILES) and meta["skipped"] is False and meta["run_execution_id"] == EXECUTION
    for folder, _, names in os.walk(root):
        for name in names:
            assert TOKEN.encode() not in open(os.path.join(folder, name), "rb").read(), name
