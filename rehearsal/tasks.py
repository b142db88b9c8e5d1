"""Run a compiled pipeline's tasks as Vertex would: each with its compiled command, in its image.

KFP's local orchestrator walks the compiled ``pipeline.yaml`` (conditions, ``OneOf``, artifact
passing) and resolves every task's placeholders into the command and arguments written in the
spec. Where its SubprocessRunner would run that command with this process's Python, the
rehearsal runs it in the environment built from the task's image (``rehearsal.images``), from a
working directory outside the repository, with nothing of the development virtualenv on the path.
A task whose image is not one this repository builds (Google Cloud Pipeline Components' own
image) calls Google APIs: its resolved command is recorded, not run.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import time
from dataclasses import dataclass, field
from typing import Iterator

from components.common import images
from rehearsal.images import ImageEnv

logger = logging.getLogger(__name__)


class TaskFailed(RuntimeError):
    """A task of the compiled pipeline failed in its image; names the task and its log."""


@dataclass
class TaskRecord:
    name: str                 # KFP's task resource name, e.g. "convert" or "convert-2"
    image: str
    seconds: float = 0.0
    returncode: int | None = None   # None: not run (an image of Google's)
    log: str = ""
    command: list[str] = field(default_factory=list)


@dataclass
class TaskRun:
    """The environments tasks run in and what happened to each task."""

    envs: dict[str, ImageEnv]
    workdir: str                                   # neutral working directory for every task
    logs: str
    extra_env: dict[str, str] = field(default_factory=dict)
    records: list[TaskRecord] = field(default_factory=list)

    def record(self, prefix: str) -> TaskRecord:
        """The first task whose name starts with ``prefix`` (KFP adds ``-2``, ``-3`` to repeats)."""
        for rec in self.records:
            if rec.name == prefix or rec.name.startswith(prefix + "-"):
                return rec
        raise KeyError(f"no task {prefix!r} ran; ran: {', '.join(r.name for r in self.records)}")


def _task_name(command: list[str]) -> str:
    """The task name KFP's executor input carries (``...pipeline_task_name`` is not in the command)."""
    for part in command:
        if part.startswith("{") and '"outputs"' in part:
            try:
                doc = json.loads(part)
            except ValueError:
                continue
            output_file = doc.get("outputs", {}).get("outputFile", "")
            # <pipeline_root>/<pipeline run>/<task name>/executor_output.json
            return os.path.basename(os.path.dirname(output_file)) or "task"
    return "task"


def _handler_class(run: TaskRun):
    class ImageTaskHandler:
        """Stands in for kfp.local's SubprocessTaskHandler: same interface, the task's own image."""

        def __init__(self, image: str, full_command: list[str], pipeline_root: str, runner, env_vars=None):
            self.image, self.full_command, self.env_vars = image, list(full_command), dict(env_vars or {})

        def run(self):
            from kfp.local import status

            name = _task_name(self.full_command)
            record = TaskRecord(name, self.image, command=self.full_command)
            run.records.append(record)
            ours = images.image_name(self.image)
            if ours is None:
                logger.info("task %s: image %s is not built by this repository (it calls Google APIs): "
                            "resolved command recorded, not run", name, self.image)
                return status.Status.SUCCESS
            if ours not in run.envs:
                raise TaskFailed(f"task {name}: image {self.image} has no rehearsal environment "
                                 f"(built: {', '.join(sorted(run.envs))})")
            env = run.envs[ours]
            record.log = os.path.join(run.logs, f"{name}.log")
            started = time.monotonic()
            logger.info("task %s: running in image %s (log %s)", name, ours, record.log)
            with open(record.log, "w") as log:
                done = subprocess.run(self.full_command, cwd=run.workdir, stdout=log, stderr=subprocess.STDOUT,
                                      env=env.env({**self.env_vars, **run.extra_env}))
            record.seconds, record.returncode = round(time.monotonic() - started, 1), done.returncode
            if done.returncode:
                raise TaskFailed(f"task {name} failed in image {ours} (exit {done.returncode}); last lines of "
                                 f"{record.log}:\n{tail(record.log)}")
            logger.info("task %s: done in %.0f s", name, record.seconds)
            return status.Status.SUCCESS

    return ImageTaskHandler


def tail(path: str, lines: int = 30) -> str:
    with open(path, errors="replace") as f:
        return "\n".join(f.read().rstrip().splitlines()[-lines:])


@contextlib.contextmanager
def image_task_handler(run: TaskRun) -> Iterator[None]:
    """While active, kfp.local's SubprocessRunner runs each task in its image's environment."""
    from kfp.local import subprocess_task_handler

    original = subprocess_task_handler.SubprocessTaskHandler
    subprocess_task_handler.SubprocessTaskHandler = _handler_class(run)
    try:
        yield
    finally:
        subprocess_task_handler.SubprocessTaskHandler = original


def run_compiled_pipeline(spec_path: str, arguments: dict, run: TaskRun, pipeline_root: str) -> None:
    """Run ``spec_path`` (compiled pipeline.yaml) with ``arguments``; raises TaskFailed naming the task."""
    from kfp import components, local

    os.makedirs(run.logs, exist_ok=True)
    os.makedirs(run.workdir, exist_ok=True)
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=pipeline_root, raise_on_error=True)
    pipeline = components.load_component_from_file(spec_path)
    with image_task_handler(run):
        try:
            pipeline(**arguments)
        except TaskFailed:
            raise
        except RuntimeError as err:
            failed = next((r for r in reversed(run.records) if r.returncode), None)
            if failed:
                raise TaskFailed(f"task {failed.name} failed in its image; last lines of {failed.log}:\n"
                                 f"{tail(failed.log)}") from err
            raise
