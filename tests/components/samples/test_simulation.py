import json
import re
from collections import Counter
from pathlib import Path

import pytest

from components.samples import SampleOptions, generate
from components.samples.dataset import BOX_DEFINITION_ID
from components.samples.shapes import CLASSES
from components.samples.simulation import split_evenly
from tests.components.samples.helpers import check_boxes_against_segmentation, png_header


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    output = tmp_path_factory.mktemp("sim") / "bucket"
    return generate(output, "unity-simulation", num_images=30, width=128, height=96, seed=2)


def datasets(root: Path) -> dict[str, Path]:
    """{attempt folder relative to root: Dataset<uuid> folder}."""
    return {str(p.parent.parent.relative_to(root)): p.parent
            for p in sorted(root.glob("*/*/*/Dataset*/captures_000.json"))}


def captures(dataset_dir: Path) -> list[dict]:
    files = sorted(dataset_dir.glob("captures_*.json"))
    return [c for f in files for c in json.loads(f.read_text())["captures"]]


def test_tree_is_rooted_at_the_run_execution_as_in_a_bucket(dataset):
    root = Path(dataset.root)
    assert root.name == "urn:run_executions:5M6wq80"
    assert root.parent.name == "urn:run_definitions:El64GVP"
    assert root.parent.parent.name == "run_executions"
    assert root.parent.parent.parent.parent.name == "projects"
    assert (dataset.project_id, dataset.run_definition_id, dataset.run_execution_id) == (
        "5d3f8a42-91c6-4e0b-b7a1-2c9e60d4f318", "El64GVP", "5M6wq80")
    assert root.parent.parent.parent.name == dataset.project_id
    assert sorted(p.name for p in root.iterdir()) == sorted(f"urn:app_params:{a}" for a in dataset.app_param_ids)
    assert len(dataset.app_param_ids) == 3


def test_each_instance_has_attempts_and_one_was_retried(dataset):
    root = Path(dataset.root)
    attempts = sorted(str(p.relative_to(root)) for p in root.glob("*/*/attempt:*"))
    per_instance = Counter(a.rsplit("/", 1)[0] for a in attempts)
    assert len(per_instance) == 6 and sorted(per_instance.values()) == [1, 1, 1, 1, 1, 2]
    (retried,) = [i for i, n in per_instance.items() if n == 2]
    assert dataset.superseded == (f"{retried}/attempt:0",)
    assert all(re.fullmatch(r"urn:app_params:\w+/instance:\d+", i) for i in per_instance)


def test_stale_attempt_is_partial_and_labelled_differently(dataset):
    root = Path(dataset.root)
    found = datasets(root)
    stale = captures(found[dataset.superseded[0]])
    fresh = captures(found[dataset.superseded[0].replace("attempt:0", "attempt:1")])
    assert 0 < len(stale) < len(fresh)
    fresh_by_name = {c["filename"].split("/")[-1]: c for c in fresh}
    for capture in stale:
        twin = fresh_by_name[capture["filename"].split("/")[-1]]
        old, new = capture["annotations"][1]["values"], twin["annotations"][1]["values"]
        assert [(v["x"], v["width"]) for v in old] == [(v["x"], v["width"]) for v in new]
        assert all(a["label_id"] != b["label_id"] for a, b in zip(old, new))
    truth = dataset.boxes_by_path()
    assert not any(p.startswith(dataset.superseded[0] + "/") for p in truth)


def test_every_dataset_is_complete_and_matches_ground_truth(dataset):
    root = Path(dataset.root)
    truth = dataset.boxes_by_path()
    seen = []
    for attempt, data in datasets(root).items():
        assert sorted(p.name for p in data.iterdir() if not p.name.startswith("captures_")) == [
            "annotation_definitions.json", "egos.json", "metric_definitions.json", "metrics_000.json", "sensors.json"]
        definitions = json.loads((data / "annotation_definitions.json").read_text())["annotation_definitions"]
        assert definitions[1]["id"] == BOX_DEFINITION_ID and definitions[1]["name"] == "bounding box"
        records = captures(data)
        assert len(list(data.glob("captures_*.json"))) >= 2
        for capture in records:
            assert [a["annotation_definition"] for a in capture["annotations"]] == [definitions[0]["id"],
                                                                                    BOX_DEFINITION_ID]
            image = root / attempt / capture["filename"]
            assert png_header(image.read_bytes()) == (128, 96, 6)
            values = capture["annotations"][1]["values"]
            if attempt in dataset.superseded:
                continue
            path = f"{attempt}/{capture['filename']}"
            seen.append(path)
            assert [(v["label_id"], v["x"], v["y"], v["width"], v["height"]) for v in values] == [
                (b.label_id, b.x, b.y, b.width, b.height) for b in truth[path]]
            check_boxes_against_segmentation(
                root / attempt / capture["annotations"][0]["filename"],
                [(CLASSES.index(v["label_name"]), int(v["x"]), int(v["y"]), int(v["width"]), int(v["height"]))
                 for v in values])
    assert sorted(seen) == sorted(truth) and len(truth) == 30


def test_image_basenames_repeat_across_instances(dataset):
    names = Counter(p.rsplit("/", 1)[1] for p in dataset.boxes_by_path())
    assert names.most_common(1)[0][1] == 6
    assert all(int(re.fullmatch(r"rgb_(\d+)\.png", n).group(1)) > 0 for n in names)


def test_custom_ids_and_instance_counts(tmp_path):
    options = SampleOptions(project_id="rut-test", run_definition_id="Qw3rTy7", run_execution_id="Zx9cVb2",
                            app_param_ids=("a1", "b2"), instances_per_app_param=1)
    dataset = generate(tmp_path / "b", "unity-simulation", num_images=5, width=64, height=48, options=options)
    root = Path(dataset.root)
    assert root == (tmp_path / "b/projects/rut-test/run_executions"
                    / "urn:run_definitions:Qw3rTy7/urn:run_executions:Zx9cVb2")
    assert dataset.superseded == ("urn:app_params:b2/instance:0/attempt:0",)
    assert sorted(str(p.relative_to(root)) for p in root.glob("*/*/attempt:*")) == [
        "urn:app_params:a1/instance:0/attempt:0", "urn:app_params:b2/instance:0/attempt:0",
        "urn:app_params:b2/instance:0/attempt:1"]


def test_split_evenly():
    assert split_evenly(30, 6) == [5] * 6
    assert split_evenly(8, 3) == [3, 3, 2]
    assert split_evenly(2, 4) == [1, 1, 0, 0]
