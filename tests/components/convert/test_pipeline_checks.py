"""The run's gates and counts on real files: lost annotation files, dropped boxes, duplicates,
split groups, corrupt images, and what the logs and summary say."""
import glob
import json
import logging
import os
import re

import pytest

from components.convert.stats import format_summary
from components.convert.pipeline import ConversionError, convert
from components.samples import generate
from tests.components.convert.builders import BOX_ID, legacy_dataset
from tests.components.convert.test_pipeline import read_records

IN_PROCESS = ["--direct_running_mode=in_memory", "--direct_num_workers=1"]


def failed_stats(out: str) -> dict:
    return json.load(open(glob.glob(os.path.join(out, ".failed-*", "stats.json"))[0]))


def test_a_truncated_captures_file_is_lost_data_counted_by_file_share(tmp_path, caplog):
    src, out = str(tmp_path / "ds"), str(tmp_path / "out")
    legacy_dataset(src, 20, bad_json=True)  # 2 good captures files and one truncated: 1/3 of the data
    with caplog.at_level(logging.WARNING), pytest.raises(
            ConversionError, match=r"33\.3% of images were rejected \(counting 1 of 3 annotation files lost"):
        convert(src, out, beam_args=IN_PROCESS)
    stats = failed_stats(out)
    assert stats["lost_annotation_files"] == 1 and stats["lost_files_of_unknown_size"] == 1
    assert stats["share_lost_by_file_count"] == pytest.approx(1 / 3, abs=1e-6)
    assert stats["lost_annotation_files_listed"] == [
        {"file": "Dataset0/captures_002.json", "reason": "bad_json", "images": None}]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("Dataset0/captures_002.json was lost whole" in m for m in warnings)
    assert not any("Published" in r.getMessage() for r in caplog.records)
    # The summary logged for the failed run names the file and points at the failure's errors.jsonl.
    summary = next(m for m in warnings if m.startswith("Conversion summary"))
    assert "skipped: bad_json" in summary and "Dataset0/captures_002.json" in summary
    assert f"{out}/.failed-{stats['run']}/errors.jsonl" in summary
    assert re.search(r"annotation files lost +1 of 3 \(Dataset0/captures_002\.json\)", summary)
    # Allowed by the threshold, the run passes and says the same.
    stats = convert(src, out, max_bad_fraction=0.4, beam_args=IN_PROCESS)
    assert stats["ok"] and stats["bad_fraction"] == pytest.approx(1 / 3, abs=1e-6)


def test_a_dataset_without_definitions_counts_as_lost(tmp_path, caplog):
    src = tmp_path / "run"
    legacy_dataset(str(src / "a"), 10)
    legacy_dataset(str(src / "b"), 10)
    os.remove(src / "b" / "Dataset0" / "annotation_definitions.json")
    with caplog.at_level(logging.WARNING), pytest.raises(ConversionError, match="1 of 3 annotation files lost"):
        convert(str(src), str(tmp_path / "out"), beam_args=IN_PROCESS)
    stats = failed_stats(str(tmp_path / "out"))
    assert stats["skipped"] == {"no_definitions": 1} and stats["images_rejected"] == 0
    assert any("Lost annotation file b (no_definitions" in r.getMessage() for r in caplog.records)


def test_lost_images_counted_when_a_whole_file_skip_says_how_many(tmp_path):
    from components.convert.stats import build_stats

    context = {"source": "s", "format": "solo", "eval_pct": 20.0, "labels": {1: "cube"}, "annotation_files": 4}
    lost = {"count": 1, "images": 30, "unknown": 0, "files": [{"file": "f.json", "reason": "x", "images": 30}]}
    errors = [{"file": "f.json", "stage": "parse", "reason": "bad_sequence", "detail": ""}]
    stats = build_stats({"examples": {"train": 60, "eval": 10}}, errors, context, lost=lost)
    assert stats["images_listed"] == 100 and stats["images_in_lost_files"] == 30
    assert stats["bad_fraction"] == pytest.approx(0.3)


def relabel(src: str, captures: str, names: dict[int, int]) -> None:
    """Give the boxes of the first captures ids the spec does not know."""
    path = os.path.join(src, "Dataset0", captures)
    doc = json.load(open(path))
    for capture in doc["captures"]:
        for ann in capture["annotations"]:
            if ann["annotation_definition"] == BOX_ID:
                for value in ann["values"]:
                    value["label_id"] = names.get(value["label_id"], value["label_id"])
    json.dump(doc, open(path, "w"))


