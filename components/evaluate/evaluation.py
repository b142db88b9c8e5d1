"""Evaluate an exported detector on eval TFRecords: COCO metrics, quality gate, HTML report.

Local:  ``python -m components.evaluate --model EXPORT --eval-data 'GEN/eval/*.tfrecord'
          --label-map GEN/label_map.pbtxt --output eval_out [--min-map 0.5]``
Cloud:  the ``evaluate`` KFP component runs ``evaluate`` in the evaluate image on Vertex AI.

The ground truth is built from the records themselves (``image/source_id`` as the COCO image id,
boxes scaled by ``image/height`` and ``image/width``), so any TFRecord glob can be evaluated.
"""
from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import dataclass, field, replace
from typing import Iterable, Sequence

from components.common import coco_truth, uris
from components.common.coco_truth import GroundTruth, RecordTruth
from components.common.logs import Progress
from components.preview import drawing
from components.common.label_map import read_label_map
from components.evaluate.metrics import SUMMARY_NAMES, CocoMetrics, Gate, check_gate, evaluate_coco
from components.evaluate.choices import BOX_COORDINATES, SIGNATURES
from components.evaluate.hardest import Hardest, count_errors
from components.evaluate.predict import Detections, Detector
from components.evaluate.records import Example, group_batches, read_examples
from components.evaluate.report import Sample, render_report

logger = logging.getLogger(__name__)

@dataclass(frozen=True)
class Settings:
    """Everything one evaluation needs; checks itself on construction."""

    model: str
    eval_data: tuple[str, ...]
    label_map: str | None = None
    min_map: float = 0.0
    gate_metric: str = "AP50"
    batch_size: int = 8
    signature: str = "auto"
    box_coordinates: str = "auto"
    num_report_images: int = 12
    num_hardest_images: int = 6  # the images with the most missed objects and false detections
    score_threshold: float = 0.3
    max_examples: int = 0
    seed: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.eval_data, str):
            object.__setattr__(self, "eval_data", (self.eval_data,))
        if not self.model:
            raise ValueError("--model is required: the export folder of the train step")
        if not self.eval_data or not all(self.eval_data):
            raise ValueError("--eval-data is required: a TFRecord glob or folder")
        if self.gate_metric not in SUMMARY_NAMES:
            raise ValueError(f"--gate-metric {self.gate_metric!r}: expected one of {', '.join(SUMMARY_NAMES)}")
        if not 0.0 <= self.min_map <= 1.0:
            raise ValueError(f"--min-map {self.min_map}: expected a value in [0, 1]")
        if self.batch_size < 1:
            raise ValueError(f"--batch-size {self.batch_size}: expected at least 1")
        if self.signature not in SIGNATURES:
            raise ValueError(f"--signature {self.signature!r}: expected one of {', '.join(SIGNATURES)}")
        if self.box_coordinates not in BOX_COORDINATES:
            raise ValueError(f"--box-coordinates {self.box_coordinates!r}: expected one of "
                             f"{', '.join(BOX_COORDINATES)}")
        if min(self.num_report_images, self.num_hardest_images, self.max_examples) < 0:
            raise ValueError("--num-report-images, --num-hardest-images and --max-examples must not be negative")
        if not 0.0 <= self.score_threshold <= 1.0:
            raise ValueError(f"--score-threshold {self.score_threshold}: expected a value in [0, 1]")


@dataclass(frozen=True)
class Evaluation:
    """What one run produced: numbers, the gate, the metrics.json document and the report page."""

    metrics: CocoMetrics
    gate: Gate
    document: dict
    report_html: str
    details: dict = field(default_factory=dict)


def record_truth(ex: Example) -> RecordTruth:
    """A parsed record's ground truth, for ``components.common.coco_truth``."""
    return RecordTruth(ex.source_id, ex.filename, ex.width, ex.height, ex.boxes.tolist(), ex.labels.tolist(),
                       ex.texts, ex.areas.tolist(), ex.is_crowd.tolist(), ex.file)


def coco_ground_truth(examples: Iterable[Example], labels: dict[int, str] | None = None) -> dict:
    """The COCO ground-truth dict of parsed records, as the evaluation builds it."""
    return coco_truth.coco_ground_truth(map(record_truth, examples), labels or {}, private_ids=True)


def _sample(ex: Example, dets: Detections, labels: dict[int, str], threshold: float, note: str = "") -> Sample:
    gt = tuple(drawing.Box(*(float(v) for v in box), labels.get(int(c), str(int(c))))
               for box, c in zip(ex.pixel_boxes(), ex.labels))
    keep = [i for i in range(len(dets)) if dets.scores[i] >= threshold]
    pred = tuple(drawing.Box(*(float(v) for v in dets.boxes[i]),
                             f"{labels.get(int(dets.classes[i]), int(dets.classes[i]))} {dets.scores[i]:.2f}")
                 for i in keep)
    return Sample(ex.filename, ex.encoded, gt, pred, hidden=len(dets) - len(keep), note=note)


