"""The whole conversion over the generated sample set, in every layout, against its ground truth."""
import glob
import json
import os

import pytest
import tensorflow as tf
from PIL import Image

from components.convert.options import Settings
from components.convert.pipeline import convert, run
from components.samples import SampleOptions, generate


def boxes_of(example: tf.train.Example) -> list[tuple]:
    f = example.features.feature
    w, h = f["image/width"].int64_list.value[0], f["image/height"].int64_list.value[0]
    return sorted(zip(f["image/object/class/label"].int64_list.value,
                      (round(v * w, 2) for v in f["image/object/bbox/xmin"].float_list.value),
                      (round(v * h, 2) for v in f["image/object/bbox/ymin"].float_list.value),
                      (round(v * w, 2) for v in f["image/object/bbox/xmax"].float_list.value),
                      (round(v * h, 2) for v in f["image/object/bbox/ymax"].float_list.value)))


def records(out: str) -> dict[str, tf.train.Example]:
    files = sorted(glob.glob(os.path.join(out, "gen-*", "*", "*.tfrecord")))
    return {ex.features.feature["image/filename"].bytes_list.value[0].decode(): ex
            for ex in (tf.train.Example.FromString(r.numpy()) for r in tf.data.TFRecordDataset(files))}


@pytest.mark.parametrize("layout", ["unity-simulation", "perception", "solo", "coco", "unity-real"])
def test_every_layout_converts_to_its_ground_truth(layout, tmp_path):
    sample = generate(str(tmp_path / "sample"), layout, num_images=24, width=160, height=120, seed=3)
    stats = convert(sample.root, eval_pct=25)
    truth = sample.boxes_by_path()
    got = records(os.path.join(sample.root, "output"))
    # Every image of the sample, none of the superseded attempt, each exactly once.
    assert sorted(got) == sorted(truth)
    assert stats["examples"]["train"] + stats["examples"]["eval"] == len(truth)
    assert stats["skipped"] == {} and stats["dropped_boxes"] == {} and stats["warnings"] == {}
    assert stats["labels"] == {str(i): n for i, n in sample.labels.items()}
    for path, boxes in truth.items():
        f = got[path].features.feature
        w, h = f["image/width"].int64_list.value[0], f["image/height"].int64_list.value[0]
        assert (w, h) == (160, 120)
        want = sorted((b.label_id, b.x, b.y, b.x + b.width, b.y + b.height) for b in boxes)
        assert boxes_of(got[path]) == want, path
    coco = json.load(open(os.path.join(sample.root, "output", "eval_coco.json")))
    assert len(coco["images"]) == stats["examples"]["eval"]
    assert len(coco["annotations"]) == stats["objects"]["eval"]


def test_superseded_attempt_is_reported(tmp_path):
    sample = generate(str(tmp_path / "sample"), "unity-simulation", num_images=12, width=96, height=64)
    stats = convert(sample.root)
    assert stats["superseded_attempts"] == list(sample.superseded)


def test_real_photos_take_their_ids_from_a_reference_label_map(tmp_path):
    synthetic = generate(str(tmp_path / "synthetic"), "solo", num_images=8, width=96, height=64)
    convert(synthetic.root)
    # The photos number the same classes differently.
    real = generate(str(tmp_path / "real"), "coco", num_images=10, width=96, height=64,
                    options=SampleOptions(label_ids=(7, 3, 5)))
    reference = os.path.join(synthetic.root, "output", "label_map.pbtxt")
    stats = run(Settings(source=real.root, output=str(tmp_path / "real-out"), eval_pct=100, label_map=reference))
    assert stats["examples"] == {"train": 0, "eval": 10}
    assert stats["labels"] == {"1": "rectangle", "2": "ellipse", "3": "triangle"}
    got = records(str(tmp_path / "real-out"))
    truth = real.boxes_by_path()
    by_name = {"rectangle": 1, "ellipse": 2, "triangle": 3}
    for path, boxes in truth.items():
        labels = sorted(got[path].features.feature["image/object/class/label"].int64_list.value)
        assert labels == sorted(by_name[b.label_name] for b in boxes)


def test_groceries_real_boxes_drawn_on_the_full_camera_frame_are_scaled_to_smaller_copies(tmp_path):
    # Images stored at 1/24 of the Canon's 5184x3456; the boxes stay in native pixels, as in v3.zip.
    sample = generate(str(tmp_path / "real"), "unity-real", num_images=12, width=216, height=144, seed=5)
    path = os.path.join(sample.root, "annotations.json")
    doc = json.load(open(path))
    for record in doc:
        for ann in record["annotations"]:
            ann["bbox"] = [v * 24 for v in ann["bbox"]]
    json.dump(doc, open(path, "w"))
    # One photo carries an EXIF rotation: kept as stored, and said so.
    rotated = os.path.join(sample.root, "images", doc[0]["file_name"])
    image = Image.open(rotated)
    exif = Image.Exif()
    exif[0x0112] = 6
    image.save(rotated, "JPEG", quality=95, exif=exif)

    stats = convert(sample.root, eval_pct=25)
    got = records(os.path.join(sample.root, "output"))
    assert stats["dropped_boxes"] == {}
    assert stats["warnings"] == {"boxes_rescaled_from_native_size": 12, "exif_orientation_ignored": 1}
    for key, boxes in sample.boxes_by_path().items():
        want = sorted((b.label_id, b.x, b.y, b.x + b.width, b.y + b.height) for b in boxes)
        got_boxes = boxes_of(got[key])
        assert [b[0] for b in got_boxes] == [b[0] for b in want], key
        assert [v for b in got_boxes for v in b[1:]] == pytest.approx([v for b in want for v in b[1:]], abs=0.01)


def test_groceries_real_boxes_in_stored_pixels_are_left_alone(tmp_path):
    sample = generate(str(tmp_path / "real"), "unity-real", num_images=6, width=216, height=144, seed=5)
    stats = convert(sample.root)
    assert stats["warnings"] == {}
