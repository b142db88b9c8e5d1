"""What the KFP ``evaluate`` and ``preview`` components do, as plain Python (the components only call these)."""
from __future__ import annotations

import json
import logging
from typing import Any

from components.common import manifest, uris
from components.common.logs import configure
from components.evaluate.evaluation import Settings, evaluate
from components.preview.preview import preview_examples

logger = logging.getLogger(__name__)


def eval_pattern(eval_data: Any) -> str:
    """The record glob of an eval Dataset artifact: its ``file_pattern`` metadata, else its folder."""
    pattern = (getattr(eval_data, "metadata", None) or {}).get("file_pattern")
    return pattern or eval_data.uri


def run_evaluate(model: Any, eval_data: Any, label_map: Any, metrics: Any, report: Any, metrics_json: Any,
                 min_map: float, gate_metric: str, batch_size: int, signature: str, box_coordinates: str,
                 num_report_images: int, score_threshold: float, max_examples: int) -> tuple[bool, float]:
    """Evaluate ``model`` on ``eval_data`` and fill in the output artifacts.

    Returns:
        (passed, gate_value): whether the gate metric reached ``min_map``, and its value.
    """
    configure()
    settings = Settings(
        model=model.uri, eval_data=(eval_pattern(eval_data),), label_map=label_map.uri if label_map else None,
        min_map=min_map, gate_metric=gate_metric, batch_size=batch_size, signature=signature,
        box_coordinates=box_coordinates, num_report_images=num_report_images,
        score_threshold=score_threshold, max_examples=max_examples)
    result = evaluate(settings)
    uris.write_text(report.path, result.report_html)
    uris.write_text(metrics_json.path, json.dumps(result.document, indent=2))
    metrics_json.metadata.update({"format": "json", "gate": result.document["gate"]})
    for name, value in result.metrics.summary.items():
        metrics.log_metric(name, round(value, 6))
    for cls in result.metrics.per_class:
        if cls.AP is not None:
            metrics.log_metric(f"AP_{cls.name}", round(cls.AP, 6))
    metrics.log_metric("num_images", result.metrics.num_images)
    metrics.log_metric("gate_passed", int(result.gate.passed))
    model_metadata = getattr(model, "metadata", None)
    logger.info("Report in %s, metrics.json in %s (model %s)", report.path, metrics_json.path,
                (model_metadata or {}).get("display_name", model.uri))
    return result.gate.passed, result.gate.value


def run_preview(examples: Any, report: Any, max_records: int, num_images: int) -> None:
    """Write the dataset preview of the convert step's ``examples`` folder into ``report``."""
    configure()
    folder = examples.uri
    if uris.is_file(uris.join(folder, manifest.MANIFEST)):  # the published generation: OUT/gen-<run>
        folder = manifest.generation_uri(folder)
    summary = preview_examples(folder, report.path, max_records=max_records, num_images=num_images)
    report.metadata.update({"records": summary.records, "problems": sum(summary.problems.values())})
