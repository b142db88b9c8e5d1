"""The token appears in no log line, output, artifact, record or exception text, on any path."""
import http.server
import json
import logging
import os
import subprocess
import sys
import threading
import traceback

import pytest

from components.transfer.client import UnitySimulationClient
from components.transfer.credentials import Token
from components.transfer.emulator import Faults
from components.transfer.transfer import run_transfer
from tests.components.transfer.conftest import BUCKET, DEFINITION, EXECUTION, FAST, PROJECT, TOKEN, settings


def texts_of(err):
    return [str(err), repr(err), "".join(traceback.format_exception(err))]


@pytest.fixture
def everything(caplog):
    """Capture every logger at DEBUG (urllib3 included)."""
    caplog.set_level(logging.DEBUG)
    return caplog


@pytest.mark.parametrize("faults, error", [
    (Faults(error_rate=0.4, drop_rate=0.2, retry_after="1", copy_delay=0.2, seed=7), None),
    (Faults(end_status="failed"), "ended failed"),
    (Faults(end_status="lost"), "unexpected status"),
    (Faults(copy_delay=30), "still running"),
])
def test_no_token_in_logs_outputs_records_or_errors(faults, error, start_emulator, buckets, token, everything,
                                                    capsys):
    emu = start_emulator(faults)
    s = settings(emu.url, buckets, timeout=0.5 if "still" in (error or "") else 20.0)
    texts = []
    if error:
        with pytest.raises(Exception, match=error) as err:
            run_transfer(s, token, retry=FAST)
        texts += texts_of(err.value)
    else:
        texts.append(repr(run_transfer(s, token, retry=FAST)))
    out = capsys.readouterr()
    texts += [everything.text, out.out, out.err, open(s.record_uri).read()]
    assert "GET" in everything.text or "PUT" in everything.text
    assert all(TOKEN not in text for text in texts)


def test_a_rejected_token_is_not_echoed(start_emulator, buckets, everything):
    emu = start_emulator()
    wrong = Token("wrong-token-1234567890", "test")
    with pytest.raises(ValueError) as err:
        run_transfer(settings(emu.url, buckets), wrong, retry=FAST)
    assert all("wrong-token-1234567890" not in t for t in texts_of(err.value) + [everything.text])


class EchoHandler(http.server.BaseHTTPRequestHandler):
    """A careless server: quotes the Authorization header back in its error."""

    def do_PUT(self):
        data = json.dumps({"message": f"bad request with {self.headers['Authorization']}"}).encode()
        self.send_response(400)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def test_server_texts_are_redacted(token):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), EchoHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = UnitySimulationClient(f"http://127.0.0.1:{server.server_address[1]}", token, retry=FAST)
        with pytest.raises(ValueError) as err:
            client.start_transfer(PROJECT, DEFINITION, EXECUTION, BUCKET)
    finally:
        server.shutdown()
        server.server_close()
    assert "bad request with Bearer <redacted>" in str(err.value)
    assert all(TOKEN not in t for t in texts_of(err.value))


def test_cli_output_holds_no_token(start_emulator, buckets, tmp_path):
    emu = start_emulator(Faults(error_rate=0.3, retry_after="0", seed=2))
    env = dict(os.environ, USIM_ACCESS_TOKEN=TOKEN, HOME=str(tmp_path))
    base = [sys.executable, "-m", "components.transfer", "--project-id", PROJECT, "--run-definition-id", DEFINITION,
            "--run-execution-id", EXECUTION, "--bucket", BUCKET, "--api-url", emu.url, "--buckets-root", buckets,
            "--poll-interval", "0.05"]
    ok = subprocess.run(base, capture_output=True, text=True, env=env, timeout=60)
    bad = subprocess.run([a.replace(EXECUTION, "Missing1") for a in base], capture_output=True, text=True,
                         env=env, timeout=60)
    assert ok.returncode == 0 and ok.stdout.strip().endswith(f"urn:run_executions:{EXECUTION}")
    assert bad.returncode == 2 and "HTTP 404" in bad.stderr
    assert all(TOKEN not in text for text in (ok.stdout, ok.stderr, bad.stdout, bad.stderr))
