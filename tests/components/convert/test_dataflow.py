import json

import pytest

from components.convert.dataflow import launched_job, record_job, wait_for_job


def test_job_handle_round_trip(tmp_path):
    path = str(tmp_path / "gcp_resources")
    assert launched_job(path) is None
    record_job(path, "proj", "europe-west4", "2026-11-24_01_02_03-123")
    doc = json.loads(open(path).read())
    assert doc == {"resources": [{"resourceType": "DataflowJob", "resourceUri":
                   "https://dataflow.googleapis.com/v1b3/projects/proj/locations/europe-west4/jobs/2026-11-24_01_02_03-123"}]}
    assert launched_job(path) == ("proj", "europe-west4", "2026-11-24_01_02_03-123")


def test_wait_for_job_polls_to_a_terminal_state():
    states = iter(["JOB_STATE_PENDING", "JOB_STATE_RUNNING", "JOB_STATE_RUNNING", "JOB_STATE_DONE"])
    slept = []
    assert wait_for_job("j", lambda: next(states), interval=1, sleep=slept.append) == "JOB_STATE_DONE"
    assert slept == [1, 1.5, 2.25]


def test_failed_job_raises_with_its_state():
    with pytest.raises(RuntimeError, match="j ended in JOB_STATE_FAILED"):
        wait_for_job("j", lambda: "JOB_STATE_FAILED", sleep=lambda s: None)
