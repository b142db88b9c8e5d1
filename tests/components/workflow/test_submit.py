"""make_submission's own checks: region, pipeline root, placeholder images, typed defaults."""
import pytest
import yaml

from components.common.images import REGISTRY_HINT
from components.workflow.submit import check_region, make_submission, placeholder_images, typed_defaults

OURS = "europe-docker.pkg.dev/acme/synthdet"
PLACEHOLDER = "us-docker.pkg.dev/YOUR_PROJECT/synthdet"


def spec(executor_image=f"{OURS}/synthdet-train:7", constant=f"{OURS}/synthdet-train:7", default=""):
    return {
        "root": {
            "inputDefinitions": {"parameters": {
                "max_steps": {"parameterType": "NUMBER_INTEGER", "defaultValue": 0.0, "isOptional": True},
                "eval_pct": {"parameterType": "NUMBER_DOUBLE", "defaultValue": 20.0, "isOptional": True}}},
            "dag": {"tasks": {"train": {
                "componentRef": {"name": "comp-train"}, "taskInfo": {"name": "Train RetinaNet"},
                "inputs": {"parameters": {"trainer_image": {"runtimeValue": {"constant": constant}},
                                          "max_steps": {"componentInputParameter": "max_steps"}}}}}},
        },
        "components": {"comp-train": {
            "executorLabel": "exec-train",
            "inputDefinitions": {"parameters": {
                "trainer_image": {"parameterType": "STRING", "defaultValue": default, "isOptional": True},
                "extra_beam_args": {"parameterType": "LIST", "defaultValue": [], "isOptional": True}}}}},
        "deploymentSpec": {"executors": {"exec-train": {"container": {"image": executor_image}}}},
    }


def write(tmp_path, doc):
    path = tmp_path / "pipeline.yaml"
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def test_a_spec_with_our_images_is_accepted(tmp_path):
    seen = []
    sub = make_submission(write(tmp_path, spec()), "acme", "us-central1", "gs://acme/root", ["max_steps=20"],
                          validate=lambda values, compiled: seen.append((values, compiled)))
    assert sub.parameter_values == {"max_steps": 20}
    values, compiled = seen[0]
    assert values == {"max_steps": 20, "eval_pct": 20.0} and "deploymentSpec" in compiled


@pytest.mark.parametrize("doc", [
    spec(executor_image=f"{PLACEHOLDER}/synthdet-train:0.1.0"),
    spec(constant=f"{PLACEHOLDER}/synthdet-train:0.1.0"),
    spec(default=f"{PLACEHOLDER}/synthdet-train-tpu:0.1.0"),
])
def test_placeholder_images_are_refused_with_the_registry_hint(tmp_path, doc):
    with pytest.raises(ValueError) as err:
        make_submission(write(tmp_path, doc), "acme", "us-central1", "gs://acme/root", [])
    assert "YOUR_PROJECT" in str(err.value) and REGISTRY_HINT in str(err.value)


def test_placeholder_images_lists_ours_only():
    doc = spec(constant="not an image", default="projects/YOUR_PROJECT/secrets/s")
    assert placeholder_images(doc) == []
    doc = spec(executor_image=f"{PLACEHOLDER}/synthdet-evaluate:0.1.0", constant=f"{PLACEHOLDER}/synthdet-convert:1")
    assert placeholder_images(doc) == [f"{PLACEHOLDER}/synthdet-convert:1", f"{PLACEHOLDER}/synthdet-evaluate:0.1.0"]


def test_integer_defaults_keep_their_type():
    defaults = typed_defaults(spec()["root"]["inputDefinitions"]["parameters"])
    assert defaults == {"max_steps": 0, "eval_pct": 20.0} and type(defaults["max_steps"]) is int


@pytest.mark.parametrize("region", ["us-central1", "europe-west4", "northamerica-northeast1"])
def test_regions(region):
    assert check_region(region) == region


@pytest.mark.parametrize("region", ["mars", "us_central1", "", "US-CENTRAL1"])
def test_not_regions(region):
    with pytest.raises(ValueError, match="--param region"):
        check_region(region, "--param region")
