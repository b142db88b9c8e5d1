"""Logging set-up for entry points, and a progress reporter for long work."""
from __future__ import annotations

import logging
import re
import sys
import time

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


_WORKER_MESSAGE = re.compile(r'message: "(.*?)"(?: instruction_id| transform_id| log_location)')


class _BeamWorkerFilter(logging.Filter):
    """Beam's local multi-process workers log through one relay logger, in protobuf text.

    Keep only what our own code logged there, shown as a plain message; drop the harness chatter.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if "/components/" not in text:
            return record.levelno >= logging.ERROR
        match = _WORKER_MESSAGE.search(text)
        if match:
            record.msg, record.args = "[worker] %s", (match.group(1),)
        return True


def configure(level: int = logging.INFO) -> None:
    """Configure the root logger once (call from ``__main__`` or a component body only)."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(FORMAT, datefmt="%H:%M:%S"))
        root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("apache_beam").setLevel(logging.WARNING)
    relay = logging.getLogger("apache_beam.runners.portability.local_job_service")
    relay.setLevel(logging.INFO)
    if not any(isinstance(f, _BeamWorkerFilter) for f in relay.filters):
        relay.addFilter(_BeamWorkerFilter())


class Progress:
    """Logs a count and rate every ``every`` items or ``seconds`` seconds, whichever comes first."""

    def __init__(self, logger: logging.Logger, what: str, total: int | None = None,
                 every: int = 1000, seconds: float = 10.0) -> None:
        self.logger, self.what, self.total = logger, what, total
        self.every, self.seconds = every, seconds
        self.count = 0
        self.start = self._last_time = time.monotonic()
        self._last_count = 0

    def add(self, n: int = 1) -> None:
        self.count += n
        now = time.monotonic()
        if self.count - self._last_count >= self.every or now - self._last_time >= self.seconds:
            self._report(now)

    def _report(self, now: float) -> None:
        rate = self.count / max(now - self.start, 1e-9)
        of = f"/{self.total}" if self.total else ""
        self.logger.info("%s: %d%s (%.1f/s)", self.what, self.count, of, rate)
        self._last_time, self._last_count = now, self.count

    def elapsed(self) -> float:
        return time.monotonic() - self.start
