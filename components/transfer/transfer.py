"""Copy one Unity Simulation run execution into a bucket and wait until it is there.

    python -m components.transfer --project-id P --run-definition-id D --run-execution-id E --bucket B

From Python: ``run_transfer(Settings(...), load_token())`` returns a ``TransferResult`` whose
``dataset_uri`` is ``gs://B/projects/P/run_executions/urn:run_definitions:D/urn:run_executions:E``
(or the same path under ``<buckets_root>/B`` for a local bucket folder, as the emulator writes).

Next to the run-execution folder a small record, ``urn:run_executions:E.transfer.json``, keeps the
transfer id and status. It is written as soon as Unity answers the start, so a restarted task
waits on the running transfer instead of starting another, and ``skip_if_present`` trusts only a
transfer recorded as successful (files alone could be a partial copy). Without Google credentials
(Unity does the copy, so none are needed to start it) the record and the file count are skipped
with a warning.

``timeout`` bounds the whole transfer: the client's requests and retry waits as well as the polling.
"""
from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from typing import Callable

from google.api_core import exceptions as google_exceptions
from google.auth import exceptions as auth_exceptions

from components.common import uris
from components.common.polling import DeadlineExceeded, wait_for
from components.transfer import ids
from components.transfer.client import (API_URL_ENV, DEFAULT_API_URL, RequestRejected, RetrySettings,
                                        TransferState, UnityApiError, UnitySimulationClient)
from components.transfer.credentials import Token

RUNNING, SUCCESS, FAILED = "running", "success", "failed"
# Polls that may fail in a row (each after the client's own retries) before the wait gives up.
MAX_FAILED_POLLS = 3
# Reading the destination fails like this when this machine has no (usable) Google credentials or
# they may not read the bucket; the transfer itself is Unity's and goes on without them.
NO_ACCESS = (auth_exceptions.GoogleAuthError, google_exceptions.Forbidden, google_exceptions.Unauthorized)
logger = logging.getLogger(__name__)


class TransferFailed(RuntimeError):
    """The transfer ended ``failed`` (or with a status this code does not know)."""

    def __init__(self, message: str, transfer_id: str, status: str) -> None:
        super().__init__(message)
        self.transfer_id, self.status = transfer_id, status


@dataclass(frozen=True)
class Settings:
    """What to transfer and how long to wait; ids are normalised and checked on construction."""

    project_id: str
    run_definition_id: str
    run_execution_id: str
    bucket: str
    api_url: str = ""
    buckets_root: str = ""
    timeout: float = 6 * 3600.0
    poll_interval: float = 30.0
    max_poll_interval: float = 300.0
    skip_if_present: bool = False
    id_field: str = "id"
    max_retries: int = 8

    def __post_init__(self) -> None:
        fix = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731
        fix("project_id", ids.project_id(self.project_id))
        fix("run_definition_id", ids.run_id(self.run_definition_id, ids.RUN_DEFINITION))
        fix("run_execution_id", ids.run_id(self.run_execution_id, ids.RUN_EXECUTION))
        fix("bucket", ids.bucket_name(self.bucket))
        if uris.is_gcs(self.buckets_root):
            raise ValueError(f"--buckets-root: {self.buckets_root!r} must be a local folder; for GCS leave it "
                             "empty and name the bucket with --bucket")
        if self.buckets_root:
            fix("buckets_root", os.path.abspath(uris.local_path(self.buckets_root)))
        if not self.timeout > 0:
            raise ValueError(f"--timeout: {self.timeout}; expected seconds > 0")
        if not 0 < self.poll_interval <= self.max_poll_interval:
            raise ValueError(f"--poll-interval {self.poll_interval} / --max-poll-interval "
                             f"{self.max_poll_interval}: expected 0 < poll interval <= max poll interval")
        if not 0 <= self.max_retries <= 100:
            raise ValueError(f"--max-retries: {self.max_retries}; expected 0 to 100 retries per request")
        if not self.id_field.strip():
            raise ValueError("--id-field: empty; expected the name of the transfer id in the start answer")

    def resolved_api_url(self) -> str:
        """--api-url, else USIM_API_URL, else Unity's public API."""
        return self.api_url or os.environ.get(API_URL_ENV) or DEFAULT_API_URL

    @property
    def bucket_uri(self) -> str:
        return os.path.join(self.buckets_root, self.bucket) if self.buckets_root else f"gs://{self.bucket}"

    @property
    def relative_path(self) -> str:
        return (f"projects/{self.project_id}/run_executions/urn:run_definitions:{self.run_definition_id}"
                f"/urn:run_executions:{self.run_execution_id}")

    @property
    def dataset_uri(self) -> str:
        return uris.join(self.bucket_uri, *self.relative_path.split("/"))

    @property
    def record_uri(self) -> str:
        return self.dataset_uri + ".transfer.json"


