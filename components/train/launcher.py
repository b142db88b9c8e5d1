"""Start the trainer: as a subprocess here (``run_local``) or as a Vertex AI CustomJob (``run_vertex``).

Both run the pre-flight checks before starting anything. ``run_vertex`` goes through
``components.common.remote_job.run_remote``: it writes the job's handle to ``gcp_resources`` as soon
as the job exists, resumes waiting on that job when the file already names one (a restarted
launcher; no second pre-flight then), cancels the job on SIGTERM, logs state changes and the
console link, and raises RuntimeError with the job name, final state and link when the job does
not succeed. A local run writes an empty ``gcp_resources``.
"""
from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import time
from typing import Any, Callable

from components.common import gcp_resources, uris
from components.common.remote_job import RemoteJob, run_remote, write_no_resources
from components.train import job_spec, layout as layout_lib, preflight
from components.train.settings import Settings

logger = logging.getLogger(__name__)

RESOURCE_TYPE = "CustomJob"
SUCCEEDED = "JOB_STATE_SUCCEEDED"
TERMINAL = {"JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED", "JOB_STATE_EXPIRED",
            "JOB_STATE_PARTIALLY_SUCCEEDED"}


def console_url(resource_name: str) -> str:
    """Console page of ``projects/P/locations/R/customJobs/ID``."""
    parts = resource_name.split("/")
    project, region, job_id = parts[1], parts[3], parts[5]
    return f"https://console.cloud.google.com/vertex-ai/locations/{region}/training/{job_id}/cpu?project={project}"


def read_metrics(layout: layout_lib.Layout) -> dict[str, float]:
    try:
        return json.loads(uris.read_text(layout.metrics_file))
    except FileNotFoundError:
        logger.warning("No metrics file at %s", layout.metrics_file)
        return {}


def pinned(settings: Settings) -> tuple[Settings, layout_lib.Layout]:
    """Settings with the export dir written out, so every process agrees on the output paths."""
    layout = layout_lib.resolve(settings)
    return settings.replace(export_dir=layout.export_dir), layout


def run_local(settings: Settings) -> tuple[layout_lib.Layout, dict[str, float]]:
    """Check, then train in a child process on this machine; returns the layout and eval metrics."""
    settings, layout = pinned(settings)
    preflight.check(settings, layout)
    command = [sys.executable, "-m", "components.train.trainer", *settings.to_args()]
    logger.info("Training locally: %s", " ".join(command))
    child = subprocess.Popen(command)
    previous = signal.getsignal(signal.SIGTERM)

    def stop(signum, frame):
        logger.warning("SIGTERM: stopping the trainer (pid %d)", child.pid)
        child.terminate()

    signal.signal(signal.SIGTERM, stop)
    try:
        code = child.wait()
    finally:
        signal.signal(signal.SIGTERM, previous)
    if code:
        raise RuntimeError(f"local training into {layout.model_dir} failed with exit code {code}")
    return layout, read_metrics(layout)


class VertexClient:
    """The only place that calls google-cloud-aiplatform."""

    def __init__(self, project: str, region: str, credentials: Any = None) -> None:
        self.project, self.region, self.credentials = project, region, credentials

    def build(self, job: dict) -> Any:
        """An unsubmitted ``aiplatform.CustomJob`` from the REST-style dict."""
        from google.cloud import aiplatform

        base = job["job_spec"]["base_output_directory"]["output_uri_prefix"]
        return aiplatform.CustomJob(
            display_name=job["display_name"], worker_pool_specs=job["job_spec"]["worker_pool_specs"],
            base_output_dir=base, project=self.project, location=self.region, labels=job["labels"],
            staging_bucket=base, credentials=self.credentials)

    def submit(self, job: dict) -> Any:
        custom_job = self.build(job)
        spec = job["job_spec"]
        custom_job.submit(service_account=spec.get("service_account"), tensorboard=spec.get("tensorboard"),
                          timeout=int(spec["scheduling"]["timeout"].rstrip("s")),
                          restart_job_on_worker_restart=spec["scheduling"]["restart_job_on_worker_restart"])
        return custom_job

    def get(self, resource_name: str) -> Any:
        from google.cloud import aiplatform

        return aiplatform.CustomJob.get(resource_name, project=self.project, location=self.region,
                                        credentials=self.credentials)


def _state_name(job: Any) -> str:
    state = job.state
    return getattr(state, "name", str(state))


def run_vertex(settings: Settings, vertex: job_spec.Vertex, gcp_resources_path: str, *,
               client: VertexClient | None = None, poll_interval: float = 30.0,
               sleep: Callable[[float], None] | None = None) -> tuple[layout_lib.Layout, dict[str, float]]:
    """Submit (or resume waiting on) the CustomJob and wait for it; returns layout and eval metrics."""
    settings, layout = pinned(settings)
    client = client or VertexClient(vertex.project, vertex.region)

    def launch() -> RemoteJob:
        preflight.check(settings, layout, remote=True)
        return _remote(client.submit(job_spec.custom_job(settings, vertex)), vertex)

    def resume(uri: str) -> RemoteJob:
        return _remote(client.get(uri.split("/v1/", 1)[1]), vertex)

    run_remote(gcp_resources_path, RESOURCE_TYPE, launch, resume, terminal=TERMINAL, succeeded=SUCCEEDED,
               timeout=vertex.timeout_s + 3600, interval=poll_interval, sleep=sleep or time.sleep)
    return layout, read_metrics(layout)


def _remote(job: Any, vertex: job_spec.Vertex) -> RemoteJob:
    """The lifecycle's view of an ``aiplatform.CustomJob``."""
    name = job.resource_name

    def failure_detail() -> str | None:
        error = getattr(job, "error", None)
        return str(getattr(error, "message", error)) if error else None

    return RemoteJob(resource_type=RESOURCE_TYPE, uri=gcp_resources.custom_job_uri(vertex.region, name),
                     name=name, console_url=console_url(name), fetch_state=lambda: _state_name(job),
                     cancel=job.cancel, display_name=getattr(job, "display_name", None) or vertex.display_name,
                     failure_detail=failure_detail)


def launch(settings: Settings, vertex: job_spec.Vertex | None, gcp_resources_path: str = "",
           ) -> tuple[layout_lib.Layout, dict[str, float]]:
    """Local when ``vertex`` is None, else a Vertex AI CustomJob."""
    if vertex is None:
        write_no_resources(gcp_resources_path)
        return run_local(settings)
    return run_vertex(settings, vertex, gcp_resources_path)
