"""Run the conversion's Beam pipeline: here (``run_direct``) or as a Dataflow job (``run_dataflow``).

``run_dataflow`` goes through ``components.common.remote_job.run_remote``: the job's handle goes
to ``gcp_resources`` as soon as ``pipeline.run()`` returns (the job id comes from the result
object); if the pod restarts while that job runs, the file already names it and the retried task
waits on it instead of launching (and paying for) a second one; SIGTERM cancels the job on both
paths; state changes are logged with the elapsed time; a job that does not end in
``JOB_STATE_DONE`` raises RuntimeError with its id, name, state and console link.

``describe_dry_run`` turns the result of a ``--dry_run=True`` DataflowRunner run into the job
description DataflowRunner would submit, without staging or submitting anything.
"""
from __future__ import annotations

import json
import logging
import os
import re
import time
from typing import Any, Callable

from components.common import gcp_resources
from components.common.remote_job import RemoteJob, run_remote, write_no_resources
from components.convert.options import Settings

logger = logging.getLogger(__name__)

RESOURCE_TYPE = "DataflowJob"
SUCCEEDED = "JOB_STATE_DONE"
TERMINAL = {"JOB_STATE_DONE", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED", "JOB_STATE_UPDATED",
            "JOB_STATE_DRAINED", "JOB_STATE_STOPPED"}
TIMEOUT_S = 7 * 24 * 3600.0
_JOB_URI = re.compile(r"/projects/([^/]+)/locations/([^/]+)/jobs/([^/?#]+)$")

# Starts the built pipeline (``pipeline.run()``) and returns Beam's PipelineResult.
Start = Callable[[], Any]


def parse_job_uri(uri: str | None) -> tuple[str, str, str] | None:
    """(project, region, job id) of a ``gcp_resources`` Dataflow job URI, or None."""
    match = _JOB_URI.search(uri or "")
    return match.groups() if match else None


def launched_job(gcp_resources_path: str | None) -> tuple[str, str, str] | None:
    """(project, region, job id) of a job an earlier attempt of this task launched, if any."""
    if not gcp_resources_path:
        return None
    return parse_job_uri(gcp_resources.read(gcp_resources_path, RESOURCE_TYPE))


class DataflowClient:
    """The only place that calls google-cloud-dataflow-client (for a job an earlier attempt launched)."""

    def __init__(self, credentials: Any = None) -> None:
        self.credentials = credentials
        self._client = None

    def _jobs(self):
        if self._client is None:
            from google.cloud import dataflow_v1beta3

            self._client = dataflow_v1beta3.JobsV1Beta3Client(credentials=self.credentials)
        return self._client

    def get(self, project: str, region: str, job_id: str) -> Any:
        """The ``dataflow_v1beta3.Job`` (``name``, ``current_state`` ...)."""
        from google.cloud import dataflow_v1beta3

        return self._jobs().get_job(request=dataflow_v1beta3.GetJobRequest(
            project_id=project, location=region, job_id=job_id))

    def cancel(self, project: str, region: str, job_id: str) -> None:
        from google.cloud import dataflow_v1beta3

        self._jobs().update_job(request=dataflow_v1beta3.UpdateJobRequest(
            project_id=project, location=region, job_id=job_id,
            job=dataflow_v1beta3.Job(requested_state=dataflow_v1beta3.JobState.JOB_STATE_CANCELLED)))


def _remote(project: str, region: str, job_id: str, fetch_state: Callable[[], str],
            cancel: Callable[[], None], job_name: str | None) -> RemoteJob:
    return RemoteJob(resource_type=RESOURCE_TYPE, uri=gcp_resources.dataflow_job_uri(project, region, job_id),
                     name=job_id, console_url=gcp_resources.dataflow_console_url(project, region, job_id),
                     fetch_state=fetch_state, cancel=cancel, display_name=job_name or "")


def launched(result: Any, settings: Settings) -> RemoteJob:
    """The job a DataflowRunner ``PipelineResult`` stands for: state and cancel via the result."""
    return _remote(settings.project, settings.region, result.job_id(),
                   fetch_state=lambda: f"JOB_STATE_{result.state}", cancel=result.cancel,
                   job_name=settings.job_name)


