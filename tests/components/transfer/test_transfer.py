import json
import logging
import os
import time

import pytest

from components.common import uris
from components.common.polling import DeadlineExceeded
from components.transfer.client import RetrySettings, UnityApiError, UnitySimulationClient
from components.transfer.emulator import Faults
from components.transfer.transfer import Settings, TransferFailed, run_transfer
from tests.components.transfer.conftest import (BUCKET, DEFINITION, EXECUTION, FAST, PROJECT, RUN_FILES, read_tree,
                                                run_path, settings, write_run)


def test_settings_normalise_ids_and_build_the_dataset_uri():
    s = Settings(PROJECT, f"urn:run_definitions:{DEFINITION}", f"urn:run_executions:{EXECUTION}", f"gs://{BUCKET}")
    assert (s.run_definition_id, s.run_execution_id, s.bucket) == (DEFINITION, EXECUTION, BUCKET)
    assert s.dataset_uri == (f"gs://{BUCKET}/projects/{PROJECT}/run_executions/urn:run_definitions:{DEFINITION}"
                             f"/urn:run_executions:{EXECUTION}")
    assert s.record_uri == s.dataset_uri + ".transfer.json"
    assert (s.timeout, s.poll_interval, s.max_poll_interval) == (21600.0, 30.0, 300.0)
    local = Settings(PROJECT, DEFINITION, EXECUTION, BUCKET, buckets_root="rel/buckets")
    assert local.dataset_uri == os.path.join(os.path.abspath("rel/buckets"), BUCKET, *run_path().split("/"))


def test_api_url_comes_from_the_flag_then_the_environment(monkeypatch):
    monkeypatch.delenv("USIM_API_URL", raising=False)
    s = Settings(PROJECT, DEFINITION, EXECUTION, BUCKET)
    assert s.resolved_api_url() == "https://api.simulation.unity3d.com"
    monkeypatch.setenv("USIM_API_URL", "http://127.0.0.1:9")
    assert s.resolved_api_url() == "http://127.0.0.1:9"
    assert Settings(PROJECT, DEFINITION, EXECUTION, BUCKET, api_url="http://x").resolved_api_url() == "http://x"


@pytest.mark.parametrize("change, fragment", [
    ({"bucket": "Bad_Bucket"}, "--bucket"), ({"run_execution_id": "a/b"}, "--run-execution-id"),
    ({"buckets_root": "gs://x"}, "--buckets-root"), ({"timeout": 0}, "--timeout"),
    ({"poll_interval": 10, "max_poll_interval": 5}, "--poll-interval"), ({"id_field": " "}, "--id-field"),
    ({"max_retries": -1}, "--max-retries"),
])
def test_settings_check_themselves(change, fragment):
    values = dict(project_id=PROJECT, run_definition_id=DEFINITION, run_execution_id=EXECUTION, bucket=BUCKET)
    values.update(change)
    with pytest.raises(ValueError, match=fragment):
        Settings(**values)


def test_happy_path_copies_the_run_execution(start_emulator, buckets, token):
    emu = start_emulator(Faults(copy_delay=0.2))
    result = run_transfer(settings(emu.url, buckets), token, retry=FAST)
    expected = os.path.join(buckets, BUCKET, *run_path().split("/"))
    assert result.dataset_uri == expected and result.status == "success" and not result.skipped
    assert read_tree(expected) == RUN_FILES and result.files == len(RUN_FILES)
    assert result.transfer_id in emu.transfers
    record = json.load(open(expected + ".transfer.json"))
    assert record["transfer_id"] == result.transfer_id and record["status"] == "success"


def test_storm_and_dropped_connections_still_complete(start_emulator, buckets, token):
    emu = start_emulator(Faults(error_rate=0.5, drop_rate=0.3, retry_after="1", copy_delay=0.5, seed=5))
    s = settings(emu.url, buckets, poll_interval=0.02, max_poll_interval=0.05)
    result = run_transfer(s, token, retry=FAST)
    assert result.status == "success" and read_tree(result.dataset_uri) == RUN_FILES
    assert emu.count(429) + emu.count(503) >= 2 and emu.count(0) >= 1
    assert len(emu.transfers) == 1


def test_transfer_into_the_gcs_emulator(gcs_emulator, start_emulator, token):
    from tests.conftest import EMULATOR_BUCKET

    emu = start_emulator(destination="gcs")
    result = run_transfer(settings(emu.url, "", bucket=EMULATOR_BUCKET), token, retry=FAST)
    assert result.dataset_uri == f"gs://{EMULATOR_BUCKET}/{run_path()}"
    assert list(uris.iter_files(result.dataset_uri)) == sorted(RUN_FILES)
    assert uris.read_bytes(uris.join(result.dataset_uri, sorted(RUN_FILES)[1])) == RUN_FILES[sorted(RUN_FILES)[1]]
    assert json.loads(uris.read_text(result.dataset_uri + ".transfer.json"))["status"] == "success"


