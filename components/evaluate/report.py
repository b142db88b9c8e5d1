"""The evaluation report: one self-contained HTML page.

It holds the COCO metric table and the quality gate, AP per class as a bar chart and a table,
precision-recall curves, and grids of eval images (the hardest ones, then a random sample) with
ground truth and predictions drawn in different colours, each labelled with its class (and score).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from components.evaluate import charts
from components.preview import drawing, pages
from components.evaluate.metrics import CocoMetrics, Gate

MAX_OPEN_ROWS = 20
DESCRIPTIONS = {
    "AP": "AP at IoU .50:.05:.95, all areas, up to 100 detections",
    "AP50": "AP at IoU .50",
    "AP75": "AP at IoU .75",
    "APs": "AP, small objects (area < 32\u00b2 px)",
    "APm": "AP, medium objects (32\u00b2 to 96\u00b2 px)",
    "APl": "AP, large objects (area > 96\u00b2 px)",
    "AR1": "AR with 1 detection per image",
    "AR10": "AR with 10 detections per image",
    "AR100": "AR with 100 detections per image",
    "ARs": "AR, small objects",
    "ARm": "AR, medium objects",
    "ARl": "AR, large objects",
}


@dataclass(frozen=True)
class Sample:
    """One eval image for the grid: its bytes and the boxes to draw."""

    filename: str
    encoded: bytes
    ground_truth: tuple[drawing.Box, ...]
    predictions: tuple[drawing.Box, ...]
    hidden: int = 0
    note: str = ""  # shown first in the caption


def _summary(metrics: CocoMetrics, gate: Gate | None) -> str:
    rows = []
    for name, value in metrics.summary.items():
        shown = None if name in metrics.undefined else value
        rows.append((name, DESCRIPTIONS.get(name, ""), pages.fmt(shown)))
    parts = []
    if gate is not None:
        verdict = "passed" if gate.passed else "failed"
        parts.append(f'<p>Quality gate: <span class="{"pass" if gate.passed else "fail"}">{verdict}</span> '
                     f"({pages.esc(gate.metric)} = {gate.value:.3f}, required \u2265 {gate.min_map:.3f})</p>")
    parts.append(pages.table(("metric", "meaning", "value"), rows, numeric=(2,)))
    counts = (f"{metrics.num_images:,} images, {metrics.num_ground_truth:,} ground-truth objects, "
              f"{metrics.num_detections:,} detections.")
    note = " \u2013 = no ground-truth object in that range." if metrics.undefined else ""
    parts.append(f'<p class="note">{counts}{note}</p>')
    return "\n".join(parts)


def _per_class(metrics: CocoMetrics) -> str:
    scored = [c for c in metrics.per_class if c.AP is not None]
    parts = []
    if scored:
        chart = charts.ap_bars([c.name for c in scored], [c.AP for c in scored], [c.AP50 for c in scored])
        parts.append(pages.img(chart, "image/png", "average precision per class", "chart"))
    rows = [(c.name, c.id, pages.fmt(c.num_ground_truth), pages.fmt(c.num_detections),
             pages.fmt(c.AP), pages.fmt(c.AP50), pages.fmt(c.AP75))
            for c in sorted(metrics.per_class, key=lambda c: (c.AP is None, -(c.AP or 0.0), c.name))]
    table = pages.table(("class", "id", "ground truth", "detections", "AP", "AP@0.5", "AP@0.75"),
                        rows, numeric=(1, 2, 3, 4, 5, 6))
    if len(rows) > MAX_OPEN_ROWS:  # a long table stays folded so the curves are not pushed far down
        table = f"<details><summary>Table of {len(rows)} classes</summary>{table}</details>"
    parts.append(table)
    return f'<div class="row">{"".join(parts)}</div>'


def _curves(metrics: CocoMetrics) -> str:
    names = {c.id: c.name for c in metrics.per_class}
    curves = {iou: {names[k]: v for k, v in by_class.items()} for iou, by_class in metrics.pr_curves.items()}
    if not any(curves.values()):
        return '<p class="note">No class has ground truth, so there is no curve to draw.</p>'
    chart = charts.pr_curves(metrics.recall_thresholds, curves)
    return (pages.img(chart, "image/png", "precision-recall curves", "chart")
            + '<p class="note">COCO-interpolated precision at 101 recall points, all areas, '
              "up to 100 detections per image.</p>")


def _grid(samples: Sequence[Sample], score_threshold: float, empty: str = "No eval images to show.") -> str:
    if not samples:
        return f'<p class="note">{pages.esc(empty)}</p>'
    shown = f"prediction (score \u2265 {score_threshold:g})"
    legend = (f'<p>{pages.key(drawing.GROUND_TRUTH, "ground truth")}'
              f"{pages.key(drawing.PREDICTION, shown)}</p>")
    figures = []
    for sample in samples:
        jpeg = drawing.render(sample.encoded, [(sample.ground_truth, drawing.GROUND_TRUTH, False),
                                               (sample.predictions, drawing.PREDICTION, True)])
        hidden = f", {sample.hidden} below the score threshold" if sample.hidden else ""
        note = f"<b>{pages.esc(sample.note)}</b><br>" if sample.note else ""
        caption = (f"{note}{pages.esc(sample.filename)}<br>{len(sample.ground_truth)} ground truth, "
                   f"{len(sample.predictions)} predictions shown{hidden}")
        figures.append(f"<figure>{pages.img(jpeg, 'image/jpeg', sample.filename)}"
                       f"<figcaption>{caption}</figcaption></figure>")
    return legend + f'<div class="grid">{"".join(figures)}</div>'


def render_report(metrics: CocoMetrics, gate: Gate | None, samples: Sequence[Sample],
                  details: Mapping[str, object], score_threshold: float = 0.3,
                  hardest: Sequence[Sample] = ()) -> str:
    """The whole report page.

    Args:
        metrics: from ``metrics.evaluate_coco``.
        gate: the quality gate result, or None when no gate was asked for.
        samples: eval images to draw (predictions already filtered by ``score_threshold``).
        details: facts about the run (model, data, signature, ...) listed at the end.
        hardest: the images with the most missed objects and false detections, worst first.
    """
    subtitle = f"model {details.get('model', '?')} on {details.get('eval_data', '?')}"
    sections = [
        ("COCO metrics", _summary(metrics, gate)),
        ("Average precision per class", _per_class(metrics)),
        ("Precision-recall curves", _curves(metrics)),
        (f"Hardest eval images ({len(hardest)}): most missed objects and false detections at IoU 0.5",
         _grid(hardest, score_threshold, empty="No image has a missed object or a false detection.")),
        (f"Random eval images ({len(samples)})", _grid(samples, score_threshold)),
        ("Run details", pages.table(("what", "value"), [(k, v) for k, v in details.items()])),
    ]
    return pages.page("Detector evaluation", subtitle, sections)
