"""One console line per step of a local run; everything else goes to a log file.

``Steps`` prints ``[3/6] Convert to TFRecords and preview ... 41 s`` when a step ends (and keeps the
line up to date while it runs, on a terminal). ``TaskLog`` is the text stream the KFP local runner
writes to: it copies every line into the log file and turns the runner's "Executing task 'x'" and
"Task 'x' finished" lines, and the trainer's step counter, into ``Steps`` calls.
"""
from __future__ import annotations

import io
import re
import time
from typing import Mapping, TextIO

ANSI = re.compile(r"\x1b\[[0-9;]*m")
TASK_START = re.compile(r"Executing task '([\w-]+)'")
TASK_END = re.compile(r"Task '([\w-]+)' finished with status (\w+)")
TRAIN_STEP = re.compile(r"train \| step:\s*(\d+)")


class Steps:
    """Numbered steps on the console: what, progress, seconds."""

    def __init__(self, console: TextIO, total: int) -> None:
        self.console, self.total = console, total
        self.done = 0
        self.what: str | None = None
        self.started = 0.0
        self.live = bool(getattr(console, "isatty", lambda: False)())

    def start(self, what: str) -> None:
        if self.what is not None:
            self.finish()
        self.what, self.started = what, time.monotonic()
        self.progress("")

    def progress(self, detail: str) -> None:
        """Shows ``detail`` on the running step's line (a terminal only; a log gets the final line)."""
        if self.live and self.what is not None:
            self.console.write(f"\r\x1b[K{self._line(detail, 'running')}")
            self.console.flush()

    def finish(self, detail: str = "", failed: bool = False) -> float:
        """Ends the running step with its line; returns its seconds."""
        if self.what is None:
            return 0.0
        seconds = time.monotonic() - self.started
        end = "FAILED after" if failed else ""
        self.console.write(("\r\x1b[K" if self.live else "") + self._line(detail, f"{end} {seconds:.0f} s".strip())
                           + "\n")
        self.console.flush()
        self.done += 1
        self.what = None
        return seconds

    def _line(self, detail: str, state: str) -> str:
        number = self.done + 1
        text = f"[{number}/{self.total}] {self.what}"
        if detail:
            text += f": {detail}"
        return f"{text:<64} {state}"


class TaskLog(io.TextIOBase):
    """Writes the runner's output to ``log``; task starts and ends (and training steps) go to ``steps``.

    Args:
        labels: KFP task name -> the words shown for it (other tasks show their name).
        max_steps: the training steps, for ``step N/max_steps`` while the train task runs.
    """

    def __init__(self, log: TextIO, steps: Steps, labels: Mapping[str, str], max_steps: int) -> None:
        super().__init__()
        self.log, self.steps, self.labels, self.max_steps = log, steps, labels, max_steps
        self._partial = ""
        self.trained = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.log.write(text)
        lines = (self._partial + text).split("\n")
        self._partial = lines.pop()
        for line in lines:
            self._scan(ANSI.sub("", line))
        self.log.flush()
        return len(text)

    def _scan(self, line: str) -> None:
        if match := TASK_START.search(line):
            self.steps.start(self.labels.get(match.group(1), match.group(1)))
        elif match := TASK_END.search(line):
            detail = f"{self.trained}/{self.max_steps} steps" if match.group(1) == "train" and self.trained else ""
            self.steps.finish(detail, failed=match.group(2) != "SUCCESS")
        elif match := TRAIN_STEP.search(line):
            self.trained = int(match.group(1))
            self.steps.progress(f"step {self.trained}/{self.max_steps}")
