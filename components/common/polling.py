"""Waiting on remote work: a poll interval that backs off, a deadline, and logs on change only."""
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
