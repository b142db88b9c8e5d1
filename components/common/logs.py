"""Logging set-up for entry points, and a progress reporter for long work."""
from __future__ import annotations

import logging
import sys
import time

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure(level: int = logging.INFO) -> None:
    """Configure the root logger once (call from ``__main__`` or a component body only)."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(FORMAT, datefmt="%H:%M:%S"))
        root.addHandler(handler)
    root.setLevel(level)


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
