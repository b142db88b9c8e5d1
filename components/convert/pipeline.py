"""The conversion as one Beam pipeline: ``build`` wires the transforms, ``run`` owns the Pipeline.

Locally (DirectRunner)::

    python -m components.convert --source ./sample --output ./sample/output

On Dataflow::

    python -m components.convert --source gs://B/run --runner DataflowRunner --project P \
        --region us-central1 --temp-location gs://B/tmp --sdk-container-image IMAGE
"""
from __future__ import annotations

import functools
import logging
import time
import uuid

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from components.common import label_map, uris
from components.convert import launcher
from components.convert.options import Settings, beam_args, output_inside_source
from components.convert.outputs import check_owned, last_stats, publish
from components.convert.stats import format_summary
from components.convert.plan import Plan, make_plan
from components.convert.transforms import (ERRORS, LOST, SENSORS, DedupeFrames, EncodeExamples, ErrorsFn,
                                           LostFilesFn, ReadFrames, StatsFn, lost_file, stage_units)

logger = logging.getLogger(__name__)


class ConversionError(RuntimeError):
    """The conversion ran but its result is unusable (see stats.json / errors.jsonl)."""


def build(root: beam.Pipeline, plan: Plan, settings: Settings, temp_dir: str) -> None:
    """Chain ReadFrames -> DedupeFrames -> EncodeExamples -> Finalize under ``root``."""
    read = root | "ReadFrames" >> ReadFrames(plan, stage_units(plan.units, temp_dir))
    frames, duplicates = read.frames | "DedupeFrames" >> DedupeFrames()
    written, shards, encode_errors = frames | "EncodeExamples" >> EncodeExamples(
        plan.source, temp_dir, plan.labels, settings.eval_pct, settings.image_sha256)
    counts = written | "Count" >> beam.CombineGlobally(StatsFn())
    eval_rows = written | "EvalOnly" >> beam.Filter(lambda w: w.split == "eval")
    problems = root | "PlanProblems" >> beam.Create(
        [{"file": s.path, "stage": "plan", "reason": s.reason, "detail": s.detail} for s in plan.problems])
    errors = ((read[ERRORS], duplicates, encode_errors, problems)
              | "AllErrors" >> beam.Flatten()
              | "SummariseErrors" >> beam.CombineGlobally(ErrorsFn(settings.max_listed_errors)))
    lost_in_plan = root | "PlanLostFiles" >> beam.Create(
        [lost_file(s.path, s.reason, s.images) for s in plan.problems])
    lost = ((read[LOST], lost_in_plan)
            | "AllLostFiles" >> beam.Flatten()
            | "SummariseLostFiles" >> beam.CombineGlobally(LostFilesFn()))
    sensors = read[SENSORS] | "CountSensorSkips" >> beam.combiners.Count.PerElement()
    context = {
        "source": plan.source, "format": plan.format, "eval_pct": settings.eval_pct,
        "labels": plan.labels, "max_bad_fraction": settings.max_bad_fraction,
        "max_dropped_box_fraction": settings.max_dropped_box_fraction,
        "superseded_attempts": list(plan.superseded_attempts),
        "annotation_files": len(plan.units) + len(plan.problems),
    }
    finalize = functools.partial(_finalize, output=settings.output_uri, temp_dir=temp_dir, context=context)
    _ = (root
         | "Start" >> beam.Create([None])
         | "Finalize" >> beam.Map(finalize,
                                  shards=beam.pvalue.AsList(shards),
                                  counts=beam.pvalue.AsSingleton(counts),
                                  eval_rows=beam.pvalue.AsList(eval_rows),
                                  errors=beam.pvalue.AsSingleton(errors),
                                  lost=beam.pvalue.AsSingleton(lost),
                                  sensors=beam.pvalue.AsList(sensors)))


def _finalize(_, shards, counts, eval_rows, errors, lost, sensors, output, temp_dir, context):
    return publish(output, temp_dir, list(shards), counts, list(eval_rows), errors["listed"], context,
                   error_counts=errors["counts"], lost=lost, sensors=dict(sensors))


def run(settings: Settings, gcp_resources_path: str | None = None) -> dict:
    """Plan, run the Beam job to completion, and return ``stats.json``'s content.

    On DataflowRunner the job goes through ``launcher.run_dataflow``: its handle is written to
    ``gcp_resources_path`` as soon as it exists, a restarted task waits on the job that file
    names instead of planning and launching again, and SIGTERM cancels the job. On DirectRunner
    ``gcp_resources_path`` (if given) gets an empty resource list.

    Raises:
        NoDatasetError: nothing convertible under the source.
        ConversionError: no valid image, or too many rejected (nothing published).
        RuntimeError: the Beam job failed.
    """
    output = settings.output_uri
    started = time.monotonic()
    logger.info("Converting %s -> %s (format %s, eval %.1f%%, %s)", settings.source, output,
                settings.format, settings.eval_pct, settings.runner)

    def start():
        # Only a new job checks: a resumed wait reads nothing (its job passed this check when launched).
        if output_inside_source(settings.source, output):
            check_owned(output, settings.source)
        return _built(settings)[0].run()

    launcher.launch(settings, start, gcp_resources_path)
    return _read_stats(output, settings.source, started)


