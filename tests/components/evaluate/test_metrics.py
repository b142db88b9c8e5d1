import pytest

from components.evaluate.metrics import SUMMARY_NAMES, check_gate, evaluate_coco

CATEGORIES = [{"id": 1, "name": "rectangle"}, {"id": 2, "name": "ellipse"}]


def ground_truth(boxes_by_image: dict[int, list[tuple[int, list[float]]]]) -> dict:
    """COCO dict from ``{image_id: [(category, [x, y, w, h]), ...]}`` on 1000x1000 images."""
    images, annotations = [], []
    for image_id, boxes in boxes_by_image.items():
        images.append({"id": image_id, "file_name": f"{image_id}.png", "width": 1000, "height": 1000})
        for category, bbox in boxes:
            annotations.append({"id": len(annotations) + 1, "image_id": image_id, "category_id": category,
                                "bbox": bbox, "area": bbox[2] * bbox[3], "iscrowd": 0})
    return {"images": images, "annotations": annotations, "categories": CATEGORIES}


def det(image_id, category, bbox, score):
    return {"image_id": image_id, "category_id": category, "bbox": bbox, "score": score}


def test_ground_truth_fed_back_scores_one_everywhere():
    # small (10x10), medium (50x50) and large (200x200) objects of two classes; image 3 has none
    gt = ground_truth({1: [(1, [0, 0, 10, 10]), (2, [100, 100, 50, 50])],
                       2: [(1, [300, 300, 200, 200]), (2, [0, 0, 10, 12])], 3: []})
    feedback = [det(a["image_id"], a["category_id"], a["bbox"], 0.9) for a in gt["annotations"]]
    m = evaluate_coco(gt, feedback)
    assert m.summary == pytest.approx({name: 1.0 for name in SUMMARY_NAMES})
    assert m.undefined == ()
    assert [(c.name, c.AP, c.AP50, c.num_ground_truth, c.num_detections) for c in m.per_class] == [
        ("rectangle", pytest.approx(1.0), pytest.approx(1.0), 2, 2),
        ("ellipse", pytest.approx(1.0), pytest.approx(1.0), 2, 2)]
    assert m.pr_curves[0.5][1] == pytest.approx([1.0] * 101)
    assert (m.num_images, m.num_ground_truth, m.num_detections) == (3, 4, 4)


def test_iou_062_passes_three_of_ten_thresholds():
    # GT 10x10, prediction 10x6.2 at the same corner: IoU 0.62 passes 0.50, 0.55, 0.60 only
    gt = ground_truth({1: [(1, [0, 0, 10, 10])]})
    m = evaluate_coco(gt, [det(1, 1, [0, 0, 10, 6.2], 0.9)])
    assert m.summary["AP50"] == pytest.approx(1.0)
    assert m.summary["AP75"] == pytest.approx(0.0)
    assert m.summary["AP"] == pytest.approx(0.3)
    assert m.summary["AR100"] == pytest.approx(0.3)
    assert m.summary["APs"] == pytest.approx(0.3)
    assert m.pr_curves[0.75][1] == pytest.approx([0.0] * 101)
    assert set(m.undefined) == {"APm", "APl", "ARm", "ARl"}


def test_wrong_class_scores_zero_and_the_other_class_is_not_averaged():
    gt = ground_truth({1: [(1, [0, 0, 100, 100])]})
    m = evaluate_coco(gt, [det(1, 2, [0, 0, 100, 100], 0.9)])
    assert m.summary["AP"] == 0.0 and m.summary["AP50"] == 0.0 and m.summary["AR100"] == 0.0
    rect, ellipse = m.per_class
    assert (rect.AP, rect.num_ground_truth, rect.num_detections) == (0.0, 1, 0)
    assert (ellipse.AP, ellipse.num_ground_truth, ellipse.num_detections) == (None, 0, 1)


def test_one_of_two_objects_found_first_then_a_miss():
    # TP (0.9) then a far-away FP (0.8): precision 1 up to recall 0.5 -> 51 of 101 recall points
    gt = ground_truth({1: [(1, [0, 0, 100, 100]), (1, [500, 500, 100, 100])]})
    m = evaluate_coco(gt, [det(1, 1, [0, 0, 100, 100], 0.9), det(1, 1, [800, 0, 100, 100], 0.8)])
    assert m.summary["AP50"] == pytest.approx(51 / 101)
    assert m.summary["AP"] == pytest.approx(51 / 101)
    assert m.summary["AR100"] == pytest.approx(0.5)


