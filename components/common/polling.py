"""Waiting on remote work: a poll interval that backs off, a deadline, and logs on change only.

    state = wait_for(lambda: client.get(job_id), lambda s: s in ("done", "failed"), what="job 7")

Used by the transfer step and by ``remote_job`` (the Dataflow job, the Vertex AI CustomJob), in
their images and locally alike.

A plain loop rather than tenacity: the poll needs a last look exactly at the deadline, a log line
only when the state changes, and an injected clock and sleep for tests, which tenacity's
``Retrying`` (it reads ``time.monotonic`` itself) would take more code to give, and the slim
transfer image would need one more package. The transfer client's HTTP retries stay with urllib3's
``Retry``, which already parses ``Retry-After``, tells connection from read errors, and lets each
try's timeout be cut to the deadline (``transfer/client.py``). So tenacity is not a direct
requirement; ``requirements.txt`` still pins it for google-cloud-aiplatform (through google-genai).
"""
from __future__ import annotations

import logging
import time
from typing import Callable, TypeVar

T = TypeVar("T")
logger = logging.getLogger(__name__)


class DeadlineExceeded(TimeoutError):
    """The remote work did not finish before the deadline."""


def wait_for(fetch: Callable[[], T], done: Callable[[T], bool], *, what: str,
             interval: float = 30.0, max_interval: float = 300.0, backoff: float = 1.5,
             timeout: float = 6 * 3600.0, describe: Callable[[T], str] = str,
             sleep: Callable[[float], None] = time.sleep,
             clock: Callable[[], float] = time.monotonic) -> T:
    """Call ``fetch`` until ``done(result)``; return the last result.

    The interval grows by ``backoff`` up to ``max_interval``. A change in ``describe(result)`` is
    logged with the elapsed time. Raises DeadlineExceeded after ``timeout`` seconds.
    """
    start = clock()
    last = None
    while True:
        result = fetch()
        state = describe(result)
        elapsed = clock() - start
        if state != last:
            logger.info("%s: %s (after %.0f s)", what, state, elapsed)
            last = state
        if done(result):
            return result
        if elapsed >= timeout:
            raise DeadlineExceeded(f"{what}: still {state} after {elapsed:.0f} s (deadline {timeout:.0f} s)")
        sleep(max(0.0, min(interval, timeout - elapsed)))
        interval = min(interval * backoff, max_interval)
