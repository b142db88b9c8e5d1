"""Fixtures for the transfer tests: a run execution in a Unity-style store, and the emulator."""
from __future__ import annotations

import os

import pytest

from components.transfer.client import RetrySettings
from components.transfer.credentials import Token
from components.transfer.emulator import Faults, UnitySimulationEmulator
from components.transfer.transfer import Settings

TOKEN = "usim-test-token-5f3a9c1e7b2d"
PROJECT, DEFINITION, EXECUTION = "1c2d3e4f-0000-4000-8000-00000000abcd", "El64GVP", "5M6wq80"
BUCKET = "acme-synth-data"
RUN_FILES = {
    "urn:app_params:a1/instance:0/attempt:0/Dataset0a1b/captures_000.json": b'{"version": "0.0.1", "captures": []}',
    "urn:app_params:a1/instance:0/attempt:0/RGB0a1b/rgb_2.png": b"\x89PNG fake 2",
    "urn:app_params:a1/instance:1/attempt:1/Dataset9f8e/captures_000.json": b'{"version": "0.0.1"}',
    "urn:app_params:a1/instance:1/attempt:1/RGB9f8e/rgb_7.png": b"\x89PNG fake 7",
}
# Fast retries: the faults in these tests are many, the patience short.
FAST = RetrySettings(attempts=12, backoff_factor=0.01, backoff_max=0.05, backoff_jitter=0.01,
                     retry_after_max=0.05, connect_timeout=2.0, read_timeout=5.0)


def run_path(project: str = PROJECT, definition: str = DEFINITION, execution: str = EXECUTION) -> str:
    return f"projects/{project}/run_executions/urn:run_definitions:{definition}/urn:run_executions:{execution}"


def write_run(store: str, files: dict[str, bytes] | None = None, **ids: str) -> str:
    """Write a run execution into ``store`` as Unity keeps it; returns its folder."""
    root = os.path.join(store, *run_path(**ids).split("/"))
    os.makedirs(root, exist_ok=True)
    for rel, data in (RUN_FILES if files is None else files).items():
        path = os.path.join(root, *rel.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    return root


def read_tree(root: str) -> dict[str, bytes]:
    out = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            with open(path, "rb") as f:
                out[os.path.relpath(path, root).replace(os.sep, "/")] = f.read()
    return out


def settings(url: str, buckets: str, **kw) -> Settings:
    values = dict(project_id=PROJECT, run_definition_id=DEFINITION, run_execution_id=EXECUTION, bucket=BUCKET,
                  api_url=url, buckets_root=buckets, timeout=20.0, poll_interval=0.05, max_poll_interval=0.2)
    values.update(kw)
    return Settings(**values)


@pytest.fixture
def token() -> Token:
    return Token(TOKEN, "test")


@pytest.fixture
def store(tmp_path) -> str:
    path = str(tmp_path / "store")
    write_run(path)
    return path


@pytest.fixture
def buckets(tmp_path) -> str:
    return str(tmp_path / "buckets")


@pytest.fixture
def start_emulator(store, buckets):
    """``start_emulator(faults=..., token=..., **kw)`` -> a running emulator, stopped after the test."""
    started = []

    def start(faults: Faults | None = None, *, token: str | None = TOKEN, destination: str = "local",
              **kw) -> UnitySimulationEmulator:
        kw.setdefault("store", store)
        emu = UnitySimulationEmulator(kw.pop("store"), buckets, token=token, faults=faults,
                                      destination=destination, **kw)
        started.append(emu.start())
        return emu

    yield start
    for emu in started:
        emu.stop()
