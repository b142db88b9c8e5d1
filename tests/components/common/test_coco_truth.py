import dataclasses
import logging

import pytest

from components.common.coco_truth import GroundTruth, ImageIdError, RecordTruth, coco_ground_truth, pixel_box
from components.convert.examples import encode
from components.convert.frames import Box, Frame
from components.convert.outputs import coco_ground_truth as convert_ground_truth
from components.convert.transforms import Written
from components.common import plain_records
from components.evaluate import records
from components.evaluate.evaluation import coco_ground_truth as evaluate_ground_truth
from tests.components.convert.helpers import png_bytes

LABELS = {1: "cube", 3: "ball"}
FRAMES = {  # boxes that are not exact in float32 once normalized, a COCO area and a crowd box
    "b/rgb_2.png": (333, 217, (Box(10.3, 7.1, 100.7, 50.9, "cube"), Box(200, 100, 99, 80, "ball", 1, 5000.5))),
    "a/rgb_1.png": (160, 90, (Box(0, 0, 33.3, 44.4, "ball"),)),
    "c/rgb_3.png": (64, 48, ()),  # a negative example
}


def written(tmp_path):
    """The convert writer's records of FRAMES in one shard, and the rows the finalize step gets."""
    rows, chunks = [], []
    for key, (width, height, boxes) in FRAMES.items():
        encoded = encode(key, Frame(key, boxes, "c.json"), png_bytes(width, height), {"cube": 1, "ball": 3})
        chunks += encoded.chunks
        rows.append(Written("eval", key, encoded.source_id, encoded.width, encoded.height, encoded.objects, ()))
    shard = tmp_path / "eval-00000-of-00001.tfrecord"
    shard.write_bytes(b"".join(chunks))
    return str(shard), rows


def test_convert_and_evaluate_build_the_same_dict_from_the_same_records(tmp_path):
    shard, rows = written(tmp_path)
    eval_coco = convert_ground_truth(rows, LABELS)
    assert evaluate_ground_truth(records.read_examples(shard), LABELS) == eval_coco
    assert evaluate_ground_truth(plain_records.read_examples(shard), LABELS) == eval_coco
    assert convert_ground_truth(list(reversed(rows)), LABELS) == eval_coco  # the order records come in
    assert [i["file_name"] for i in eval_coco["images"]] == ["a/rgb_1.png", "b/rgb_2.png", "c/rgb_3.png"]
    assert [i["id"] for i in eval_coco["images"]] == [rows[1].source_id, rows[0].source_id, rows[2].source_id]
    assert [(a["id"], a["image_id"], a["category_id"], a["iscrowd"]) for a in eval_coco["annotations"]] == [
        (1, rows[1].source_id, 3, 0), (2, rows[0].source_id, 1, 0), (3, rows[0].source_id, 3, 1)]
    ball, cube, crowd = eval_coco["annotations"]
    assert cube["bbox"] == pytest.approx([10.3, 7.1, 100.7, 50.9], abs=1e-4)
    assert cube["area"] == pytest.approx(100.7 * 50.9, rel=1e-6) and crowd["area"] == 5000.5
    assert eval_coco["categories"] == [{"id": 1, "name": "cube", "supercategory": "object"},
                                       {"id": 3, "name": "ball", "supercategory": "object"}]


def record(source_id, name, boxes=((0.1, 0.2, 0.5, 0.6),)):
    return RecordTruth(str(source_id), name, 200, 100, boxes, [1] * len(boxes), where="eval-00000.tfrecord")


def test_a_repeated_image_id_is_refused_naming_both_records():
    with pytest.raises(ImageIdError, match="'b.png' in eval-00000.tfrecord repeats the image/source_id 7 of 'a.png'"):
        coco_ground_truth([record(7, "a.png"), record(7, "b.png")], LABELS)
    with pytest.raises(ImageIdError, match="'a.png' in eval-00000.tfrecord has image/source_id 'x1'"):
        coco_ground_truth([record("x1", "a.png")], LABELS)


def test_evaluate_gives_repeated_and_missing_ids_private_ones(caplog):
    truth = GroundTruth(LABELS, private_ids=True)
    with caplog.at_level(logging.WARNING):
        ids = [truth.add(record(7, "a.png")), truth.add(record(7, "b.png")), truth.add(record("", "c.png"))]
    assert ids == [7, 2 ** 53, 2 ** 53 + 1] and truth.fallback_ids == 2 and len(truth) == 3
    assert "'b.png' in eval-00000.tfrecord repeats the image/source_id 7 of 'a.png'" in caplog.text
    assert sorted(i["id"] for i in truth.dataset()["images"]) == ids


def test_missing_areas_come_from_the_pixel_box_and_unknown_labels_from_their_text():
    plain = dataclasses.replace(record(5, "a.png"), labels=[9], texts=["cone"])
    coco = coco_ground_truth([plain], LABELS)
    assert coco["annotations"][0]["bbox"] == pytest.approx([40.0, 10.0, 80.0, 40.0])
    assert coco["annotations"][0]["area"] == pytest.approx(3200.0) and coco["annotations"][0]["iscrowd"] == 0
    assert coco["categories"][-1] == {"id": 9, "name": "cone", "supercategory": "object"}
    assert pixel_box((0.25, 0.5, 0.75, 1.0), 200, 100) == [100.0, 25.0, 100.0, 50.0]
