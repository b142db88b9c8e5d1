import os
import socket
import subprocess
import sys
import time

import pytest

from components.transfer.__main__ import main
from components.transfer.emulator import Faults
from tests.components.transfer.conftest import (BUCKET, DEFINITION, EXECUTION, PROJECT, RUN_FILES, TOKEN, read_tree,
                                                run_path)


@pytest.fixture
def env(monkeypatch, tmp_path):
    """A clean user: token in the environment, an empty home, no API URL."""
    monkeypatch.setenv("USIM_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("USIM_API_URL", raising=False)


def argv(url, buckets, *extra):
    return ["--project-id", PROJECT, "--run-definition-id", DEFINITION, "--run-execution-id",
            f"urn:run_executions:{EXECUTION}", "--bucket", BUCKET, "--api-url", url, "--buckets-root", buckets,
            "--poll-interval", "0.05", "--max-poll-interval", "0.1", *extra]


def test_success_prints_the_dataset_uri_last(env, start_emulator, buckets, capsys):
    emu = start_emulator()
    assert main(argv(emu.url, buckets)) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == os.path.join(buckets, BUCKET, *run_path().split("/"))


def test_project_id_defaults_to_the_usim_file(env, start_emulator, buckets, tmp_path, capsys):
    (tmp_path / "home" / ".usim").mkdir(parents=True)
    (tmp_path / "home" / ".usim" / "project_id.txt").write_text(PROJECT + "\n")
    emu = start_emulator()
    args = argv(emu.url, buckets)
    assert main(args[2:]) == 0
    assert capsys.readouterr().out.splitlines()[-1].endswith(run_path())


def test_input_errors_exit_2_before_any_call(env, start_emulator, buckets, monkeypatch, caplog):
    emu = start_emulator()
    assert main(argv(emu.url, buckets, "--run-definition-id", "urn:run_executions:X")) == 2
    assert main(argv(emu.url, buckets)[2:]) == 2
    assert "--project-id: not given and" in caplog.text
    monkeypatch.delenv("USIM_ACCESS_TOKEN")
    assert main(argv(emu.url, buckets)) == 2
    assert "no Unity Simulation token" in caplog.text
    assert emu.requests == []


def test_expired_token_exits_2_with_the_usim_hint(env, start_emulator, buckets, monkeypatch, caplog):
    emu = start_emulator()
    monkeypatch.setenv("USIM_ACCESS_TOKEN", "stale-token-value")
    assert main(argv(emu.url, buckets)) == 2
    assert "usim login" in caplog.text and "stale-token-value" not in caplog.text


def test_failed_transfer_exits_1(env, start_emulator, buckets, capsys, caplog):
    emu = start_emulator(Faults(end_status="failed"))
    assert main(argv(emu.url, buckets)) == 1
    assert capsys.readouterr().out == "" and "ended failed" in caplog.text
    partial = os.path.join(buckets, BUCKET, *run_path().split("/"))
    assert f"2 partial files remain under {partial} (delete them before retrying)" in caplog.text


@pytest.mark.parametrize("extra", [(), ("--skip-if-present",)])
def test_without_google_credentials_the_transfer_still_runs(extra, env, start_emulator, buckets, tmp_path,
                                                            monkeypatch, capsys, caplog):
    from components.common import uris

    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "no-such-key.json"))
    monkeypatch.setattr(uris, "_clients", {})  # no storage client left over from another test
    emu = start_emulator()  # its copy into the local buckets folder stands in for Unity's copy into gs://
    assert main(argv(emu.url, "", *extra)) == 0
    dataset = f"gs://{BUCKET}/{run_path()}"
    assert capsys.readouterr().out.splitlines()[-1] == dataset
    assert f"Could not read {dataset}.transfer.json (DefaultCredentialsError" in caplog.text
    assert f"Could not write {dataset}.transfer.json" in caplog.text
    assert [t.status for t in emu.transfers.values()] == ["success"]
    assert read_tree(os.path.join(buckets, BUCKET, *run_path().split("/"))) == RUN_FILES


def test_deadline_exits_3(env, start_emulator, buckets, caplog):
    emu = start_emulator(Faults(copy_delay=30))
    assert main(argv(emu.url, buckets, "--timeout", "0.3")) == 3
    assert "still running after" in caplog.text


def test_retry_after_past_the_deadline_exits_3_at_once(env, start_emulator, buckets, caplog):
    # 429 with Retry-After 20 forever: eight honoured retries would take 160 s; --timeout 10 bounds them.
    emu = start_emulator(Faults(error_rate=1.0, error_statuses=(429,), retry_after="20"))
    began = time.monotonic()
    assert main(argv(emu.url, buckets, "--timeout", "10")) == 3
    elapsed = time.monotonic() - began
    assert elapsed < 30, elapsed
    assert "Retry-After 20 s" in caplog.text and "HTTP 429" in caplog.text
    assert {r.code for r in emu.requests} == {429} and not emu.transfers


def test_unreachable_api_exits_1(env, buckets, caplog):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
    assert main(argv(url, buckets, "--max-retries", "0")) == 1
    assert "no usable answer after retries" in caplog.text


def test_help_names_the_subcommand():
    out = subprocess.run([sys.executable, "-m", "components.transfer", "--help"], capture_output=True, text=True,
                         check=True).stdout
    assert "grant-access" in out and "--run-execution-id" in out and "--skip-if-present" in out
    out = subprocess.run([sys.executable, "-m", "components.transfer", "grant-access", "--help"],
                         capture_output=True, text=True, check=True).stdout
    assert "--custom-role" in out and "--dry-run" in out


def test_a_missing_destination_bucket_exits_1(env, gcs_emulator, start_emulator, caplog):
    emu = start_emulator(destination="gcs")
    args = argv(emu.url, "", "--skip-if-present")
    args[args.index("--bucket") + 1] = "no-such-bucket"
    assert main(args) == 1
    assert "Cloud Storage refused access to gs://no-such-bucket" in caplog.text and emu.requests == []