def test_dropped_boxes_beyond_the_threshold_fail_naming_counts_and_reasons(tmp_path):
    src, out = str(tmp_path / "ds"), str(tmp_path / "out")
    legacy_dataset(src, 20)
    relabel(src, "captures_000.json", {1: 9})  # 5 of the 20 boxes get an unknown label id
    with pytest.raises(ConversionError, match=r"5 of 20 boxes read \(25\.0%\) were dropped: more than "
                                              r"--max-dropped-box-fraction 5\.0% \(unknown_label 5\)"):
        convert(src, out, beam_args=IN_PROCESS)
    stats = failed_stats(out)
    assert stats["boxes_read"] == 20 and stats["dropped_box_fraction"] == 0.25
    stats = convert(src, out, max_dropped_box_fraction=0.3, beam_args=IN_PROCESS)
    assert stats["ok"] and stats["dropped_boxes"] == {"unknown_label": 5}


def test_a_run_that_drops_every_box_fails_whatever_the_threshold(tmp_path):
    src, out = str(tmp_path / "ds"), str(tmp_path / "out")
    legacy_dataset(src, 6)
    for name in ("captures_000.json", "captures_001.json"):
        relabel(src, name, {1: 9, 2: 9})
    with pytest.raises(ConversionError, match=r"6 of 6 boxes read \(100\.0%\) were dropped: every box"):
        convert(src, out, max_dropped_box_fraction=1.0, beam_args=IN_PROCESS)


def test_an_image_listed_twice_is_written_once_and_counted(tmp_path):
    src = str(tmp_path / "ds")
    good = legacy_dataset(src, 10)
    first, second = (os.path.join(src, "Dataset0", f"captures_00{i}.json") for i in (0, 1))
    doc0, doc1 = json.load(open(first)), json.load(open(second))

    def without_boxes(capture: dict) -> dict:
        return dict(capture, annotations=[dict(a, values=[]) if a["annotation_definition"] == BOX_ID else a
                                          for a in capture["annotations"]])

    doc0["captures"] += [dict(doc0["captures"][0]),  # rgb_3, repeated as it is in its own file
                         without_boxes(doc0["captures"][1]),  # rgb_4 again in its own file, boxes gone
                         without_boxes(doc1["captures"][0])]  # rgb_8, from captures_001, in captures_000 too
    json.dump(doc0, open(first, "w"))
    stats = convert(src, eval_pct=100, beam_args=IN_PROCESS)
    assert stats["duplicate_images"] == stats["skipped"]["duplicate_image"] == 3
    coco = json.load(open(os.path.join(src, "output", "eval_coco.json")))
    assert sorted(i["file_name"] for i in coco["images"]) == sorted(good)
    assert len({i["id"] for i in coco["images"]}) == 10 and len(coco["annotations"]) == 9
    assert stats["bad_fraction"] == 0.0 and stats["images_listed"] == 10
    records = read_records(os.path.join(src, "output", "gen-*", "*", "*.tfrecord"))
    assert sorted(k.decode() for k in records) == sorted(good)

    def boxes(key: str) -> int:
        return len(records[key.encode()].features.feature["image/object/class/label"].int64_list.value)

    # In one file the first entry wins; across files, the entry of the file whose path sorts first.
    assert (boxes("RGB0/rgb_3.png"), boxes("RGB0/rgb_4.png"), boxes("RGB0/rgb_8.png")) == (1, 1, 0)
    errors = [json.loads(line) for line in open(os.path.join(src, "output", "errors.jsonl"))]
    assert sorted((e["file"], e["stage"]) for e in errors) == [
        ("RGB0/rgb_3.png", "parse"), ("RGB0/rgb_4.png", "parse"), ("RGB0/rgb_8.png", "dedupe")]


def test_one_coco_image_in_two_annotation_files_is_one_eval_image(tmp_path):
    sample = generate(str(tmp_path / "coco"), "coco", num_images=6, width=64, height=48, seed=2)
    doc = json.load(open(os.path.join(sample.root, "annotations.json")))
    ids = {i["id"] for i in doc["images"][:2]}
    part = dict(doc, images=doc["images"][:2], annotations=[a for a in doc["annotations"] if a["image_id"] in ids])
    json.dump(part, open(os.path.join(sample.root, "more_annotations.json"), "w"))
    stats = convert(sample.root, eval_pct=100, beam_args=IN_PROCESS)
    assert stats["examples"]["eval"] == 6 and stats["duplicate_images"] == 2 and stats["bad_fraction"] == 0
    coco = json.load(open(os.path.join(sample.root, "output", "eval_coco.json")))
    image_ids = [i["id"] for i in coco["images"]]
    assert len(image_ids) == len(set(image_ids)) == 6
    assert len(coco["annotations"]) == len(doc["annotations"])


