import json
import os

import pytest
from kfp.dsl import Dataset

from components.transfer.emulator import Faults
from components.transfer.task import run_task
from tests.components.transfer.conftest import BUCKET, DEFINITION, EXECUTION, PROJECT, TOKEN, run_path


def task_args(url, buckets, dataset, **kw):
    args = dict(project_id=PROJECT, run_definition_id=DEFINITION, run_execution_id=EXECUTION, bucket=BUCKET,
                dataset=dataset, token_secret="", api_url=url, buckets_root=buckets, timeout=20.0,
                poll_interval=0.05, max_poll_interval=0.1, skip_if_present=True, id_field="id", max_retries=3)
    args.update(kw)
    return args


def test_run_task_points_the_dataset_at_the_transfer(start_emulator, buckets, monkeypatch):
    monkeypatch.setenv("USIM_ACCESS_TOKEN", TOKEN)
    emu = start_emulator()
    dataset = Dataset(name="dataset", uri="/tmp/unused")
    uri, transfer_id = run_task(**task_args(emu.url, buckets, dataset))
    assert uri == dataset.uri == os.path.join(buckets, BUCKET, *run_path().split("/"))
    assert dataset.metadata == {"transfer_id": transfer_id, "status": "success", "skipped": False, "files": 4,
                                "project_id": PROJECT, "run_definition_id": DEFINITION,
                                "run_execution_id": EXECUTION, "bucket": BUCKET}
    again = Dataset(name="dataset", uri="/tmp/unused")
    assert run_task(**task_args(emu.url, buckets, again)) == (uri, transfer_id)
    assert again.metadata["skipped"] is True
    assert TOKEN not in json.dumps(dataset.metadata)


def test_run_task_reads_the_token_from_secret_manager_name_only(start_emulator, buckets, monkeypatch):
    monkeypatch.setenv("USIM_ACCESS_TOKEN", TOKEN)
    emu = start_emulator(Faults())
    with pytest.raises(ValueError, match="--token-secret: 'not-a-secret'"):
        run_task(**task_args(emu.url, buckets, Dataset(name="d", uri="/tmp/x"), token_secret="not-a-secret"))
    assert emu.requests == []
