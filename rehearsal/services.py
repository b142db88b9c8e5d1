"""Local stand-ins the rehearsal (and the tests) start and stop: the GCS emulator and Beam workers.

Both listen on free loopback ports only, and each context manager stops its process on exit.
"""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from typing import Iterator


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(ready, proc: subprocess.Popen, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} before it was ready")
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"{what} was not ready after {timeout:.0f} s")
        time.sleep(0.2)


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def gcs_emulator(bucket: str, python: str = sys.executable) -> Iterator[str]:
    """``gcp-storage-emulator`` in memory with ``bucket``; yields its URL (for STORAGE_EMULATOR_HOST).

    Sets ``STORAGE_EMULATOR_HOST`` in this process (and so its children) while it runs.
    """
    port = free_port()
    proc = subprocess.Popen([python, "-m", "gcp_storage_emulator", "start", "--host", "127.0.0.1",
                             "--port", str(port), "--in-memory", "--default-bucket", bucket],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    host = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            urllib.request.urlopen(f"{host}/storage/v1/b", timeout=1).read()
            return True
        except OSError:
            return False

    previous = os.environ.get("STORAGE_EMULATOR_HOST")
    try:
        _wait(ready, proc, "the GCS emulator", timeout=30)
        os.environ["STORAGE_EMULATOR_HOST"] = host
        yield host
    finally:
        _stop(proc)
        if previous is None:
            os.environ.pop("STORAGE_EMULATOR_HOST", None)
        else:
            os.environ["STORAGE_EMULATOR_HOST"] = previous


@contextlib.contextmanager
def beam_worker_pool(python: str, cwd: str, env: dict[str, str], log: str) -> Iterator[str]:
    """Beam's external worker pool (``worker_pool_main``) run by ``python``; yields ``localhost:PORT``.

    Its SDK workers are processes of that interpreter, started in ``cwd`` with ``env``: a pipeline
    run with ``--environment_type=EXTERNAL --environment_config=<address>`` unpickles and runs its
    DoFns there and nowhere else.
    """
    port = free_port()
    with open(log, "w") as out:
        proc = subprocess.Popen([python, "-m", "apache_beam.runners.worker.worker_pool_main",
                                 f"--service_port={port}"], cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)

    def ready() -> bool:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    try:
        _wait(ready, proc, "the Beam worker pool")
        yield f"localhost:{port}"
    finally:
        _stop(proc)
