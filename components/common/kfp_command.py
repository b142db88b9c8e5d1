"""Lightweight KFP components whose Python process receives the container's signals.

KFP starts a lightweight component as ``sh -ec '... python3 -m kfp.dsl.executor_main ...'``: the
shell stays Python's parent, and as a container's first process it ignores SIGTERM. Cancelling a
pipeline run would then never reach the handlers that cancel a Dataflow job or a CustomJob, and
those would keep running (and billing) after the run was cancelled.
"""
from __future__ import annotations

from typing import TypeVar

LAUNCH = "python3 -m kfp.dsl.executor_main"
T = TypeVar("T")


def exec_python(component: T) -> T:
    """Make ``component``'s shell ``exec`` Python, so that Python is the process signals reach.

    Raises:
        RuntimeError: KFP's launch command no longer has the expected shape.
    """
    container = component.component_spec.implementation.container
    command = list(container.command)
    if command[:2] != ["sh", "-ec"] or len(command) < 3 or LAUNCH not in command[2]:
        raise RuntimeError(f"unexpected KFP launch command for {component.name}: {command[:3]}")
    if f"exec {LAUNCH}" not in command[2]:
        command[2] = command[2].replace(LAUNCH, f"exec {LAUNCH}", 1)
    container.command = command
    return component
