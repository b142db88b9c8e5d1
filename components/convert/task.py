"""What the KFP ``convert`` component does, as plain Python (the component only calls this)."""
from __future__ import annotations

import html
import logging
import time
from typing import Any

from components.common import uris
from components.common.logs import configure
from components.convert.options import Settings
from components.convert.stats import format_summary
from components.convert.pipeline import run

logger = logging.getLogger(__name__)


def settings_for_task(source: str, output: str, eval_pct: float, dataset_format: str,
                      max_bad_fraction: float, runner: str, project: str, region: str,
                      temp_location: str, sdk_container_image: str, num_workers: int,
                      max_num_workers: int, machine_type: str, service_account: str,
                      extra_beam_args: list[str], label_map: str | None = None,
                      max_dropped_box_fraction: float = 0.05, sensor: str = "") -> Settings:
    """Component parameters (empty string / 0 = unset) -> Settings.

    Raises:
        ValueError: naming the flag (``--max-num-workers``) of an impossible value.
    """
    for flag, count in (("--num-workers", num_workers), ("--max-num-workers", max_num_workers)):
        if count is not None and count < 0:
            raise ValueError(f"{flag} {count}: expected a worker count, or 0 to let Dataflow choose")
    job_name = f"synthdet-convert-{time.strftime('%Y%m%d-%H%M%S')}" if runner == "DataflowRunner" else None
    return Settings(
        source=source, output=output, format=dataset_format, eval_pct=eval_pct,
        max_bad_fraction=max_bad_fraction, runner=runner, project=project or None,
        max_dropped_box_fraction=max_dropped_box_fraction,
        region=region or None, temp_location=temp_location or None,
        sdk_container_image=sdk_container_image or None, num_workers=num_workers or None,
        max_num_workers=max_num_workers or None, machine_type=machine_type or None,
        service_account=service_account or None, job_name=job_name, label_map=label_map,
        sensor=tuple(s for s in sensor.split(",") if s),
        labels={"app": "synthdet"} if runner == "DataflowRunner" else {},
        extra_beam_args=tuple(extra_beam_args or ()))


def run_task(source: str, eval_pct: float, dataset_format: str, max_bad_fraction: float, runner: str,
             project: str, region: str, temp_location: str, sdk_container_image: str, num_workers: int,
             max_num_workers: int, machine_type: str, service_account: str, extra_beam_args: list,
             examples: Any, train_data: Any, eval_data: Any, label_map: Any, metrics: Any,
             gcp_resources: str, reference_label_map: Any = None, preview: Any = None,
             max_dropped_box_fraction: float = 0.05, sensor: str = "") -> tuple[int]:
    """Run the conversion into ``examples.uri`` and fill in the other output artifacts,
    the dataset preview (HTML) among them.

    Returns a 1-tuple: Model Garden's ``num_classes`` (highest label id + 1).
    """
    configure()
    output = examples.uri
    settings = settings_for_task(source, output, eval_pct, dataset_format, max_bad_fraction, runner,
                                 project, region, temp_location, sdk_container_image, num_workers,
                                 max_num_workers, machine_type, service_account, extra_beam_args,
                                 reference_label_map.uri if reference_label_map else None,
                                 max_dropped_box_fraction, sensor=sensor)
    stats = run(settings, gcp_resources_path=gcp_resources)
    logger.info("Conversion summary:\n%s", format_summary(stats, output))
    examples.metadata.update({"format": stats["format"], "num_classes": stats["num_classes"],
                              "labels": stats["labels"]})
    published = uris.join(output, stats["generation"])  # OUT/gen-<run>, named by OUT/manifest.json
    examples.metadata["generation"] = stats["generation"]
    for artifact, split in ((train_data, "train"), (eval_data, "eval")):
        artifact.uri = uris.join(published, split)
        artifact.metadata.update({"examples": stats["examples"][split], "objects": stats["objects"][split],
                                  "file_pattern": uris.join(published, split, f"{split}-*.tfrecord")})
    label_map.uri = uris.join(published, "label_map.pbtxt")
    label_map.metadata["num_classes"] = stats["num_classes"]
    for split in ("train", "eval"):
        metrics.log_metric(f"{split}_examples", stats["examples"][split])
        metrics.log_metric(f"{split}_objects", stats["objects"][split])
    metrics.log_metric("images_read", stats["images_read"])
    metrics.log_metric("images_skipped", sum(stats["skipped"].values()))
    metrics.log_metric("bad_fraction", stats["bad_fraction"])
    metrics.log_metric("num_classes", stats["num_classes"])
    if preview is not None:
        write_preview(published, preview)
    return (int(stats["num_classes"]),)


def write_preview(output: str, preview: Any) -> None:
    """The dataset preview of the published records into the ``preview`` HTML artifact.

    The records are published by now: a preview that cannot be made is logged as an error and
    said on the page, and the conversion's outputs stand.
    """
    from components.preview.preview import preview_examples

    try:
        summary = preview_examples(output, preview.path)
    except Exception as err:  # any failure here must not throw away a finished conversion
        logger.error("Dataset preview of %s failed: %s", output, err)
        uris.write_text(preview.path, f"<!doctype html><meta charset=utf-8><title>Dataset preview</title>"
                                      f"<p>The dataset preview of {html.escape(output)} failed: "
                                      f"{html.escape(str(err))}</p>")
        preview.metadata["error"] = str(err)
        return
    preview.metadata.update({"records": summary.records, "problems": sum(summary.problems.values())})
