import json
import logging
import pickle

import pytest

from components.transfer import credentials
from components.transfer.credentials import ENV_VAR, Token, load_token

SECRET = "tok-ABCdef123456"


class FakeSecretClient:
    """Secret Manager's client at its edge: returns a payload and records the names read."""

    def __init__(self, payload: str) -> None:
        self.payload, self.names = payload, []

    def access_secret_version(self, name):
        self.names.append(name)
        data = self.payload.encode()
        return type("Response", (), {"payload": type("Payload", (), {"data": data})()})()


def write_token_file(home, content):
    (home / ".usim").mkdir(parents=True)
    (home / ".usim" / "token.json").write_text(content)


def test_token_value_never_shows():
    token = Token(SECRET, "test")
    for text in (repr(token), str(token), f"{token}", "%s" % (token,), repr([token]), repr({"t": token})):
        assert SECRET not in text and "<redacted>" in text
    with pytest.raises(TypeError, match="not serializable"):
        pickle.dumps(token)
    assert token.reveal() == SECRET
    assert token.redact(f"Bearer {SECRET}!") == "Bearer <redacted>!"
    assert token == Token(f" {SECRET}\n", "other")


def test_empty_token_is_refused():
    with pytest.raises(ValueError, match="from env is empty"):
        Token("  ", "env")


def test_environment_comes_before_the_token_file(tmp_path):
    write_token_file(tmp_path, json.dumps({"access_token": "from-file"}))
    token = load_token(environ={ENV_VAR: "from-env"}, home=str(tmp_path))
    assert token.reveal() == "from-env" and token.source == f"environment variable {ENV_VAR}"
    token = load_token(environ={}, home=str(tmp_path))
    assert token.reveal() == "from-file" and token.source.endswith("token.json")


def test_secret_manager_wins_and_accepts_a_bare_token_or_token_json(tmp_path):
    client = FakeSecretClient(f"{SECRET}\n")
    token = load_token("projects/p/secrets/usim", environ={ENV_VAR: "from-env"}, secret_client=client)
    assert token.reveal() == SECRET and client.names == ["projects/p/secrets/usim/versions/latest"]
    client = FakeSecretClient(json.dumps({"access_token": SECRET, "refresh_token": "r"}))
    assert load_token("projects/p/secrets/usim/versions/2", environ={}, secret_client=client).reveal() == SECRET
    with pytest.raises(ValueError, match="JSON without an 'access_token'"):
        load_token("projects/p/secrets/s", environ={}, secret_client=FakeSecretClient('{"token": 1}'))


def test_no_token_anywhere_says_how_to_get_one(tmp_path):
    with pytest.raises(ValueError, match="set USIM_ACCESS_TOKEN, run `usim login`"):
        load_token(environ={}, home=str(tmp_path))


def test_broken_token_file_is_reported_without_its_content(tmp_path):
    write_token_file(tmp_path, f'{{"access_token": "{SECRET}", ')
    with pytest.raises(ValueError) as err:
        load_token(environ={}, home=str(tmp_path))
    assert "not a readable JSON file" in str(err.value) and SECRET not in str(err.value)
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_token_file_without_access_token(tmp_path):
    write_token_file(tmp_path, json.dumps({"refresh_token": "x"}))
    with pytest.raises(ValueError, match="no 'access_token' string; run `usim login` again"):
        load_token(environ={}, home=str(tmp_path))


def test_log_redaction_filter(caplog):
    token = Token(SECRET, "test")
    handler = logging.StreamHandler()
    records = []
    handler.emit = records.append
    root = logging.getLogger()
    root.addHandler(handler)
    remove = credentials.install_log_redaction(token)
    try:
        logging.getLogger("some.library").warning("header was Bearer %s", SECRET)
    finally:
        remove()
        root.removeHandler(handler)
    assert [r.getMessage() for r in records] == ["header was Bearer <redacted>"]
    assert not handler.filters
