"""One lifecycle for a job that runs elsewhere (a Dataflow job, a Vertex AI CustomJob).

``run_remote`` does what Google Cloud Pipeline Components' launchers do (docs/cloud.md, sections 3
and 4): it writes the job's handle to ``gcp_resources`` as soon as the job exists; when the file
already names a job (the task's pod restarted), it resumes waiting on that job instead of
launching another; while it waits, SIGTERM cancels the job, and the previous SIGTERM handler is
back once the wait ends; state changes are logged with the elapsed time, the console link once;
a job that does not succeed raises ``RemoteJobFailed`` with its name, final state and link.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import threading
import time
from dataclasses import dataclass
from typing import Callable, Collection, Iterator

from components.common import gcp_resources
from components.common.polling import wait_for

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RemoteJob:
    """What the lifecycle needs of a job: its handle, its link, its state and a way to cancel it."""

    resource_type: str  # gcp_resources resourceType: "DataflowJob", "CustomJob"
    uri: str  # gcp_resources resourceUri
    name: str  # the job id or resource name
    console_url: str
    fetch_state: Callable[[], str]  # the current state's name, e.g. "JOB_STATE_RUNNING"
    cancel: Callable[[], None]
    display_name: str = ""
    failure_detail: Callable[[], str | None] = lambda: None  # why it failed, if the service says

    @property
    def title(self) -> str:
        label = f"{self.resource_type} {self.name}"
        return f"{label} ({self.display_name})" if self.display_name else label


class RemoteJobFailed(RuntimeError):
    """The job reached a terminal state other than success."""

    def __init__(self, job: RemoteJob, state: str, detail: str | None = None) -> None:
        self.job, self.state = job, state
        super().__init__(f"{job.title} ended in {state}{f': {detail}' if detail else ''}; see {job.console_url}")


def write_no_resources(gcp_resources_path: str | None) -> None:
    """The empty, valid file for a run that launches no remote job (``{"resources": []}``)."""
    if not gcp_resources_path:
        return
    parent = os.path.dirname(gcp_resources_path)
    if parent:
        os.makedirs(parent, exist_ok=True)
    with open(gcp_resources_path, "w") as f:
        json.dump({"resources": []}, f)


def run_remote(gcp_resources_path: str | None, resource_type: str, launch: Callable[[], RemoteJob],
               resume: Callable[[str], RemoteJob], *, terminal: Collection[str], succeeded: str,
               timeout: float, interval: float = 30.0, max_interval: float = 300.0,
               sleep: Callable[[float], None] = time.sleep) -> RemoteJob:
    """Launch the job (or resume the one ``gcp_resources`` names) and wait until it is terminal.

    Args:
        gcp_resources_path: the task's ``gcp_resources`` output; empty or None keeps no handle.
        resource_type: the handle's ``resourceType`` to look for before launching.
        launch: starts a new job and returns it as soon as it exists.
        resume: the job for a ``resourceUri`` an earlier attempt wrote.
        terminal, succeeded: state names that end the wait, and the one that means success.
        timeout, interval, max_interval, sleep: the polling (see ``polling.wait_for``).
    Returns:
        The job, which succeeded.
    Raises:
        RemoteJobFailed: it ended in another terminal state.
        polling.DeadlineExceeded: it was still running after ``timeout`` seconds (it is left running).
        SystemExit: SIGTERM while waiting, after asking the service to cancel the job.
    """
    uri = gcp_resources.read(gcp_resources_path, resource_type) if gcp_resources_path else None
    if uri:
        job = resume(uri)
        logger.info("An earlier attempt launched %s (named in %s); waiting on it instead of launching another",
                    job.title, gcp_resources_path)
    else:
        job = launch()
        if gcp_resources_path:
            gcp_resources.write(gcp_resources_path, job.resource_type, job.uri)
    logger.info("%s: %s", job.title, job.console_url)
    with _cancel_on_sigterm(job):
        state = wait_for(job.fetch_state, lambda s: s in terminal, what=job.title, interval=interval,
                         max_interval=max_interval, timeout=timeout, sleep=sleep)
    if state != succeeded:
        raise RemoteJobFailed(job, state, job.failure_detail())
    return job


@contextlib.contextmanager
def _cancel_on_sigterm(job: RemoteJob) -> Iterator[None]:
    """While active, SIGTERM cancels ``job`` and exits; the previous handler is back afterwards.

    Signal handlers can only be set from the main thread: elsewhere this logs and does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        logger.warning("Not on the main thread: SIGTERM will not cancel %s", job.title)
        yield
        return

    def handle(signum, frame) -> None:
        logger.warning("SIGTERM: cancelling %s", job.title)
        try:
            job.cancel()
        except Exception:  # exit anyway: the pod is going away
            logger.exception("Could not cancel %s; cancel it at %s", job.title, job.console_url)
        raise SystemExit(f"SIGTERM: cancelled {job.title}")

    previous = signal.signal(signal.SIGTERM, handle)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)
