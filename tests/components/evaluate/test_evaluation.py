import json
import os
from pathlib import Path

import pytest

from components.common import manifest, uris
from components.evaluate.evaluation import Settings, coco_ground_truth, evaluate, summary_lines, write_outputs
from components.common.label_map import read_label_map
from components.evaluate.metrics import SUMMARY_NAMES
from components.evaluate.records import read_examples
from tests.components.evaluate import builders
from tests.components.evaluate.builders import Shape
from tests.components.evaluate.pagecheck import Page


def pycocotools_scores(truth: dict, detections: list[dict]) -> dict[str, float]:
    """pycocotools' own bbox summary of COCO detections against a COCO ground-truth dict; -1 reads as 0."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    if not detections:
        return {name: 0.0 for name in SUMMARY_NAMES}
    gt = COCO()
    gt.dataset = truth
    gt.createIndex()
    coco_eval = COCOeval(gt, gt.loadRes(detections), "bbox")
    coco_eval.evaluate()
    coco_eval.accumulate()
    coco_eval.summarize()
    return {name: max(float(v), 0.0) for name, v in zip(SUMMARY_NAMES, coco_eval.stats)}


def coco_detections(found: dict, ids: dict[str, int]) -> list[dict]:
    """{file name: Detections} -> COCO results, with the image ids of ``ids`` (file name -> id)."""
    return [{"image_id": ids[name], "category_id": int(c), "bbox": [float(v) for v in box], "score": float(score)}
            for name, dets in found.items() for box, score, c in zip(dets.boxes, dets.scores, dets.classes)]


def pycocotools_summary(model: str, eval_data: str, coco_json: str) -> dict[str, float]:
    """COCO summary computed apart from the evaluate step: the export's detections on the eval records, scored
    by pycocotools itself against the convert step's eval_coco.json (matched by file name)."""
    from components.evaluate.predict import Detector
    from components.evaluate.records import group_batches

    with open(coco_json) as f:
        truth = json.load(f)
    detector = Detector(model)
    found = {}
    for batch in group_batches(read_examples(eval_data, decode=detector.needs_decoded_images), 4):
        found.update((ex.filename, dets) for ex, dets in zip(batch, detector.detect(batch)))
    assert set(found) == {image["file_name"] for image in truth["images"]}
    return pycocotools_scores(truth, coco_detections(found, {i["file_name"]: i["id"] for i in truth["images"]}))


def settings(exported, root, **kw):
    return Settings(model=exported, eval_data=(str(root / "eval"),), label_map=str(root / "label_map.pbtxt"), **kw)


@pytest.mark.parametrize("signature", ["auto", "serving_default"])
def test_a_model_that_finds_the_ground_truth_scores_one(exported, eval_set, signature):
    root, images = eval_set
    result = evaluate(settings(exported, root, signature=signature, batch_size=2, min_map=0.99))
    assert result.metrics.summary == pytest.approx({name: 1.0 for name in SUMMARY_NAMES})
    assert result.metrics.undefined == ()
    assert (result.metrics.num_images, result.metrics.num_ground_truth) == (6, 8)
    assert result.gate.passed and result.gate.value == pytest.approx(1.0)
    doc = result.document
    assert doc["gate"] == {"metric": "AP50", "min_map": 0.99, "value": pytest.approx(1.0), "passed": True}
    assert {name: c["num_ground_truth"] for name, c in doc["per_class"].items()} == {
        "rectangle": 3, "ellipse": 3, "triangle": 2}
    assert doc["details"]["images"] == 6 and doc["details"]["box_coordinates"] == "input_pixels"
    assert doc["hardest_images"] == []
    page = Page(result.report_html)
    assert len(page.data_images("image/jpeg")) == len(images)
    assert page.row("AP50")[2] == "1.000"


def test_boxes_read_in_the_wrong_coordinates_fail_the_gate(exported, eval_set):
    result = evaluate(settings(exported, eval_set[0], box_coordinates="normalized", min_map=0.5))
    assert result.metrics.summary["AP50"] < 0.2
    assert not result.gate.passed
    assert "failed" in summary_lines(result)[-1]
    # Every image has misplaced boxes: the report leads with the worst of them.
    hardest = result.document["hardest_images"]
    assert len(hardest) == 5 and all(h["missed"] >= 1 for h in hardest)  # b/square_2.png has no objects
    totals = [h["missed"] + h["false_detections"] for h in hardest]
    assert totals == sorted(totals, reverse=True)
    assert sum(h["missed"] for h in hardest) == 8  # no ground-truth box is matched
    assert Page(result.report_html).row("AP50")[2] == f"{result.metrics.summary['AP50']:.3f}"


def test_limits_on_examples_and_report_images(exported, eval_set):
    result = evaluate(settings(exported, eval_set[0], max_examples=3, num_report_images=2, gate_metric="AP"))
    assert result.metrics.num_images == 3
    assert result.gate.metric == "AP"
    assert len(Page(result.report_html).data_images("image/jpeg")) == 2


def test_names_come_from_the_records_without_a_label_map_and_odd_ids_still_count(exported, tmp_path):
    # two records share source_id 5 and one has a non-numeric id: every image is still its own
    records = [builders.example(40, 30, [Shape(1, 2, 2, 20, 20)], 5, "a.png"),
               builders.example(40, 30, [Shape(2, 5, 5, 35, 25)], 5, "b.png"),
               builders.example(40, 30, [Shape(3, 0, 0, 10, 30)], "img-c", "c.png")]
    path = builders.write_records(str(tmp_path / "eval" / "eval-00000-of-00001.tfrecord"), records)
    result = evaluate(Settings(model=exported, eval_data=(path,)))
    assert result.metrics.num_images == 3
    assert result.metrics.summary["AP"] == pytest.approx(1.0)
    assert [c.name for c in result.metrics.per_class] == ["rectangle", "ellipse", "triangle"]