def test_an_empty_split_is_logged_and_recorded(tmp_path, caplog):
    src = str(tmp_path / "ds")
    legacy_dataset(src, 2)
    with caplog.at_level(logging.WARNING):
        stats = convert(src, eval_pct=1, beam_args=IN_PROCESS)
    assert stats["examples"]["eval"] == 0 and stats["empty_splits"] == ["eval"]
    assert any("The eval split is empty" in r.getMessage() for r in caplog.records)
    assert "empty split: eval" in format_summary(stats, src)


def test_a_corrupt_image_is_named_at_conversion(tmp_path):
    src = str(tmp_path / "ds")
    legacy_dataset(src, 10)
    path = os.path.join(src, "RGB0", "rgb_3.png")
    data = bytearray(open(path, "rb").read())
    data[-40:-20] = bytes(20)  # garbage in the image data, header intact
    open(path, "wb").write(bytes(data))
    stats = convert(src, max_bad_fraction=0.2, beam_args=IN_PROCESS)
    assert stats["skipped"] == {"bad_image": 1} and stats["images_read"] == 10
    errors = [json.loads(line) for line in open(os.path.join(src, "output", "errors.jsonl"))]
    assert errors[0]["file"] == "RGB0/rgb_3.png" and "bad CRC in the IDAT chunk" in errors[0]["detail"]


def test_images_read_counts_only_images_opened(tmp_path):
    src = str(tmp_path / "ds")
    legacy_dataset(src, 10, missing=(0,), unsafe=(1,), no_box=(2,))
    stats = convert(src, max_bad_fraction=0.5, beam_args=IN_PROCESS)
    assert stats["images_read"] == 7 and stats["images_listed"] == 10 and stats["images_rejected"] == 3
    out = os.path.join(src, "output")
    summary = format_summary(stats, out)
    assert re.search(r"skipped: missing_image +1 \(RGB0/rgb_3\.png\)", summary)
    assert re.search(r"every skipped file +" + re.escape(f"{out}/errors.jsonl"), summary)



def test_sensors_left_out_are_counted_per_sensor_and_not_rejected(tmp_path):
    src = str(tmp_path / "ds")
    legacy_dataset(src, 8)
    path = os.path.join(src, "Dataset0", "captures_000.json")
    doc = json.load(open(path))
    for capture in doc["captures"]:
        capture["sensor"] = {"sensor_id": "front", "modality": "camera"}
    # A second camera without the box labeler: its captures are not images lacking ground truth.
    doc["captures"] += [{"id": f"s{i}", "filename": f"RGB1/rgb_{i}.png", "annotations": [],
                         "sensor": {"sensor_id": "side", "modality": "camera"}} for i in range(3)]
    json.dump(doc, open(path, "w"))
    stats = convert(src, beam_args=IN_PROCESS)
    assert stats["sensors"] == {"front": {"examples": 4, "skipped": 0},
                                "side": {"examples": 0, "skipped": 3, "reason": "sensor_without_boxes"}}
    assert stats["skipped"] == {} and stats["bad_fraction"] == 0.0 and stats["images_listed"] == 8
    assert re.search(r"sensor side +0 examples, 3 left out \(sensor_without_boxes\)",
                     format_summary(stats, src))


def test_the_summary_names_at_most_three_files_per_reason():
    from components.convert.stats import build_stats

    context = {"source": "s", "format": "coco", "eval_pct": 20.0, "labels": {1: "cube"}, "annotation_files": 1}
    errors = [{"file": f"img_{i}.png", "stage": "encode", "reason": "missing_image", "detail": ""} for i in range(5)]
    stats = dict(build_stats({"examples": {"train": 95}}, errors, context), ok=True)
    summary = format_summary(stats, "gs://b/out")
    assert re.search(r"skipped: missing_image +5 \(img_0\.png, img_1\.png, img_2\.png, \.\.\.\)", summary)
    assert re.search(r"every skipped file +gs://b/out/errors\.jsonl", summary)
    assert stats["images_read"] == 95 and stats["images_listed"] == 100 and stats["bad_fraction"] == 0.05
