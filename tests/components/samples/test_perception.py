import json
import re
from pathlib import Path

import pytest

from components.samples import generate
from components.samples.dataset import BOX_DEFINITION_ID, SampleOptions
from components.samples.perception import captures_per_file
from components.samples.shapes import CLASSES
from tests.components.samples.helpers import check_boxes_against_segmentation, png_header


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("perception") / "out", "perception", num_images=24, width=160,
                    height=120, seed=4)


def folder(root: Path, prefix: str) -> Path:
    (match,) = [p for p in root.iterdir() if p.name.startswith(prefix)]
    assert re.fullmatch(prefix + r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", match.name)
    return match


def load(path: Path) -> dict:
    doc = json.loads(path.read_text())
    assert doc["version"] == "0.0.1"
    return doc


def captures(root: Path) -> list[dict]:
    files = sorted(folder(root, "Dataset").glob("captures_*.json"))
    return [c for f in files for c in load(f)["captures"]]


def test_root_holds_one_dataset_and_its_image_folders(dataset):
    root = Path(dataset.root)
    assert dataset.layout == "perception" and dataset.num_images == 24
    assert len(list(root.iterdir())) == 3
    assert len(list(folder(root, "RGB").iterdir())) == 24
    assert len(list(folder(root, "SemanticSegmentation").iterdir())) == 24
    data = folder(root, "Dataset")
    assert sorted(p.name for p in data.iterdir()) == [
        "annotation_definitions.json", "captures_000.json", "captures_001.json", "egos.json",
        "metric_definitions.json", "metrics_000.json", "sensors.json"]


def test_definitions_name_the_box_labeler_and_its_labels(dataset):
    data = folder(Path(dataset.root), "Dataset")
    definitions = load(data / "annotation_definitions.json")["annotation_definitions"]
    assert [d["name"] for d in definitions] == ["semantic segmentation", "bounding box"]
    box = definitions[1]
    assert box["id"] == BOX_DEFINITION_ID and box["format"] == "json"
    assert box["spec"] == [{"label_id": i + 1, "label_name": n} for i, n in enumerate(CLASSES)]
    assert all(isinstance(d["id"], str) for d in definitions)
    sensor = load(data / "sensors.json")["sensors"][0]
    ego = load(data / "egos.json")["egos"][0]
    assert sensor["modality"] == "camera" and sensor["ego_id"] == ego["id"]
    metric = load(data / "metric_definitions.json")["metric_definitions"][0]
    metrics = load(data / "metrics_000.json")["metrics"]
    assert len(metrics) == 24 and {m["metric_definition"] for m in metrics} == {metric["id"]}


def test_captures_match_ground_truth_and_images(dataset):
    root = Path(dataset.root)
    records = captures(root)
    truth = dataset.boxes_by_path()
    assert sorted(c["filename"] for c in records) == sorted(truth)
    assert len({c["id"] for c in records}) == 24
    definitions = load(folder(root, "Dataset") / "annotation_definitions.json")["annotation_definitions"]
    for capture in records:
        assert capture["format"] == "PNG" and capture["sensor"]["modality"] == "camera"
        assert re.fullmatch(r"RGB[0-9a-f-]{36}/rgb_\d+\.png", capture["filename"])
        segmentation, box = capture["annotations"]
        assert segmentation["annotation_definition"] == definitions[0]["id"]
        assert box["annotation_definition"] == BOX_DEFINITION_ID
        values = box["values"]
        expected = truth[capture["filename"]]
        assert [(v["label_id"], v["label_name"], v["instance_id"], v["x"], v["y"], v["width"], v["height"])
                for v in values] == [(b.label_id, b.label_name, b.instance_id, b.x, b.y, b.width, b.height)
                                     for b in expected]
        assert all(isinstance(v["x"], float) and v["x"].is_integer() for v in values)
        image = (root / capture["filename"]).read_bytes()
        assert png_header(image) == (160, 120, 6)
        check_boxes_against_segmentation(root / segmentation["filename"],
                                         [(CLASSES.index(v["label_name"]), int(v["x"]), int(v["y"]),
                                           int(v["width"]), int(v["height"])) for v in values])


def test_frames_are_not_zero_based_nor_contiguous(dataset):
    frames = sorted(int(re.search(r"rgb_(\d+)\.png", c["filename"]).group(1)) for c in captures(Path(dataset.root)))
    assert frames[0] > 0 and frames[-1] - frames[0] + 1 > len(frames)


def test_some_images_are_true_negatives(dataset):
    empty = [i for i in dataset.images if not i.boxes]
    assert len(empty) == 1
    (record,) = [c for c in captures(Path(dataset.root)) if c["filename"] == empty[0].path]
    assert record["annotations"][1]["values"] == []


def test_captures_per_file():
    assert captures_per_file(24, None) == 12
    assert captures_per_file(1000, None) == 150
    assert captures_per_file(1, None) == 1
    assert captures_per_file(24, 5) == 5


def test_requested_captures_per_file_and_label_ids(tmp_path):
    dataset = generate(tmp_path / "p", "perception", num_images=7, width=64, height=48,
                       options=SampleOptions(captures_per_file=3, label_ids=(10, 4, 7)))
    data = folder(Path(dataset.root), "Dataset")
    counts = [len(load(f)["captures"]) for f in sorted(data.glob("captures_*.json"))]
    assert counts == [3, 3, 1]
    spec = load(data / "annotation_definitions.json")["annotation_definitions"][1]["spec"]
    assert spec == [{"label_id": 10, "label_name": "rectangle"}, {"label_id": 4, "label_name": "ellipse"},
                    {"label_id": 7, "label_name": "triangle"}]
    labels = {v["label_id"] for c in captures(Path(dataset.root)) for v in c["annotations"][1]["values"]}
    assert labels <= {10, 4, 7}
