import socket
import time

import pytest

from components.common.polling import DeadlineExceeded
from components.transfer.client import (RequestRejected, RetrySettings, TokenRejected, UnityApiError,
                                        UnitySimulationClient)
from components.transfer.credentials import Token
from components.transfer.emulator import Faults
from tests.components.transfer.conftest import BUCKET, DEFINITION, EXECUTION, FAST, PROJECT, TOKEN


def start(client):
    return client.start_transfer(PROJECT, DEFINITION, EXECUTION, BUCKET)


def test_start_then_poll(start_emulator, token):
    emu = start_emulator(Faults(copy_delay=0.3))
    client = UnitySimulationClient(emu.url, token, retry=FAST)
    started = start(client)
    assert started.status == "running" and started.id in emu.transfers
    assert client.get_transfer(PROJECT, started.id).status == "running"
    assert [(r.method, r.code) for r in emu.requests] == [("PUT", 200), ("GET", 200)]
    assert TOKEN not in repr(client)


def test_storm_of_429_and_503_with_retry_after_still_gets_answers(start_emulator, token):
    emu = start_emulator(Faults(error_rate=0.5, retry_after="1", seed=3))
    client = UnitySimulationClient(emu.url, token, retry=FAST)
    started = start(client)
    states = [client.get_transfer(PROJECT, started.id) for _ in range(20)]
    assert {s.id for s in states} == {started.id}
    assert emu.count(429) >= 3 and emu.count(503) >= 3
    assert emu.count(200) == 21


def test_retry_after_is_honoured(start_emulator, token):
    emu = start_emulator(Faults(error_first=2, retry_after="1"))
    client = UnitySimulationClient(emu.url, token, retry=RetrySettings(backoff_factor=0.01, backoff_jitter=0.0))
    began = time.monotonic()
    start(client)
    assert time.monotonic() - began >= 1.9
    assert [r.code for r in emu.requests] == [503, 503, 200]


def test_dropped_connections_are_retried_and_the_start_is_not_duplicated(start_emulator, token):
    emu = start_emulator(Faults(drop_rate=0.5, copy_delay=1.0, seed=3))
    client = UnitySimulationClient(emu.url, token, retry=FAST)
    first = start(client)
    again = start(client)
    for _ in range(10):
        assert client.get_transfer(PROJECT, first.id).id == first.id
    assert emu.count(0) >= 3
    assert again.id == first.id and len(emu.transfers) == 1


def test_slow_answers_past_the_read_timeout_are_retried(start_emulator, token):
    emu = start_emulator(Faults(slow_rate=0.5, delay=0.6, seed=2))
    client = UnitySimulationClient(emu.url, token, retry=RetrySettings(attempts=10, backoff_factor=0.01,
                                                                       read_timeout=0.3))
    started = start(client)
    for _ in range(4):
        client.get_transfer(PROJECT, started.id)
    assert any(r.fault == "slow" for r in emu.requests)


def test_401_fails_at_once_and_says_how_to_get_a_new_token(start_emulator):
    emu = start_emulator()
    client = UnitySimulationClient(emu.url, Token("expired-token-value", "test"), retry=FAST)
    with pytest.raises(TokenRejected) as err:
        start(client)
    text = str(err.value)
    assert "HTTP 401" in text and "expired" in text and "usim login" in text and "expired-token-value" not in text
    assert err.value.status == 401 and isinstance(err.value, ValueError)
    assert len(emu.requests) == 1


def test_404_is_not_retried(start_emulator, token):
    emu = start_emulator()
    client = UnitySimulationClient(emu.url, token, retry=FAST)
    with pytest.raises(RequestRejected, match="HTTP 404.*run execution Other1 of run definition"):
        client.start_transfer(PROJECT, DEFINITION, "Other1", BUCKET)
    with pytest.raises(RequestRejected, match="no data transfer nope"):
        client.get_transfer(PROJECT, "nope")
    assert [r.code for r in emu.requests] == [404, 404]


