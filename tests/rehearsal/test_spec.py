"""The rehearsal's checks on a compiled spec and on resolved task commands (no images needed)."""
import json
import os
import subprocess
import sys

import pytest
import yaml

from rehearsal.images import ROOT
from rehearsal.spec import check_spec, executor_input, task_inputs


def compile_with(tmp_path, registry):
    env = {**os.environ, "PYTHON": sys.executable}
    env.pop("SYNTHDET_IMAGE_REGISTRY", None)
    if registry:
        env["SYNTHDET_IMAGE_REGISTRY"] = registry
    subprocess.run(["bash", os.path.join(ROOT, "compile.sh"), str(tmp_path)], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=300)
    return yaml.safe_load(open(tmp_path / "pipeline.yaml"))


def test_a_spec_compiled_with_a_registry_names_our_images_everywhere(tmp_path):
    found = check_spec(compile_with(tmp_path, "europe-docker.pkg.dev/acme/synthdet"))
    assert found["convert.sdk_container_image"] == "europe-docker.pkg.dev/acme/synthdet/synthdet-convert:0.1.0"
    assert found["train.trainer_image"] == "europe-docker.pkg.dev/acme/synthdet/synthdet-train:0.1.0"


def test_a_spec_compiled_without_a_registry_is_refused(tmp_path):
    with pytest.raises(ValueError, match="placeholder registry"):
        check_spec(compile_with(tmp_path, ""))


def test_a_train_task_without_its_image_is_named():
    spec = {"deploymentSpec": {"executors": {}}, "components": {"comp-train": {}},
            "root": {"dag": {"tasks": {"train": {"componentRef": {"name": "comp-train"}, "inputs": {"parameters": {}}}}}}}
    with pytest.raises(ValueError, match="task train passes trainer_image=''"):
        check_spec(spec)


def test_task_inputs_come_from_the_resolved_executor_input():
    doc = {"inputs": {"parameterValues": {"eval_pct": 20.0},
                      "artifacts": {"label_map": {"artifacts": [{"uri": "/root/convert/label_map.pbtxt"}]}}},
           "outputs": {}}
    command = ["sh", "-ec", "...", "--", "--executor_input", json.dumps(doc), "--function_to_execute", "convert"]
    assert executor_input(command) == doc
    assert task_inputs(command) == {"eval_pct": 20.0, "artifacts": {"label_map": "/root/convert/label_map.pbtxt"}}
    with pytest.raises(ValueError, match="no --executor_input"):
        executor_input(["python", "-m", "x"])
