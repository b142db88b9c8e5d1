"""Fixtures shared by every test folder: a GCS emulator on loopback."""
from __future__ import annotations

import os

import pytest

from rehearsal import services

EMULATOR_BUCKET = "synthdet-test"


@pytest.fixture(scope="session")
def gcs_emulator():
    """A ``gcp-storage-emulator`` process on a free loopback port, with bucket ``synthdet-test``.

    Sets ``STORAGE_EMULATOR_HOST`` for this process (and its children) while it runs.
    """
    with services.gcs_emulator(EMULATOR_BUCKET) as host:
        yield host


def upload_tree(local_root: str, gs_root: str) -> int:
    """Copy a local folder to a gs:// prefix; returns the number of files."""
    from components.common import uris

    count = 0
    for rel in uris.iter_files(local_root):
        with open(os.path.join(local_root, rel), "rb") as f:
            uris.write_bytes(uris.join(gs_root, rel), f.read())
        count += 1
    return count
