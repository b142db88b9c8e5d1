import numpy as np
import pytest

from components.evaluate.hardest import Hardest, ImageErrors, count_errors, iou_matrix

GT = np.array([[0, 0, 10, 10], [20, 20, 10, 10]], float)


def test_iou_matrix():
    boxes = np.array([[0, 0, 10, 10], [5, 0, 10, 10], [50, 50, 1, 1]], float)
    assert iou_matrix(boxes, GT[:1])[:, 0] == pytest.approx([1.0, 50 / 150, 0.0])
    assert iou_matrix(boxes, np.zeros((0, 4))).shape == (3, 0)


@pytest.mark.parametrize("boxes, classes, scores, want", [
    ([[0, 0, 10, 10], [20, 20, 10, 10]], [1, 2], [0.9, 0.8], (0, 0)),  # both found
    ([[0, 0, 10, 10]], [2], [0.9], (2, 1)),  # wrong class: a miss and a false detection
    ([[0, 0, 10, 10], [0, 0, 10, 9]], [1, 1], [0.9, 0.8], (1, 1)),  # a duplicate is false
    ([[0, 0, 10, 10], [20, 20, 10, 10]], [1, 2], [0.9, 0.1], (1, 0)),  # below the threshold: ignored
    ([[6, 0, 10, 10]], [1], [0.9], (2, 1)),  # IoU 0.25 < 0.5
    ([], [], [], (2, 0)),
])
def test_count_errors(boxes, classes, scores, want):
    errors = count_errors(GT, np.array([1, 2]), np.array(boxes, float).reshape(-1, 4), np.array(classes),
                          np.array(scores, float), threshold=0.3)
    assert (errors.missed, errors.false) == want


def test_the_best_scoring_detection_takes_the_match():
    # The lower-scored box fits better, but COCO matches in score order: it becomes the false one.
    errors = count_errors(GT[:1], np.array([1]), np.array([[1, 0, 10, 10], [0, 0, 10, 10]], float),
                          np.array([1, 1]), np.array([0.9, 0.5]), threshold=0.3)
    assert (errors.missed, errors.false) == (0, 1)


def test_hardest_keeps_the_worst_and_ignores_perfect_images():
    hardest = Hardest(2)
    for name, (missed, false) in {"a": (1, 0), "b": (0, 0), "c": (3, 1), "d": (1, 1), "e": (2, 0)}.items():
        hardest.add(ImageErrors(missed, false), name)
    assert [(item, e.total) for e, item in hardest.worst_first()] == [("c", 4), ("d", 2)]
    assert Hardest(0).worst_first() == []
