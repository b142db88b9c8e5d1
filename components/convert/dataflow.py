"""Dataflow job handle: write it as soon as the job exists, resume waiting on it after a restart.

If the component's pod restarts while a Dataflow job it launched is still running, the
``gcp_resources`` file already names that job: waiting on it again, instead of launching a
second job, keeps a retried task from paying twice.
"""
from __future__ import annotations

import logging
import re
from typing import Callable

from components.common import gcp_resources
from components.common.polling import wait_for

logger = logging.getLogger(__name__)
RESOURCE_TYPE = "DataflowJob"
_JOB_URI = re.compile(r"/projects/([^/]+)/locations/([^/]+)/jobs/([^/?#]+)$")
TERMINAL = {"JOB_STATE_DONE", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED", "JOB_STATE_UPDATED",
            "JOB_STATE_DRAINED", "JOB_STATE_STOPPED"}


def launched_job(gcp_resources_path: str | None) -> tuple[str, str, str] | None:
    """(project, region, job id) of a job an earlier attempt of this task launched, if any."""
    if not gcp_resources_path:
        return None
    uri = gcp_resources.read(gcp_resources_path, RESOURCE_TYPE)
    match = _JOB_URI.search(uri or "")
    return match.groups() if match else None


def record_job(gcp_resources_path: str | None, project: str, region: str, job_id: str) -> None:
    logger.info("Dataflow job %s: %s", job_id, gcp_resources.dataflow_console_url(project, region, job_id))
    if gcp_resources_path:
        gcp_resources.write(gcp_resources_path, RESOURCE_TYPE,
                            gcp_resources.dataflow_job_uri(project, region, job_id))


def job_state_fetcher(project: str, region: str, job_id: str) -> Callable[[], str]:
    """A function returning the job's current state name (``JOB_STATE_...``), via the Dataflow API."""
    from google.cloud import dataflow_v1beta3

    client = dataflow_v1beta3.JobsV1Beta3Client()
    request = dataflow_v1beta3.GetJobRequest(project_id=project, location=region, job_id=job_id)
    return lambda: client.get_job(request=request).current_state.name


def wait_for_job(job_id: str, fetch_state: Callable[[], str], timeout: float = 7 * 24 * 3600.0,
                 interval: float = 30.0, sleep=None) -> str:
    """Poll until the job reaches a terminal state; returns it. RuntimeError unless DONE."""
    kwargs = {"sleep": sleep} if sleep else {}
    state = wait_for(fetch_state, lambda s: s in TERMINAL, what=f"Dataflow job {job_id}",
                     interval=interval, max_interval=300.0, timeout=timeout, **kwargs)
    if state != "JOB_STATE_DONE":
        raise RuntimeError(f"Dataflow job {job_id} ended in {state}")
    return state
