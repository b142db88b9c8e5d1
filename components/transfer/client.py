"""HTTP client for Unity Simulation's data-transfer endpoints.

    client = UnitySimulationClient("https://api.simulation.unity3d.com", token)
    started = client.start_transfer(project, run_definition, run_execution, bucket)
    state = client.get_transfer(project, started.id)

Every request has a connect and a read timeout. urllib3's ``Retry`` retries connection errors,
read timeouts, dropped connections, 429 and 5xx answers with exponential backoff plus jitter, and
honours ``Retry-After`` (capped). 400, 401, 403 and 404 fail at once.

With a ``deadline`` (a ``time.monotonic()`` value, the end of the whole transfer) no request
outlives it: each try's timeouts are cut to the time left, and a retry whose wait (``Retry-After``
or backoff) would end past the deadline raises ``DeadlineExceeded`` at once instead of sleeping.

The start is a ``PUT`` and is retried too, even after a read error when the server may already
have begun. HTTP makes PUT idempotent and a duplicate transfer would copy the same objects to the
same names, so the worst case is paying the copy twice, against failing a pipeline on one
transient 503. Only the id from the answer we receive is polled.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import Callable

import urllib3
from urllib3.exceptions import HTTPError

from components.common.polling import DeadlineExceeded
from components.transfer.credentials import Token

DEFAULT_API_URL = "https://api.simulation.unity3d.com"
API_URL_ENV = "USIM_API_URL"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
ID_FIELDS = ("id", "transfer_id", "data_transfer_id")
MESSAGE_FIELDS = ("message", "error", "error_message", "detail", "reason", "status_message")
# A try that starts at (or just before) the deadline still gets this long to connect and to read,
# so the poller's last look at the status, made at the deadline, can be answered.
MIN_TRY_TIMEOUT = 1.0
logger = logging.getLogger(__name__)


class UnityApiError(RuntimeError):
    """The API could not be reached, or answered with a server error after all retries."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class RequestRejected(ValueError):
    """The API refused the request (400, 401, 403, 404): retrying cannot help."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class TokenRejected(RequestRejected):
    """HTTP 401: the access token is expired or invalid."""


@dataclass(frozen=True)
class RetrySettings:
    """How hard to retry one request. ``attempts`` counts retries, not the first try."""

    attempts: int = 8
    backoff_factor: float = 1.0
    backoff_max: float = 60.0
    backoff_jitter: float = 1.0
    retry_after_max: float = 300.0
    connect_timeout: float = 10.0
    read_timeout: float = 60.0

    def retry(self, deadline: float | None = None,
              clock: Callable[[], float] = time.monotonic) -> urllib3.Retry:
        """A urllib3 ``Retry``; with a deadline, one whose waits never pass it (see the module)."""
        retry = _DeadlineRetry(
            total=self.attempts, connect=self.attempts, read=self.attempts, status=self.attempts,
            other=0, redirect=3, allowed_methods=frozenset({"GET", "PUT"}),
            status_forcelist=RETRY_STATUSES, backoff_factor=self.backoff_factor,
            backoff_max=self.backoff_max, backoff_jitter=self.backoff_jitter,
            retry_after_max=self.retry_after_max, respect_retry_after_header=True,
            raise_on_status=False, raise_on_redirect=False)
        retry.deadline, retry.clock = deadline, clock
        return retry

    def timeout(self, deadline: float | None = None,
                clock: Callable[[], float] = time.monotonic) -> urllib3.Timeout:
        """Connect and read timeouts, cut to the time left before ``deadline`` now and on every try."""
        timeout = _DeadlineTimeout(connect=self.connect_timeout, read=self.read_timeout)
        timeout.deadline, timeout.clock = deadline, clock
        return timeout.clone()


class _DeadlineRetry(urllib3.Retry):
    """``Retry`` whose sleep refuses to wait past ``deadline``; urllib3 calls ``sleep`` between tries."""

    deadline: float | None = None
    clock: Callable[[], float] = staticmethod(time.monotonic)

    def new(self, **kw) -> "_DeadlineRetry":
        retry = super().new(**kw)
        retry.deadline, retry.clock = self.deadline, self.clock
        return retry

    def sleep(self, response=None) -> None:
        wait, why = 0.0, "backoff"
        if self.respect_retry_after_header and response is not None:
            wait = self.get_retry_after(response) or 0.0
            why = f"Retry-After {wait:.0f} s" if wait else why
        if not wait:
            wait = self.get_backoff_time()
        if self.deadline is not None:
            left = self.deadline - self.clock()
            if wait >= left:
                last = self.history[-1] if self.history else None
                cause = (f"HTTP {last.status}" if last and last.status else
                         f"{type(last.error).__name__}" if last and last.error else "an error")
                raise DeadlineExceeded(f"after {cause}, the next try would wait {wait:.1f} s ({why}) but the "
                                       f"deadline (--timeout) is {max(0.0, left):.1f} s away")
        if wait > 0:
            time.sleep(wait)


class _DeadlineTimeout(urllib3.Timeout):
    """``Timeout`` cut to the time left whenever it is cloned; urllib3 clones it at every try."""

    deadline: float | None = None
    clock: Callable[[], float] = staticmethod(time.monotonic)

    def clone(self) -> "_DeadlineTimeout":
        connect, read = self._connect, self._read
        if self.deadline is not None:
            left = max(MIN_TRY_TIMEOUT, self.deadline - self.clock())
            connect, read = _at_most(connect, left), _at_most(read, left)
        timeout = _DeadlineTimeout(connect=connect, read=read, total=self.total)
        timeout.deadline, timeout.clock = self.deadline, self.clock
        return timeout


def _at_most(value, limit: float) -> float:
    return min(value, limit) if isinstance(value, (int, float)) else limit


@dataclass(frozen=True)
class TransferState:
    """One answer about a transfer: its id, lower-cased status and the server's message, if any."""

    id: str
    status: str
    message: str = ""
    body: dict = field(default_factory=dict, compare=False, repr=False)


