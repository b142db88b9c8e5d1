"""The eval images a detector gets most wrong, kept while streaming over the eval set.

An image's error count is its missed objects plus its false detections, at one score threshold
and IoU 0.5 with matching classes (greedy, highest score first, as COCO matches). The report
shows the worst few next to a random sample: they say more about what to fix than the average.
"""
from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

IOU_MATCH = 0.5


@dataclass(frozen=True)
class ImageErrors:
    missed: int  # ground-truth objects no detection matched
    false: int  # detections that matched no ground-truth object

    @property
    def total(self) -> int:
        return self.missed + self.false


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every ``[x, y, w, h]`` box in ``a`` against every one in ``b``."""
    if not len(a) or not len(b):
        return np.zeros((len(a), len(b)))
    ax0, ay0, ax1, ay1 = a[:, 0:1], a[:, 1:2], a[:, 0:1] + a[:, 2:3], a[:, 1:2] + a[:, 3:4]
    bx0, by0, bx1, by1 = b[:, 0], b[:, 1], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    inter = np.clip(np.minimum(ax1, bx1) - np.maximum(ax0, bx0), 0, None) * \
        np.clip(np.minimum(ay1, by1) - np.maximum(ay0, by0), 0, None)
    union = a[:, 2:3] * a[:, 3:4] + b[:, 2] * b[:, 3] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def count_errors(gt_boxes: np.ndarray, gt_classes: np.ndarray, boxes: np.ndarray, classes: np.ndarray,
                 scores: np.ndarray, threshold: float, iou: float = IOU_MATCH) -> ImageErrors:
    """Missed objects and false detections of one image (detections below ``threshold`` ignored)."""
    keep = np.flatnonzero(np.asarray(scores) >= threshold)
    keep = keep[np.argsort(-np.asarray(scores)[keep], kind="stable")]
    gt_boxes, gt_classes = np.asarray(gt_boxes, np.float64).reshape(-1, 4), np.asarray(gt_classes)
    overlaps = iou_matrix(np.asarray(boxes, np.float64).reshape(-1, 4)[keep], gt_boxes)
    matched = np.zeros(len(gt_boxes), bool)
    false = 0
    for row, det in enumerate(keep):
        candidates = (~matched) & (gt_classes == classes[det]) & (overlaps[row] >= iou)
        if candidates.any():
            matched[np.flatnonzero(candidates)[np.argmax(overlaps[row][candidates])]] = True
        else:
            false += 1
    return ImageErrors(int((~matched).sum()), false)


class Hardest:
    """The ``size`` items with the most errors seen so far (ties: the first seen stays)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._heap: list[tuple[int, int, ImageErrors, Any]] = []
        self._order = itertools.count()

    def add(self, errors: ImageErrors, item: Any) -> None:
        if not self.size or not errors.total:
            return
        entry = (errors.total, -next(self._order), errors, item)
        if len(self._heap) < self.size:
            heapq.heappush(self._heap, entry)
        elif entry[:2] > self._heap[0][:2]:
            heapq.heapreplace(self._heap, entry)

    def worst_first(self) -> list[tuple[ImageErrors, Any]]:
        return [(e[2], e[3]) for e in sorted(self._heap, key=lambda e: e[:2], reverse=True)]