@dataclass(frozen=True)
class TransferResult:
    dataset_uri: str
    transfer_id: str
    status: str
    skipped: bool
    files: int | None  # None: the destination could not be listed (no Google credentials)
    elapsed: float


def run_transfer(settings: Settings, token: Token, *, client: UnitySimulationClient | None = None,
                 retry: RetrySettings | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> TransferResult:
    """Start (or resume) the transfer, wait for it, check the files arrived.

    Raises:
        ValueError: bad settings, or the API refused the request (bad ids, expired token).
        TransferFailed: the transfer ended ``failed`` (the message counts the partial files left),
            with an unknown status, or left no files.
        DeadlineExceeded: not done after ``settings.timeout`` seconds, retries of a request included.
        UnityApiError: the API could not be reached or kept failing.
    """
    start = clock()
    s = settings
    record = _read_record(s)
    logger.info("Transfer of run execution %s (run definition %s, Unity project %s) to %s",
                s.run_execution_id, s.run_definition_id, s.project_id, s.dataset_uri)
    if s.skip_if_present:
        present = _count_files(s.dataset_uri)
        if record and record.get("status") == SUCCESS and present:
            logger.info("Skipping: transfer %s already put %d files at %s", record.get("transfer_id"),
                        present, s.dataset_uri)
            return TransferResult(s.dataset_uri, str(record.get("transfer_id", "")), SUCCESS, True, present,
                                  clock() - start)
        if present:
            logger.warning("Found %d files at %s but no record of a finished transfer; transferring again",
                           present, s.dataset_uri)
    retry = retry or RetrySettings(attempts=s.max_retries)
    client = client or UnitySimulationClient(s.resolved_api_url(), token, retry=retry, id_field=s.id_field,
                                             deadline=start + s.timeout, clock=clock)
    try:
        state = _resume(client, s, record) or client.start_transfer(
            s.project_id, s.run_definition_id, s.run_execution_id, s.bucket)
    except DeadlineExceeded as err:
        raise DeadlineExceeded(f"Starting (or resuming) the Unity transfer of run execution {s.run_execution_id} "
                               f"ran into the deadline ({s.timeout:.0f} s): {err}") from None
    logger.info("Unity transfer id %s, status %s", state.id, state.status)
    _write_record(s, state)
    try:
        state = wait_for(_Poll(client, s.project_id, state), _finished(state.id),
                         what=f"Unity transfer {state.id}", interval=s.poll_interval,
                         max_interval=s.max_poll_interval, timeout=max(0.0, s.timeout - (clock() - start)),
                         describe=_describe, sleep=sleep, clock=clock)
    except DeadlineExceeded as err:
        raise DeadlineExceeded(f"{err}. It may still be running at Unity; run again to wait for it "
                               f"(its id is kept in {s.record_uri})") from None
    _write_record(s, state)
    if state.status == FAILED:
        raise TransferFailed(f"Unity transfer {state.id} of run execution {s.run_execution_id} to "
                             f"{s.bucket_uri} ended failed: {state.message or 'no message'}; "
                             f"{_partial_files(s.dataset_uri)}", state.id, FAILED)
    files = _count_files(s.dataset_uri)
    if files is None:
        logger.warning("Transfer %s reported success; not checking that files arrived at %s", state.id,
                       s.dataset_uri)
    elif not files:
        raise TransferFailed(f"Unity transfer {state.id} reported success but {s.dataset_uri} holds no files; "
                             "check the run ids and that the run execution produced output", state.id, SUCCESS)
    elapsed = clock() - start
    logger.info("Transfer %s done: %s files at %s in %.0f s", state.id, "?" if files is None else files,
                s.dataset_uri, elapsed)
    return TransferResult(s.dataset_uri, state.id, state.status, False, files, elapsed)


class _Poll:
    """One GET per call; an API outage costs up to MAX_FAILED_POLLS polls, not the whole wait."""

    def __init__(self, client: UnitySimulationClient, project_id: str, last: TransferState) -> None:
        self.client, self.project_id, self.last, self.failures = client, project_id, last, 0

    def __call__(self) -> TransferState:
        try:
            self.last = self.client.get_transfer(self.project_id, self.last.id)
        except UnityApiError as err:
            self.failures += 1
            if self.failures >= MAX_FAILED_POLLS:
                raise
            logger.warning("Polling transfer %s failed (%d of %d allowed in a row): %s", self.last.id,
                           self.failures, MAX_FAILED_POLLS - 1, err)
            return self.last
        self.failures = 0
        return self.last


def _finished(transfer_id: str) -> Callable[[TransferState], bool]:
    def done(state: TransferState) -> bool:
        if state.status in (SUCCESS, FAILED):
            return True
        if state.status == RUNNING:
            return False
        raise TransferFailed(f"Unity transfer {transfer_id}: unexpected status {state.status!r} (expected "
                             f"running, success or failed){': ' + state.message if state.message else ''}",
                             transfer_id, state.status)
    return done


def _describe(state: TransferState) -> str:
    return f"{state.status} ({state.message})" if state.message else state.status


def _resume(client: UnitySimulationClient, s: Settings, record: dict | None) -> TransferState | None:
    """The recorded transfer, if it is still running or done; None means start a new one."""
    if not record or record.get("status") != RUNNING or not record.get("transfer_id"):
        return None
    try:
        state = client.get_transfer(s.project_id, str(record["transfer_id"]))
    except RequestRejected as err:
        logger.warning("Recorded transfer %s is unknown to Unity (%s); starting a new one",
                       record["transfer_id"], err.status)
        return None
    if state.status in (RUNNING, SUCCESS):
        logger.info("Resuming recorded transfer %s (%s)", state.id, state.status)
        return state
    return None


def _count_files(uri: str) -> int | None:
    """Files under ``uri``; None (with a warning) when this machine may not list it."""
    try:
        return sum(1 for _ in uris.iter_files(uri)) if uris.is_gcs(uri) or os.path.isdir(uri) else 0
    except NO_ACCESS as err:
        logger.warning("Could not list %s (%s: %s)", uri, type(err).__name__, err)
        return None


def _partial_files(uri: str) -> str:
    """What a failed transfer left at ``uri``, for its error message."""
    count = _count_files(uri)
    if count is None:
        return f"the files it left under {uri} could not be counted (delete them before retrying)"
    if not count:
        return f"it left no files under {uri}"
    files = f"{count} partial files remain" if count != 1 else "1 partial file remains"
    return f"{files} under {uri} (delete them before retrying)"


def _read_record(s: Settings) -> dict | None:
    try:
        data = json.loads(uris.read_text(s.record_uri))
    except FileNotFoundError:
        return None
    except NO_ACCESS as err:
        logger.warning("Could not read %s (%s: %s); not resuming or skipping an earlier transfer",
                       s.record_uri, type(err).__name__, err)
        return None
    except (json.JSONDecodeError, UnicodeDecodeError):
        logger.warning("Ignoring %s: not JSON", s.record_uri)
        return None
    if not isinstance(data, dict) or data.get("run_execution_id") != s.run_execution_id:
        logger.warning("Ignoring %s: it describes another run execution", s.record_uri)
        return None
    return data


def _write_record(s: Settings, state: TransferState) -> None:
    record = {"transfer_id": state.id, "status": state.status, "message": state.message,
              "project_id": s.project_id, "run_definition_id": s.run_definition_id,
              "run_execution_id": s.run_execution_id, "bucket": s.bucket,
              "updated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    try:
        uris.write_text(s.record_uri, json.dumps(record, indent=1) + "\n")
    except (OSError, google_exceptions.GoogleAPIError, auth_exceptions.GoogleAuthError) as err:
        # The record only saves work on a rerun; the transfer itself goes on without it.
        logger.warning("Could not write %s (%s); a rerun will start a new transfer", s.record_uri, err)