def translate_dataflow_job(settings: Settings, job_file: str) -> dict:
    """The Dataflow job ``run`` would submit for ``settings``, written as JSON to ``job_file`` (local).

    Plans and builds exactly as ``run`` does, then runs the pipeline with DataflowRunner and
    ``--dry_run=True``: nothing is staged, submitted or waited on. The plan still reads the
    source, and the temporary folder it writes under the output is removed afterwards. See
    ``launcher.describe_dry_run`` for what the description holds.
    """
    if settings.runner != "DataflowRunner":
        raise ValueError(f"translate_dataflow_job needs DataflowRunner settings, not {settings.runner}")
    pipeline, temp_dir = _built(settings, ("--dry_run=True",))
    try:
        return launcher.describe_dry_run(pipeline.run(), job_file)
    finally:
        uris.delete_tree(temp_dir)


def _built(settings: Settings, extra_args: tuple[str, ...] = ()) -> tuple[beam.Pipeline, str]:
    """The planned pipeline, built and not yet run, and its temporary folder under the output."""
    output = settings.output_uri
    reference = None
    if settings.label_map:
        reference = label_map.parse_pbtxt(uris.read_text(settings.label_map), settings.label_map)
    plan = make_plan(settings.source, output, settings.format, settings.box_definition_id, reference,
                     sensors=settings.sensor)
    logger.info("Plan: %d datasets (%s), %d annotation files, %d classes, %d superseded attempts, "
                "%d unusable files", len(plan.datasets), plan.format, len(plan.units), len(plan.labels),
                len(plan.superseded_attempts), len(plan.problems))
    for problem in plan.problems:
        logger.warning("Lost annotation file %s (%s, %s images): %s", problem.path, problem.reason,
                       "unknown" if problem.images is None else problem.images, problem.detail)
    temp_dir = uris.join(output, f".tmp-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}")
    options = PipelineOptions(beam_args(settings, plan.image_bytes) + list(extra_args))
    pipeline = beam.Pipeline(runner=_runner(settings, options), options=options)
    build(pipeline, plan, settings, temp_dir)
    return pipeline, temp_dir


def _read_stats(output: str, source: str, started: float) -> dict:
    stats = last_stats(output)
    stats["seconds"] = round(time.monotonic() - started, 1)
    if not stats["ok"]:
        logger.warning("Conversion summary:\n%s", format_summary(stats, output))
        failed = uris.join(output, f".failed-{stats['run']}")
        raise ConversionError(f"conversion of {source} failed: {'; '.join(stats['problems'])}. "
                              f"See {uris.join(failed, 'stats.json')} and {uris.join(failed, 'errors.jsonl')}; "
                              f"the previous output in {output} is unchanged")
    return stats


def _runner(settings: Settings, options: PipelineOptions):
    """DirectRunner means Beam's FnApiRunner here: the DirectRunner's first choice, Prism,
    downloads a binary at run time, which offline machines cannot do.

    ``--environment_type`` (e.g. ``EXTERNAL`` with ``--environment_config=HOST:PORT`` of a
    ``apache_beam.runners.worker.worker_pool_main``) makes SDK workers outside this process run
    the DoFns, as Dataflow's workers would; FnApiRunner does not read that option by itself.
    """
    if settings.runner == "DirectRunner":
        from apache_beam.options.pipeline_options import PortableOptions
        from apache_beam.runners.portability.fn_api_runner import fn_runner
        from apache_beam.transforms import environments

        portable = options.view_as(PortableOptions)
        if portable.environment_type:
            return fn_runner.FnApiRunner(default_environment=environments.Environment.from_options(portable))
        return fn_runner.FnApiRunner()
    return None


def convert(source: str, output: str | None = None, *, fmt: str = "auto", eval_pct: float = 20.0,
            max_bad_fraction: float = 0.05, max_dropped_box_fraction: float = 0.05,
            sensor: tuple[str, ...] = (), beam_args: list[str] | None = None) -> dict:
    """Convert ``source`` to TFRecords under ``output`` (default ``SOURCE/output``) on DirectRunner.

    Returns the stats dict (also written as ``stats.json``).
    """
    settings = Settings(source=source, output=output, format=fmt, eval_pct=eval_pct,
                        max_bad_fraction=max_bad_fraction, max_dropped_box_fraction=max_dropped_box_fraction,
                        sensor=tuple(sensor),
                        extra_beam_args=tuple(beam_args or ()))
    return run(settings)