def test_server_errors_give_up_after_the_retries(start_emulator, token):
    emu = start_emulator(Faults(error_rate=1.0, retry_after="0"))
    retry = RetrySettings(attempts=3, backoff_factor=0.01, backoff_jitter=0.0)
    client = UnitySimulationClient(emu.url, token, retry=retry)
    pattern = r"PUT http://127\.0\.0\.1:\d+/v1/projects/.*HTTP (429|503) after retries\. Server said: try again"
    with pytest.raises(UnityApiError, match=pattern) as err:
        start(client)
    assert err.value.status in (429, 503) and len(emu.requests) == 4


def test_nothing_listening_is_a_connection_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = UnitySimulationClient(f"http://127.0.0.1:{port}", Token(TOKEN, "t"),
                                   retry=RetrySettings(attempts=2, backoff_factor=0.01))
    with pytest.raises(UnityApiError, match="no usable answer after retries") as err:
        start(client)
    assert err.value.__cause__ is None


def test_the_transfer_id_field_is_configurable(start_emulator, token, caplog):
    emu = start_emulator(id_field="transfer_id")
    assert start(UnitySimulationClient(emu.url, token, id_field="transfer_id")).id in emu.transfers
    assert start(UnitySimulationClient(emu.url, token)).id in emu.transfers
    assert "The transfer id came in field 'transfer_id', not 'id'" in caplog.text


def test_missing_transfer_id_names_the_field(start_emulator, token):
    emu = start_emulator(id_field="handle")
    with pytest.raises(UnityApiError, match=r"no transfer id in field 'id'; fields: \['handle', 'status'\]"):
        start(UnitySimulationClient(emu.url, token))


def test_api_url_must_be_http():
    with pytest.raises(ValueError, match="--api-url: 'ftp://x' is not an http"):
        UnitySimulationClient("ftp://x", Token(TOKEN, "t"))


def test_a_retry_after_past_the_deadline_is_not_waited_for(start_emulator, token):
    emu = start_emulator(Faults(error_rate=1.0, error_statuses=(429,), retry_after="20"))
    client = UnitySimulationClient(emu.url, token, deadline=time.monotonic() + 10)
    began = time.monotonic()
    with pytest.raises(DeadlineExceeded, match=r"PUT http://.*: after HTTP 429, the next try would wait 20\.0 s "
                                               r"\(Retry-After 20 s\) but the deadline \(--timeout\) is \d+\.\d s away"):
        start(client)
    assert time.monotonic() - began < 5 and [r.code for r in emu.requests] == [429]


def test_retry_after_within_the_deadline_is_still_honoured(start_emulator, token):
    emu = start_emulator(Faults(error_first=2, retry_after="1"))
    retry = RetrySettings(backoff_factor=0.01, backoff_jitter=0.0)
    client = UnitySimulationClient(emu.url, token, retry=retry, deadline=time.monotonic() + 10)
    began = time.monotonic()
    start(client)
    assert time.monotonic() - began >= 1.9 and [r.code for r in emu.requests] == [503, 503, 200]


def test_the_read_timeout_is_cut_to_the_time_left(start_emulator, token):
    emu = start_emulator(Faults(slow_rate=1.0, delay=30))
    client = UnitySimulationClient(emu.url, token, retry=RetrySettings(read_timeout=60.0),
                                   deadline=time.monotonic() + 2)
    began = time.monotonic()
    with pytest.raises(DeadlineExceeded, match=r"after ReadTimeoutError, the next try would wait"):
        start(client)
    assert 1.5 <= time.monotonic() - began < 6


def test_backoff_past_the_deadline_is_not_slept(token):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = UnitySimulationClient(f"http://127.0.0.1:{port}", token, retry=RetrySettings(backoff_factor=4.0),
                                   deadline=time.monotonic() + 3)
    began = time.monotonic()
    with pytest.raises(DeadlineExceeded, match=r"after NewConnectionError, the next try would wait \d+\.\d s "
                                               r"\(backoff\)") as err:
        start(client)
    assert time.monotonic() - began < 3 and TOKEN not in str(err.value)