def resumed(uri: str, client: DataflowClient) -> RemoteJob:
    """The job a ``gcp_resources`` URI names: state and cancel via the Dataflow API."""
    parsed = parse_job_uri(uri)
    if not parsed:
        raise ValueError(f"not a Dataflow job URI: {uri!r}")
    project, region, job_id = parsed
    name = client.get(project, region, job_id).name
    return _remote(project, region, job_id,
                   fetch_state=lambda: client.get(project, region, job_id).current_state.name,
                   cancel=lambda: client.cancel(project, region, job_id), job_name=name)


def run_dataflow(settings: Settings, start: Start, gcp_resources_path: str | None, *,
                 client: DataflowClient | None = None, timeout: float = TIMEOUT_S, interval: float = 30.0,
                 sleep: Callable[[float], None] = time.sleep) -> RemoteJob:
    """Launch the Dataflow job with ``start`` (or resume the one ``gcp_resources`` names) and wait for it.

    ``start`` is only called when no earlier attempt launched a job. Raises RuntimeError unless
    the job ends in JOB_STATE_DONE.
    """
    client = client or DataflowClient()
    return run_remote(gcp_resources_path, RESOURCE_TYPE, lambda: launched(start(), settings),
                      lambda uri: resumed(uri, client), terminal=TERMINAL, succeeded=SUCCEEDED,
                      timeout=timeout, interval=interval, sleep=sleep)


def run_direct(settings: Settings, start: Start, gcp_resources_path: str | None) -> None:
    """Run the pipeline in this process; ``gcp_resources`` (if asked for) names no resource."""
    write_no_resources(gcp_resources_path)
    result = start()
    result.wait_until_finish()
    state = str(result.state)
    if "DONE" not in state:
        raise RuntimeError(f"conversion job ended in state {state} (source {settings.source})")


def launch(settings: Settings, start: Start, gcp_resources_path: str | None = None) -> None:
    """``run_dataflow`` for DataflowRunner settings, else ``run_direct``."""
    if settings.runner == "DataflowRunner":
        run_dataflow(settings, start, gcp_resources_path)
    else:
        run_direct(settings, start, gcp_resources_path)


def describe_dry_run(result: Any, job_file: str) -> dict:
    """Write the job description of a ``--dry_run=True`` DataflowRunner result to ``job_file``; return it.

    Beam's dry run returns before ``create_job_description``, so its ``result.job`` has only a
    name, type and labels. This adds the ``environment`` (worker pools and their container
    images, experiments, every pipeline option) as ``create_job_description`` builds it, with
    Beam's own classes; what it leaves out is the staging: no files are uploaded, so the worker
    pool lists no packages, and the pipeline URL names where the proto would be staged. The
    ``dry_run`` option itself is dropped from the recorded options.
    """
    from apache_beam.io.filesystems import FileSystems
    from apache_beam.options.pipeline_options import WorkerOptions
    from apache_beam.runners.dataflow.internal import apiclient
    from apache_beam.runners.internal import names

    job = result.job
    overrides = job.options.view_as(WorkerOptions).sdk_harness_container_image_overrides or []
    apiclient.DataflowApplicationClient._apply_sdk_environment_overrides(
        job.proto_pipeline, dict(s.split(",", 1) for s in overrides), job.options)
    job.proto.environment = apiclient.Environment(
        packages=[], options=job.options, environment_version=apiclient._FNAPI_ENVIRONMENT_MAJOR_VERSION,
        proto_pipeline_staged_url=FileSystems.join(job.google_cloud_options.staging_location,
                                                   names.STAGED_PIPELINE_FILENAME),
        proto_pipeline=job.proto_pipeline).proto
    description = json.loads(job.json())
    # The one option a real submission would not carry.
    pipeline_options = description["environment"]["sdkPipelineOptions"]
    pipeline_options["options"].pop("dry_run", None)
    pipeline_options["display_data"] = [d for d in pipeline_options.get("display_data", [])
                                        if d.get("key") != "dry_run"]
    parent = os.path.dirname(job_file)
    if parent:
        os.makedirs(parent, exist_ok=True)
    with open(job_file, "w") as f:
        json.dump(description, f, indent=2)
    return description