def test_failed_transfer_carries_the_server_message(start_emulator, buckets, token):
    emu = start_emulator(Faults(end_status="failed"))
    s = settings(emu.url, buckets)
    with pytest.raises(TransferFailed, match=r"ended failed: copy interrupted after 2 of 4 files") as err:
        run_transfer(s, token, retry=FAST)
    assert err.value.status == "failed" and err.value.transfer_id in emu.transfers
    assert json.load(open(s.record_uri))["status"] == "failed"


def test_failed_transfer_counts_the_partial_files_it_left(start_emulator, buckets, token):
    emu = start_emulator(Faults(end_status="failed"))
    s = settings(emu.url, buckets)
    with pytest.raises(TransferFailed) as err:
        run_transfer(s, token, retry=FAST)
    assert str(err.value).endswith(f"after 2 of 4 files (injected fault); 2 partial files remain under "
                                   f"{s.dataset_uri} (delete them before retrying)")


def test_failed_transfer_into_gcs_counts_the_partial_objects(gcs_emulator, start_emulator, store, token):
    from tests.conftest import EMULATOR_BUCKET

    files = dict(RUN_FILES, **{f"urn:app_params:a2/instance:0/attempt:0/RGB77/rgb_{i}.png": b"x" for i in range(10)})
    write_run(store, files, execution="Partial1")
    emu = start_emulator(Faults(end_status="failed"), destination="gcs")
    s = settings(emu.url, "", bucket=EMULATOR_BUCKET, run_execution_id="Partial1")
    uris.delete_tree(s.dataset_uri)
    with pytest.raises(TransferFailed, match="copy interrupted after 7 of 14 files") as err:
        run_transfer(s, token, retry=FAST)
    assert f"; 7 partial files remain under gs://{EMULATOR_BUCKET}/{run_path(execution='Partial1')} (delete" \
        in str(err.value)
    assert uris.exists(s.record_uri)  # the record beside the folder is not counted


def test_a_failure_that_left_nothing_says_so(start_emulator, store, buckets, token):
    write_run(store, {"only.json": b"{}"}, execution="Single1")
    emu = start_emulator(Faults(end_status="failed"))
    s = settings(emu.url, buckets, run_execution_id="Single1")
    with pytest.raises(TransferFailed, match=r"after 0 of 1 files \(injected fault\); it left no files under "):
        run_transfer(s, token, retry=FAST)


def test_an_unknown_status_is_an_error_that_names_it(start_emulator, buckets, token):
    emu = start_emulator(Faults(end_status="Cancelled"))
    with pytest.raises(TransferFailed, match="unexpected status 'cancelled' \\(expected running, success or failed"):
        run_transfer(settings(emu.url, buckets), token, retry=FAST)


def test_success_without_files_is_an_error(start_emulator, store, buckets, token):
    write_run(store, {}, execution="Empty1")
    emu = start_emulator()
    with pytest.raises(TransferFailed, match="reported success but .*urn:run_executions:Empty1 holds no files"):
        run_transfer(settings(emu.url, buckets, run_execution_id="Empty1"), token, retry=FAST)


def test_the_deadline_is_honoured(start_emulator, buckets, token):
    emu = start_emulator(Faults(copy_delay=60))
    s = settings(emu.url, buckets, timeout=1.0, poll_interval=0.2, max_poll_interval=0.4)
    began = time.monotonic()
    with pytest.raises(DeadlineExceeded, match=r"still running after 1 s .*run again to wait for it") as err:
        run_transfer(s, token, retry=FAST)
    assert 1.0 <= time.monotonic() - began < 20  # stops at the deadline, long before the 60 s copy ends
    assert s.record_uri in str(err.value)
    assert json.load(open(s.record_uri))["status"] == "running"


def test_poll_interval_starts_at_30s_and_backs_off_to_5_minutes(start_emulator, buckets, token):
    emu = start_emulator(Faults(copy_delay=0.5))
    asked = []

    def sleep(seconds):
        asked.append(seconds)
        time.sleep(0.05)

    s = Settings(PROJECT, DEFINITION, EXECUTION, BUCKET, api_url=emu.url, buckets_root=buckets)
    run_transfer(s, token, retry=FAST, sleep=sleep)
    assert asked[:3] == [30.0, 45.0, 67.5] and max(asked) == 300.0 and len(asked) >= 8


