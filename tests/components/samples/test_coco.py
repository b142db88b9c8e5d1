import json
import re
from pathlib import Path

import pytest

from components.samples import SampleOptions, generate
from components.samples.dataset import BOX_DEFINITION_ID
from tests.components.samples.helpers import decode, jpeg_size, png_header


@pytest.fixture(scope="module")
def coco(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("coco") / "c", "coco", num_images=20, width=100, height=80, seed=9)


def test_coco_annotations_describe_the_images(coco):
    root = Path(coco.root)
    doc = json.loads((root / "annotations.json").read_text())
    assert doc["categories"] == [{"id": 1, "name": "rectangle", "supercategory": "shape"},
                                 {"id": 2, "name": "ellipse", "supercategory": "shape"},
                                 {"id": 3, "name": "triangle", "supercategory": "shape"}]
    assert [i["id"] for i in doc["images"]] == list(range(1, 21))
    truth = coco.boxes_by_path()
    by_image = {i["id"]: [] for i in doc["images"]}
    for ann in doc["annotations"]:
        by_image[ann["image_id"]].append(ann)
        x, y, w, h = ann["bbox"]
        assert ann["area"] == w * h and ann["iscrowd"] == 0
        assert 0 <= x and x + w <= 100 and 0 <= y and y + h <= 80
    assert len({a["id"] for a in doc["annotations"]}) == len(doc["annotations"]) == coco.num_objects
    for image in doc["images"]:
        assert (image["width"], image["height"]) == (100, 80)
        data = (root / "images" / image["file_name"]).read_bytes()
        assert png_header(data) == (100, 80, 2)
        expected = truth[f"images/{image['file_name']}"]
        assert [(a["category_id"], a["bbox"]) for a in by_image[image["id"]]] == [
            (b.label_id, [b.x, b.y, b.width, b.height]) for b in expected]
        assert decode(data).shape == (80, 100, 3)


def test_coco_jpeg_and_non_contiguous_categories(tmp_path):
    dataset = generate(tmp_path / "j", "coco", num_images=4, width=64, height=48,
                       options=SampleOptions(image_format="jpeg", label_ids=(1, 5, 90)))
    doc = json.loads((Path(dataset.root) / "annotations.json").read_text())
    assert [c["id"] for c in doc["categories"]] == [1, 5, 90]
    assert {a["category_id"] for a in doc["annotations"]} <= {1, 5, 90}
    for image in doc["images"]:
        assert image["file_name"].endswith(".jpg")
        assert jpeg_size((Path(dataset.root) / "images" / image["file_name"]).read_bytes()) == (64, 48)


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("real") / "v3", "unity-real", num_images=20, width=120, height=80,
                    seed=3)


def test_unity_real_layout(real):
    root = Path(real.root)
    assert sorted(p.name for p in root.iterdir()) == [
        "annotation_definitions.json", "annotations.json", "groceries_real_test.txt", "groceries_real_train.txt",
        "groceries_real_val.txt", "images"]
    records = json.loads((root / "annotations.json").read_text())
    assert isinstance(records, list) and len(records) == 20
    truth = real.boxes_by_path()
    for record in records:
        assert re.fullmatch(r"IMG_\d{4}\.JPG", record["file_name"])
        assert jpeg_size((root / "images" / record["file_name"]).read_bytes()) == (120, 80)
        assert record["annotations"] == [{"label_id": b.label_id, "bbox": [b.x, b.y, b.width, b.height]}
                                         for b in truth[f"images/{record['file_name']}"]]
    definitions = json.loads((root / "annotation_definitions.json").read_text())["annotation_definitions"]
    assert definitions[0]["id"] == BOX_DEFINITION_ID
    assert definitions[0]["spec"] == [{"label_id": 1, "label_name": "rectangle"},
                                      {"label_id": 2, "label_name": "ellipse"},
                                      {"label_id": 3, "label_name": "triangle"}]


def test_unity_real_splits_partition_the_records(real):
    root = Path(real.root)
    splits = {s: [int(i) for i in (root / f"groceries_real_{s}.txt").read_text().split()]
              for s in ("train", "val", "test")}
    assert [len(v) for v in splits.values()] == [12, 4, 4]
    assert sorted(i for v in splits.values() for i in v) == list(range(20))
    assert all(v == sorted(v) for v in splits.values())