def test_a_false_positive_ranked_first_halves_precision():
    # FP (0.9) then TP (0.8): precision 0.5 at recall 0.5 -> 51 points of 0.5
    gt = ground_truth({1: [(1, [0, 0, 100, 100]), (1, [500, 500, 100, 100])]})
    m = evaluate_coco(gt, [det(1, 1, [800, 0, 100, 100], 0.9), det(1, 1, [0, 0, 100, 100], 0.8)])
    assert m.summary["AP50"] == pytest.approx(0.5 * 51 / 101)


def test_detections_on_an_image_without_ground_truth_are_false_positives():
    gt = ground_truth({1: [(1, [0, 0, 100, 100])], 2: []})
    above = evaluate_coco(gt, [det(2, 1, [0, 0, 100, 100], 0.9), det(1, 1, [0, 0, 100, 100], 0.8)])
    below = evaluate_coco(gt, [det(2, 1, [0, 0, 100, 100], 0.7), det(1, 1, [0, 0, 100, 100], 0.8)])
    assert above.summary["AP50"] == pytest.approx(0.5)
    assert below.summary["AP50"] == pytest.approx(1.0)


def test_max_detections_limit_recall_per_image_and_class():
    gt = ground_truth({1: [(1, [0, 0, 100, 100]), (1, [500, 500, 100, 100])]})
    m = evaluate_coco(gt, [det(1, 1, [0, 0, 100, 100], 0.9), det(1, 1, [500, 500, 100, 100], 0.8)])
    assert m.summary["AR1"] == pytest.approx(0.5)
    assert m.summary["AR10"] == pytest.approx(1.0)


def test_no_detections_give_zero():
    gt = ground_truth({1: [(1, [0, 0, 100, 100])], 2: [(2, [10, 10, 5, 5])]})
    m = evaluate_coco(gt, [])
    assert m.summary == {name: 0.0 for name in SUMMARY_NAMES}
    assert set(m.undefined) == {"APm", "ARm"}  # 100x100 is large, 5x5 small, nothing medium
    assert [c.AP for c in m.per_class] == [0.0, 0.0]


def test_no_ground_truth_and_no_detections_give_zero_marked_undefined():
    m = evaluate_coco(ground_truth({1: [], 2: []}), [])
    assert m.summary == {name: 0.0 for name in SUMMARY_NAMES}
    assert set(m.undefined) == set(SUMMARY_NAMES)
    assert all(c.AP is None for c in m.per_class)
    assert m.pr_curves == {0.5: {}, 0.75: {}}


def test_to_dict_is_json_ready():
    gt = ground_truth({1: [(1, [0, 0, 10, 10])]})
    doc = evaluate_coco(gt, [det(1, 1, [0, 0, 10, 6.2], 0.9)]).to_dict()
    assert doc["metrics"]["AP"] == pytest.approx(0.3)
    assert doc["per_class"]["rectangle"]["AP50"] == pytest.approx(1.0)
    assert doc["per_class"]["ellipse"] == {"id": 2, "AP": None, "AP50": None, "AP75": None,
                                           "num_ground_truth": 0, "num_detections": 0}
    assert len(doc["pr_curves"]["recall"]) == 101 and set(doc["pr_curves"]["precision@0.50"]) == {"rectangle"}


def test_errors_name_the_problem():
    gt = ground_truth({1: []})
    with pytest.raises(ValueError, match="image_id 7"):
        evaluate_coco(gt, [det(7, 1, [0, 0, 1, 1], 0.5)])
    with pytest.raises(ValueError, match="no images"):
        evaluate_coco({"images": [], "annotations": [], "categories": CATEGORIES}, [])


def test_gate():
    summary = {name: 0.4 for name in SUMMARY_NAMES} | {"AP50": 0.6}
    assert check_gate(summary, 0.5).passed is True
    assert check_gate(summary, 0.5, "AP").passed is False
    assert check_gate(summary, 0.6).passed is True  # the threshold itself passes
    assert check_gate(summary).passed is True
    assert check_gate({"AP50": 0.9999999999999999}, 1.0).passed is True  # float noise of a perfect AP
    gate = check_gate(summary, 0.7)
    assert (gate.metric, gate.min_map, gate.value, gate.passed) == ("AP50", 0.7, 0.6, False)
    with pytest.raises(ValueError, match="mAP"):
        check_gate(summary, 0.5, "mAP")
    with pytest.raises(ValueError, match="min_map 50"):
        check_gate(summary, 50)