def evaluate(settings: Settings) -> Evaluation:
    """Run the model over every eval record, score it with pycocotools, and build the report.

    Raises:
        ValueError: bad model folder, label map or records (the message names which).
    """
    labels = read_label_map(settings.label_map) if settings.label_map else {}
    detector = Detector(settings.model, settings.signature, settings.box_coordinates)
    start = time.monotonic()
    logger.info("Evaluating %s on %s", detector.model_dir, ", ".join(settings.eval_data))
    truth = GroundTruth(labels, private_ids=True)
    results: list[dict] = []
    unknown_class = 0
    rng = random.Random(settings.seed)
    reservoir: list[tuple[Example, Detections]] = []
    hardest = Hardest(settings.num_hardest_images)
    progress = Progress(logger, "Images evaluated", every=500)
    examples = read_examples(list(settings.eval_data), decode=detector.needs_decoded_images,
                             limit=settings.max_examples)
    for batch in group_batches(examples, settings.batch_size):
        for ex, dets in zip(batch, detector.detect(batch)):
            image_id = truth.add(record_truth(ex))
            for box, score, cls in zip(dets.boxes, dets.scores, dets.classes):
                if int(cls) not in truth.labels:
                    unknown_class += 1
                    continue
                results.append({"image_id": image_id, "category_id": int(cls),
                                "bbox": [float(v) for v in box], "score": float(score)})
            seen = progress.count
            kept = (replace(ex, image=None, serialized=b""), dets)
            if len(reservoir) < settings.num_report_images:
                reservoir.append(kept)
            elif settings.num_report_images and (j := rng.randint(0, seen)) < settings.num_report_images:
                reservoir[j] = kept
            hardest.add(count_errors(ex.pixel_boxes(), ex.labels, dets.boxes, dets.classes, dets.scores,
                                     settings.score_threshold), kept)
            progress.add()
    if not len(truth):
        raise ValueError(f"--eval-data {', '.join(settings.eval_data)}: the files hold no records")
    if truth.fallback_ids:
        logger.warning("%d record(s) had a missing, non-numeric or repeated image/source_id; "
                       "they were given private image ids", truth.fallback_ids)
    if unknown_class:
        logger.warning("%d detection(s) had a class id outside the label map and were ignored", unknown_class)
    elapsed = time.monotonic() - start
    metrics = evaluate_coco(truth.dataset(), results)
    gate = check_gate(metrics.summary, settings.min_map, settings.gate_metric)
    details = {
        "model": detector.model_dir, "eval_data": ", ".join(settings.eval_data),
        "label_map": settings.label_map or "(names from image/object/class/text)",
        "signature": f"{detector.signature} ({detector.input_type} input)",
        "box_coordinates": detector.box_coordinates, "images": len(truth),
        "detections_ignored_unknown_class": unknown_class, "batch_size": settings.batch_size,
        "inference_seconds": round(elapsed, 1), "images_per_second": round(len(truth) / max(elapsed, 1e-9), 2),
    }
    document = metrics.to_dict()
    document["gate"] = {"metric": gate.metric, "min_map": gate.min_map, "value": gate.value, "passed": gate.passed}
    worst = hardest.worst_first()
    document["hardest_images"] = [{"file_name": ex.filename, "missed": e.missed, "false_detections": e.false}
                                  for e, (ex, _) in worst]
    document["details"] = details
    samples = [_sample(ex, dets, truth.labels, settings.score_threshold) for ex, dets in reservoir]
    hard = [_sample(ex, dets, truth.labels, settings.score_threshold,
                    note=f"{e.missed} missed, {e.false} false") for e, (ex, dets) in worst]
    page = render_report(metrics, gate, samples, details, settings.score_threshold, hardest=hard)
    logger.info("Evaluated %d images in %.1f s: AP %.4f, AP50 %.4f, AP75 %.4f; gate %s %.4f >= %.4f: %s",
                len(truth), elapsed, metrics.summary["AP"], metrics.summary["AP50"],
                metrics.summary["AP75"], gate.metric, gate.value, gate.min_map,
                "passed" if gate.passed else "failed")
    return Evaluation(metrics, gate, document, page, details)


def write_outputs(evaluation: Evaluation, output: str) -> dict[str, str]:
    """Write ``metrics.json`` and ``report.html`` into ``output`` (local or gs://); returns their URIs."""
    paths = {"metrics_json": uris.join(output, "metrics.json"), "report": uris.join(output, "report.html")}
    uris.write_text(paths["metrics_json"], json.dumps(evaluation.document, indent=2))
    uris.write_text(paths["report"], evaluation.report_html)
    logger.info("Wrote %s and %s", paths["metrics_json"], paths["report"])
    return paths


def summary_lines(evaluation: Evaluation) -> Sequence[str]:
    """Short human-readable lines for a terminal."""
    m = evaluation.metrics.summary
    lines = [" ".join(f"{k}={m[k]:.4f}" for k in SUMMARY_NAMES[:6]),
             " ".join(f"{k}={m[k]:.4f}" for k in SUMMARY_NAMES[6:])]
    g = evaluation.gate
    lines.append(f"gate: {g.metric} {g.value:.4f} >= {g.min_map:.4f}: {'passed' if g.passed else 'failed'}")
    return lines