def test_detections_of_classes_outside_the_label_map_are_ignored(exported, tmp_path):
    label_map = builders.label_map_file(str(tmp_path / "two.pbtxt"), {1: "rectangle", 2: "ellipse"})
    record = builders.example(40, 30, [Shape(1, 2, 2, 20, 20)], 1, "a.png", unlabelled=(Shape(3, 25, 0, 40, 30),))
    path = builders.write_records(str(tmp_path / "eval.tfrecord"), [record])
    result = evaluate(Settings(model=exported, eval_data=(path,), label_map=label_map))
    assert result.details["detections_ignored_unknown_class"] == 1
    assert result.metrics.num_detections == 1 and result.metrics.summary["AP"] == pytest.approx(1.0)
    assert [c.name for c in result.metrics.per_class] == ["rectangle", "ellipse"]


def test_ground_truth_outside_the_label_map_is_scored_under_its_text(exported, eval_set, tmp_path):
    label_map = builders.label_map_file(str(tmp_path / "two.pbtxt"), {1: "rectangle", 2: "ellipse"})
    result = evaluate(Settings(model=exported, eval_data=(str(eval_set[0] / "eval"),), label_map=label_map))
    assert [c.name for c in result.metrics.per_class] == ["rectangle", "ellipse", "triangle"]
    assert result.metrics.summary["AP"] == pytest.approx(1.0)


def test_outputs_are_written_locally_and_to_gcs(exported, eval_set, tmp_path, gcs_emulator):
    result = evaluate(settings(exported, eval_set[0], num_report_images=1))
    local = write_outputs(result, str(tmp_path / "out"))
    assert json.loads(Path(local["metrics_json"]).read_text())["metrics"]["AP"] == pytest.approx(1.0)
    assert Path(local["report"]).read_text() == result.report_html
    remote = write_outputs(result, "gs://synthdet-test/evaluation")
    assert remote["report"] == "gs://synthdet-test/evaluation/report.html"
    assert json.loads(uris.read_text(remote["metrics_json"]))["gate"]["passed"] is True


def test_an_empty_eval_set_is_an_input_error(exported, tmp_path):
    path = builders.write_records(str(tmp_path / "eval-00000-of-00001.tfrecord"), [])
    with pytest.raises(ValueError, match="hold no records"):
        evaluate(Settings(model=exported, eval_data=(path,)))


@pytest.mark.parametrize("kw, message", [
    ({"gate_metric": "mAP"}, "--gate-metric 'mAP'"),
    ({"min_map": 1.5}, "--min-map 1.5"),
    ({"batch_size": 0}, "--batch-size 0"),
    ({"signature": "x"}, "--signature 'x'"),
    ({"box_coordinates": "x"}, "--box-coordinates 'x'"),
    ({"num_report_images": -1}, "must not be negative"),
    ({"score_threshold": 2.0}, "--score-threshold 2.0"),
    ({"model": ""}, "--model is required"),
    ({"eval_data": ()}, "--eval-data is required"),
])
def test_settings_check_themselves(kw, message):
    args = {"model": "m", "eval_data": ("e",)} | kw
    with pytest.raises(ValueError, match=message):
        Settings(**args)


def test_settings_take_a_single_pattern():
    assert Settings(model="m", eval_data="a/*.tfrecord").eval_data == ("a/*.tfrecord",)


def test_ground_truth_from_records_equals_the_converters_eval_coco_json(converted, exported):
    out, stats = converted
    eval_data = os.path.join(manifest.generation_uri(str(out)), "eval")
    coco = json.loads((out / "eval_coco.json").read_text())
    ours = coco_ground_truth(read_examples(eval_data), read_label_map(str(out / "label_map.pbtxt")))
    assert sorted((i["id"], i["file_name"], i["width"], i["height"]) for i in ours["images"]) == sorted(
        (i["id"], i["file_name"], i["width"], i["height"]) for i in coco["images"])
    assert [(c["id"], c["name"]) for c in ours["categories"]] == sorted(
        (c["id"], c["name"]) for c in coco["categories"])

    def boxes(doc):
        return sorted((a["image_id"], a["category_id"], *(round(v, 3) for v in a["bbox"]), round(a["area"], 3),
                       a["iscrowd"]) for a in doc["annotations"])

    assert boxes(ours) == boxes(coco)
    result = evaluate(Settings(model=exported, eval_data=(eval_data,), label_map=str(out / "label_map.pbtxt")))
    assert result.metrics.num_images == stats["examples"]["eval"]
    assert result.metrics.num_detections > 0
    expected = pycocotools_summary(exported, eval_data, str(out / "eval_coco.json"))
    assert result.metrics.summary == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("signature", ["auto", "serving_default"])  # the model decodes; evaluate decodes
def test_an_image_that_does_not_decode_fails_naming_shard_record_and_file(exported, tmp_path, signature):
    from tests.components.evaluate.test_records import shard_with_a_bad_image

    path, named = shard_with_a_bad_image(str(tmp_path / "eval"))
    with pytest.raises(ValueError) as err:
        evaluate(Settings(model=exported, eval_data=(path,), signature=signature, batch_size=4))
    assert str(err.value).startswith(named + ": image/encoded does not decode: ")
