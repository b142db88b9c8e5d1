"""Fixtures shared by every test folder: a GCS emulator on loopback."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

EMULATOR_BUCKET = "synthdet-test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def gcs_emulator():
    """A ``gcp-storage-emulator`` process on a free loopback port, with bucket ``synthdet-test``.

    Sets ``STORAGE_EMULATOR_HOST`` for this process (and its children) while it runs.
    """
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gcp_storage_emulator", "start", "--host", "127.0.0.1", "--port", str(port),
         "--in-memory", "--default-bucket", EMULATOR_BUCKET],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    host = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{host}/storage/v1/b", timeout=1).read()
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("the GCS emulator did not start")
            time.sleep(0.2)
    previous = os.environ.get("STORAGE_EMULATOR_HOST")
    os.environ["STORAGE_EMULATOR_HOST"] = host
    try:
        yield host
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if previous is None:
            os.environ.pop("STORAGE_EMULATOR_HOST", None)
        else:
            os.environ["STORAGE_EMULATOR_HOST"] = previous


def upload_tree(local_root: str, gs_root: str) -> int:
    """Copy a local folder to a gs:// prefix; returns the number of files."""
    from components.common import uris

    count = 0
    for rel in uris.iter_files(local_root):
        with open(os.path.join(local_root, rel), "rb") as f:
            uris.write_bytes(uris.join(gs_root, rel), f.read())
        count += 1
    return count