class UnitySimulationClient:
    """Start and poll Unity Simulation data transfers."""

    def __init__(self, api_url: str, token: Token, *, retry: RetrySettings = RetrySettings(),
                 id_field: str = "id", deadline: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """``deadline``: a ``clock()`` value no request (retries included) may pass; None: no limit."""
        if not api_url.startswith(("https://", "http://")):
            raise ValueError(f"--api-url: {api_url!r} is not an http(s) URL")
        self.api_url = api_url.rstrip("/")
        self.id_field = id_field
        self.deadline, self._clock = deadline, clock
        self._token = token
        self._settings = retry
        self._http = urllib3.PoolManager(
            retries=retry.retry(),
            timeout=urllib3.Timeout(connect=retry.connect_timeout, read=retry.read_timeout))

    def __repr__(self) -> str:
        return f"UnitySimulationClient(api_url={self.api_url!r})"

    def start_transfer(self, project_id: str, run_definition_id: str, run_execution_id: str,
                       bucket: str) -> TransferState:
        """PUT .../data_transfer: ask Unity to copy one run execution into ``bucket``."""
        body = {"destination_bucket": bucket, "run_definition_id": run_definition_id,
                "run_execution_id": run_execution_id}
        data = self._call("PUT", f"/v1/projects/{project_id}/data_transfer", body, project_id)
        return self._state(data, None)

    def get_transfer(self, project_id: str, transfer_id: str) -> TransferState:
        """GET .../data_transfer/<id>: the transfer's current status."""
        data = self._call("GET", f"/v1/projects/{project_id}/data_transfer/{transfer_id}", None, project_id)
        return self._state(data, transfer_id)

    def _state(self, data: dict, known_id: str | None) -> TransferState:
        transfer_id = known_id
        if transfer_id is None:
            for name in (self.id_field, *ID_FIELDS):
                if data.get(name) not in (None, ""):
                    transfer_id = str(data[name])
                    if name != self.id_field:
                        logger.warning("The transfer id came in field %r, not %r", name, self.id_field)
                    break
            else:
                raise UnityApiError(f"the data_transfer answer has no transfer id in field {self.id_field!r}; "
                                    f"fields: {sorted(data)} (set --id-field)")
        status = data.get("status")
        if not isinstance(status, str) or not status:
            raise UnityApiError(f"transfer {transfer_id}: the answer has no 'status' string; fields: {sorted(data)}")
        return TransferState(transfer_id, status.strip().lower(), _message(data), data)

    def _call(self, method: str, path: str, body: dict | None, project_id: str) -> dict:
        url = self.api_url + path
        headers = {"Authorization": f"Bearer {self._token.reveal()}", "Accept": "application/json"}
        payload = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            payload = json.dumps(body).encode("utf-8")
        logger.debug("%s %s", method, url)
        try:
            response = self._http.request(
                method, url, body=payload, headers=headers,
                retries=self._settings.retry(self.deadline, self._clock),
                timeout=self._settings.timeout(self.deadline, self._clock))
        except DeadlineExceeded as err:
            raise DeadlineExceeded(f"{method} {url}: {err}") from None
        except HTTPError as err:
            # urllib3 texts name the URL and the cause, never headers; redact anyway, drop the chain.
            raise UnityApiError(self._token.redact(f"{method} {url}: no usable answer after retries: {err}")) \
                from None
        text = self._token.redact(response.data.decode("utf-8", errors="replace"))
        if response.status >= 400:
            raise _error(method, url, response.status, text, project_id)
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            raise UnityApiError(f"{method} {url}: HTTP {response.status} with a body that is not JSON: "
                                f"{text[:200]!r}", response.status) from None
        if not isinstance(data, dict):
            raise UnityApiError(f"{method} {url}: expected a JSON object, got {type(data).__name__}",
                                response.status)
        return data


def _message(data: dict) -> str:
    for name in MESSAGE_FIELDS:
        value = data.get(name)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, dict) and isinstance(value.get("message"), str):
            return value["message"]
    return ""


def _server_text(text: str) -> str:
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return text.strip()[:300]
    return (_message(data) if isinstance(data, dict) else "") or text.strip()[:300]


def _error(method: str, url: str, status: int, text: str, project_id: str) -> Exception:
    said = _server_text(text)
    said = f" Server said: {said}" if said else ""
    if status == 401:
        return TokenRejected(
            f"{method} {url}: HTTP 401, the Unity Simulation access token has expired or is invalid. "
            "Get a new one with `usim login` (it is written to ~/.usim/token.json), then update "
            f"USIM_ACCESS_TOKEN or the Secret Manager secret.{said}", status)
    if status == 403:
        return RequestRejected(f"{method} {url}: HTTP 403, the token is not allowed to use Unity project "
                               f"{project_id!r}.{said}", status)
    if status == 404:
        return RequestRejected(f"{method} {url}: HTTP 404, no such Unity project, run or transfer "
                               f"(project {project_id!r}).{said}", status)
    if status in (400, 409, 422):
        return RequestRejected(f"{method} {url}: HTTP {status}, the request was refused.{said}", status)
    return UnityApiError(f"{method} {url}: HTTP {status} after retries.{said}", status)
