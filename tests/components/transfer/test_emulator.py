import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from components.transfer.client import UnitySimulationClient
from components.transfer.credentials import Token
from components.transfer.emulator import Faults, UnitySimulationEmulator
from tests.components.transfer.conftest import (BUCKET, DEFINITION, EXECUTION, PROJECT, RUN_FILES, TOKEN, read_tree,
                                                run_path)

BODY = {"destination_bucket": BUCKET, "run_definition_id": DEFINITION, "run_execution_id": EXECUTION}


def call(url, method="GET", body=None, token=TOKEN, raw=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read()), dict(err.headers)


def wait_status(emu, transfer_id, status, seconds=5.0):
    deadline = time.monotonic() + seconds
    while emu.transfers[transfer_id].status != status:
        assert time.monotonic() < deadline, emu.transfers[transfer_id]
        time.sleep(0.02)


def test_put_then_get_copies_the_store_folder(start_emulator, buckets):
    emu = start_emulator()
    code, answer, _ = call(f"{emu.url}/v1/projects/{PROJECT}/data_transfer", "PUT", BODY)
    assert code == 200 and answer["status"] == "running" and set(answer) == {"id", "status"}
    wait_status(emu, answer["id"], "success")
    code, state, _ = call(f"{emu.url}/v1/projects/{PROJECT}/data_transfer/{answer['id']}")
    assert (code, state) == (200, {"id": answer["id"], "status": "success"})
    assert read_tree(os.path.join(buckets, BUCKET, *run_path().split("/"))) == RUN_FILES


@pytest.mark.parametrize("token, method, path, body, code, message", [
    (None, "GET", "/v1/projects/p/data_transfer/x", None, 401, "invalid or expired access token"),
    ("wrong", "GET", "/v1/projects/p/data_transfer/x", None, 401, "invalid or expired access token"),
    (TOKEN, "GET", "/v1/projects/p/data_transfer/x", None, 404, "no data transfer x in project p"),
    (TOKEN, "GET", "/v2/other", None, 404, "no route for GET /v2/other"),
    (TOKEN, "PUT", f"/v1/projects/{PROJECT}/data_transfer", b"not json", 400, "body is not JSON"),
    (TOKEN, "PUT", f"/v1/projects/{PROJECT}/data_transfer", b'{"destination_bucket": "b"}', 400,
     "missing or empty fields: run_definition_id, run_execution_id"),
    (TOKEN, "PUT", "/v1/projects/other/data_transfer", json.dumps(BODY).encode(), 404,
     f"run execution {EXECUTION} of run definition {DEFINITION} not found in project other"),
])
def test_refusals(start_emulator, token, method, path, body, code, message):
    emu = start_emulator()
    got, answer, _ = call(emu.url + path, method, token=token, raw=body if method == "PUT" else None)
    assert (got, answer) == (code, {"message": message})


def test_any_token_is_accepted_without_a_configured_one(start_emulator):
    emu = start_emulator(token=None)
    assert call(f"{emu.url}/v1/projects/p/data_transfer/x", token="anything")[0] == 404
    assert call(f"{emu.url}/v1/projects/p/data_transfer/x", token=None)[0] == 401


def test_injected_errors_carry_retry_after(start_emulator):
    emu = start_emulator(Faults(error_first=1, retry_after="7"))
    code, answer, headers = call(f"{emu.url}/v1/projects/p/data_transfer/x")
    assert code == 503 and headers["Retry-After"] == "7"
    assert [(r.code, r.fault) for r in emu.requests] == [(503, "error")]


def test_a_put_while_running_answers_with_the_same_transfer(start_emulator):
    emu = start_emulator(Faults(copy_delay=0.5))
    first = call(f"{emu.url}/v1/projects/{PROJECT}/data_transfer", "PUT", BODY)[1]
    second = call(f"{emu.url}/v1/projects/{PROJECT}/data_transfer", "PUT", BODY)[1]
    assert first["id"] == second["id"] and len(emu.transfers) == 1
    wait_status(emu, first["id"], "success")
    third = call(f"{emu.url}/v1/projects/{PROJECT}/data_transfer", "PUT", BODY)[1]
    assert third["id"] != first["id"]


def test_a_missing_gcs_bucket_fails_the_transfer(gcs_emulator, start_emulator):
    emu = start_emulator(destination="gcs")
    body = dict(BODY, destination_bucket="no-such-bucket")
    answer = call(f"{emu.url}/v1/projects/{PROJECT}/data_transfer", "PUT", body)[1]
    wait_status(emu, answer["id"], "failed")
    assert emu.transfers[answer["id"]].message == "ValueError: bucket no-such-bucket does not exist on the GCS emulator"


def test_destination_choice_is_checked(store):
    with pytest.raises(ValueError, match="destination: 'cloud'"):
        UnitySimulationEmulator(store, destination="cloud")


def test_command_line_server(store, buckets):
    env = dict(os.environ, USIM_ACCESS_TOKEN=TOKEN)
    env.pop("STORAGE_EMULATOR_HOST", None)
    proc = subprocess.Popen([sys.executable, "-m", "components.transfer.emulator", "--store", store,
                             "--buckets", buckets, "--port", "0"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("export USIM_API_URL=http://127.0.0.1:")
        client = UnitySimulationClient(line.split("=", 1)[1], Token(TOKEN, "t"))
        started = client.start_transfer(PROJECT, DEFINITION, EXECUTION, BUCKET)
        deadline = time.monotonic() + 10
        while client.get_transfer(PROJECT, started.id).status == "running":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert read_tree(os.path.join(buckets, BUCKET, *run_path().split("/"))) == RUN_FILES
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert TOKEN not in err and "Transfer" in err


def test_injected_errors_can_be_limited_to_429(start_emulator):
    emu = start_emulator(Faults(error_rate=1.0, error_statuses=(429,), retry_after="20"))
    answers = [call(f"{emu.url}/v1/projects/p/data_transfer/x") for _ in range(6)]
    assert {(code, headers["Retry-After"]) for code, _, headers in answers} == {(429, "20")}