def test_a_short_api_outage_while_polling_is_waited_out(start_emulator, buckets, token, caplog):
    caplog.set_level(logging.INFO)
    emu = start_emulator(Faults(copy_delay=0.6, retry_after="0"))
    sleeps = []

    def sleep(seconds):
        sleeps.append(seconds)
        emu.faults.error_rate = 1.0 if len(sleeps) in (1, 2) else 0.0  # polls 2 and 3 fail
        time.sleep(0.05)

    retry = RetrySettings(attempts=1, backoff_factor=0.01, backoff_jitter=0.0, retry_after_max=0)
    result = run_transfer(settings(emu.url, buckets), token, retry=retry, sleep=sleep)
    assert result.status == "success" and emu.count(503) + emu.count(429) == 4
    assert "Polling transfer" in caplog.text and "(2 of 2 allowed in a row)" in caplog.text


def test_a_long_api_outage_while_polling_fails(start_emulator, buckets, token):
    emu = start_emulator(Faults(copy_delay=30))

    def sleep(seconds):
        emu.faults.error_rate = 1.0

    retry = RetrySettings(attempts=0)
    with pytest.raises(UnityApiError, match="HTTP (429|503) after retries"):
        run_transfer(settings(emu.url, buckets), token, retry=retry, sleep=sleep)
    assert [r.method for r in emu.requests] == ["PUT", "GET", "GET", "GET", "GET"]


def test_skip_if_present_trusts_only_a_recorded_success(start_emulator, buckets, token, caplog):
    caplog.set_level(logging.INFO)
    emu = start_emulator()
    first = run_transfer(settings(emu.url, buckets, skip_if_present=True), token, retry=FAST)
    requests = len(emu.requests)
    again = run_transfer(settings(emu.url, buckets, skip_if_present=True), token, retry=FAST)
    assert again.skipped and again.transfer_id == first.transfer_id and again.files == len(RUN_FILES)
    assert len(emu.requests) == requests
    os.remove(first.dataset_uri + ".transfer.json")
    third = run_transfer(settings(emu.url, buckets, skip_if_present=True), token, retry=FAST)
    assert not third.skipped and third.transfer_id != first.transfer_id
    assert "Found 4 files at" in caplog.text and "no record of a finished transfer" in caplog.text
    fourth = run_transfer(settings(emu.url, buckets), token, retry=FAST)
    assert not fourth.skipped and len(emu.transfers) == 3


def test_a_rerun_resumes_the_recorded_running_transfer(start_emulator, buckets, token, caplog):
    caplog.set_level(logging.INFO)
    emu = start_emulator(Faults(copy_delay=0.5))
    s = settings(emu.url, buckets)
    started = UnitySimulationClient(emu.url, token).start_transfer(PROJECT, DEFINITION, EXECUTION, BUCKET)
    uris.write_text(s.record_uri, json.dumps({"transfer_id": started.id, "status": "running",
                                              "run_execution_id": EXECUTION}))
    result = run_transfer(s, token, retry=FAST)
    assert result.transfer_id == started.id and len(emu.transfers) == 1
    assert [r.method for r in emu.requests].count("PUT") == 1
    assert f"Resuming recorded transfer {started.id}" in caplog.text


def test_a_record_of_an_unknown_transfer_starts_a_new_one(start_emulator, buckets, token):
    emu = start_emulator()
    s = settings(emu.url, buckets)
    uris.write_text(s.record_uri, json.dumps({"transfer_id": "gone", "status": "running",
                                              "run_execution_id": EXECUTION}))
    result = run_transfer(s, token, retry=FAST)
    assert result.transfer_id != "gone" and result.status == "success"


def test_generated_unity_simulation_sample_is_transferred(tmp_path, start_emulator, buckets, token):
    from components.samples import generate

    store = str(tmp_path / "sample-store")
    sample = generate(store, "unity-simulation", num_images=4, width=64, height=48, seed=1)
    emu = start_emulator(store=store)
    result = run_transfer(settings(emu.url, buckets, project_id=sample.project_id,
                                   run_definition_id=sample.run_definition_id,
                                   run_execution_id=sample.run_execution_id), token, retry=FAST)
    assert result.dataset_uri == os.path.join(buckets, BUCKET, os.path.relpath(sample.root, store))
    copied = read_tree(result.dataset_uri)
    assert copied == read_tree(sample.root)
    assert sum(1 for name in copied if name.endswith(".png") and "/RGB" in name) >= 4
