"""COCO box metrics with pycocotools, from a COCO ground-truth dict and a list of detections.

Pure: dicts in, a frozen ``CocoMetrics`` out; nothing is read or written.
``evaluate_coco(gt, detections)`` where ``gt`` is a COCO dataset dict (images, annotations,
categories) and each detection is ``{"image_id", "category_id", "bbox": [x, y, w, h], "score"}``.

pycocotools marks a number it cannot compute with -1. Here it becomes 0.0 (nothing was found),
and the name goes to ``undefined`` when no ground-truth object falls in its range at all.
"""
from __future__ import annotations

import contextlib
import io
import logging
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

logger = logging.getLogger(__name__)

SUMMARY_NAMES = ("AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl")
AREA_OF = {"APs": "small", "APm": "medium", "APl": "large", "ARs": "small", "ARm": "medium", "ARl": "large"}
AREA_RANGES = {"all": (0.0, 1e10), "small": (0.0, 32.0 ** 2), "medium": (32.0 ** 2, 96.0 ** 2),
               "large": (96.0 ** 2, 1e10)}
PR_IOUS = (0.5, 0.75)
TOLERANCE = 1e-9


@dataclass(frozen=True)
class ClassMetrics:
    """AP of one category; None when it has no ground truth (not part of the means)."""

    id: int
    name: str
    num_ground_truth: int
    num_detections: int
    AP: float | None
    AP50: float | None
    AP75: float | None


@dataclass(frozen=True)
class CocoMetrics:
    """Summary numbers, per-class AP and interpolated precision-recall curves."""

    summary: dict[str, float]
    undefined: tuple[str, ...]
    per_class: tuple[ClassMetrics, ...]
    recall_thresholds: tuple[float, ...]
    pr_curves: dict[float, dict[int, tuple[float, ...]]] = field(default_factory=dict)
    num_images: int = 0
    num_ground_truth: int = 0
    num_detections: int = 0

    def to_dict(self) -> dict:
        names = {c.id: c.name for c in self.per_class}
        return {
            "metrics": dict(self.summary),
            "undefined": list(self.undefined),
            "num_images": self.num_images,
            "num_ground_truth": self.num_ground_truth,
            "num_detections": self.num_detections,
            "per_class": {c.name: {"id": c.id, "AP": c.AP, "AP50": c.AP50, "AP75": c.AP75,
                                   "num_ground_truth": c.num_ground_truth,
                                   "num_detections": c.num_detections} for c in self.per_class},
            "pr_curves": {
                "recall": list(self.recall_thresholds),
                **{f"precision@{iou:.2f}": {names[k]: list(v) for k, v in curves.items()}
                   for iou, curves in self.pr_curves.items()},
            },
        }


@dataclass(frozen=True)
class Gate:
    """The quality gate: ``passed`` when ``value >= min_map``."""

    metric: str
    min_map: float
    value: float
    passed: bool


def check_gate(summary: Mapping[str, float], min_map: float = 0.0, metric: str = "AP50") -> Gate:
    """Compare one summary metric with a threshold (0 lets every model pass)."""
    if metric not in SUMMARY_NAMES:
        raise ValueError(f"gate metric {metric!r}: expected one of {', '.join(SUMMARY_NAMES)}")
    if not 0.0 <= min_map <= 1.0:
        raise ValueError(f"min_map {min_map}: expected a value in [0, 1]")
    value = float(summary[metric])
    # pycocotools' means carry float noise (a perfect AP can read 0.9999999999999999).
    return Gate(metric, float(min_map), value, value + TOLERANCE >= min_map)


def _coco(dataset: dict):
    from pycocotools.coco import COCO

    coco = COCO()
    coco.dataset = dataset
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
    return coco


def _results_dataset(gt: dict, detections: Sequence[Mapping]) -> dict:
    """Detections as a COCO dataset (what ``COCO.loadRes`` builds, without its empty-list crash)."""
    image_ids = {img["id"] for img in gt["images"]}
    annotations = []
    for i, det in enumerate(detections, start=1):
        if det["image_id"] not in image_ids:
            raise ValueError(f"detection {i}: image_id {det['image_id']} is not in the ground truth")
        x, y, w, h = (float(v) for v in det["bbox"])
        annotations.append({"id": i, "image_id": det["image_id"], "category_id": int(det["category_id"]),
                            "bbox": [x, y, w, h], "area": w * h, "iscrowd": 0, "score": float(det["score"])})
    return {"images": gt["images"], "categories": gt["categories"], "annotations": annotations}


def _has_ground_truth(gt: dict, area: str, category: int | None = None) -> bool:
    low, high = AREA_RANGES[area]
    return any(not a.get("iscrowd", 0) and low <= a["area"] <= high
               and (category is None or a["category_id"] == category) for a in gt["annotations"])


def _mean(values: np.ndarray) -> float:
    """Mean over computed entries (-1 = not computed, counted as 0 when others exist)."""
    if values.size == 0 or np.all(values < 0):
        return 0.0
    return float(np.mean(np.where(values < 0, 0.0, values)))


def evaluate_coco(gt: dict, detections: Sequence[Mapping]) -> CocoMetrics:
    """COCO box evaluation (maxDets 1/10/100, IoU 0.50:0.95).

    Raises:
        ValueError: no images, or a detection names an image that is not in ``gt``.
    """
    from pycocotools.cocoeval import COCOeval

    if not gt.get("images"):
        raise ValueError("no images to evaluate")
    coco_gt, coco_dt = _coco(gt), _coco(_results_dataset(gt, detections))
    evaluator = COCOeval(coco_gt, coco_dt, iouType="bbox")
    with contextlib.redirect_stdout(io.StringIO()) as text:
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    logger.debug("pycocotools summary:\n%s", text.getvalue())
    summary, undefined = {}, []
    for name, value in zip(SUMMARY_NAMES, evaluator.stats):
        summary[name] = max(float(value), 0.0)
        if value < 0 and not _has_ground_truth(gt, AREA_OF.get(name, "all")):
            undefined.append(name)
    precision = evaluator.eval["precision"]  # [iou, recall, category, area, max dets]
    ious = evaluator.params.iouThrs
    cat_ids = [int(c) for c in evaluator.params.catIds]
    names = {c["id"]: c["name"] for c in gt["categories"]}
    gt_count = {c: 0 for c in cat_ids}
    for a in gt["annotations"]:
        if not a.get("iscrowd", 0) and a["category_id"] in gt_count:
            gt_count[a["category_id"]] += 1
    dt_count = {c: 0 for c in cat_ids}
    for det in detections:
        if int(det["category_id"]) in dt_count:
            dt_count[int(det["category_id"])] += 1
    per_class, curves = [], {iou: {} for iou in PR_IOUS}
    for k, cat in enumerate(cat_ids):
        if not gt_count[cat]:
            per_class.append(ClassMetrics(cat, names[cat], 0, dt_count[cat], None, None, None))
            continue
        p = precision[:, :, k, 0, -1]
        at = {iou: int(np.argmin(np.abs(ious - iou))) for iou in PR_IOUS}
        per_class.append(ClassMetrics(cat, names[cat], gt_count[cat], dt_count[cat], _mean(p),
                                      _mean(p[at[0.5]]), _mean(p[at[0.75]])))
        for iou in PR_IOUS:
            curves[iou][cat] = tuple(float(max(v, 0.0)) for v in p[at[iou]])
    return CocoMetrics(
        summary=summary, undefined=tuple(undefined), per_class=tuple(per_class),
        recall_thresholds=tuple(float(r) for r in evaluator.params.recThrs), pr_curves=curves,
        num_images=len(gt["images"]), num_ground_truth=sum(gt_count.values()),
        num_detections=len(detections))
