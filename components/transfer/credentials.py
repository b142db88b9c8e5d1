"""The Unity Simulation access token: where it comes from, and keeping it out of every text.

Sources, first match wins:
1. ``--token-secret projects/P/secrets/S/versions/V`` (Secret Manager; the cloud's way),
2. the environment variable ``USIM_ACCESS_TOKEN``,
3. the usim CLI's ``~/.usim/token.json`` (field ``access_token``; ``usim login`` writes it).

``Token`` never shows its value: repr, str, format and pickling give a placeholder or fail.
``redact`` and ``RedactingFilter`` remove the value from texts and log records.
"""
from __future__ import annotations

import json
import logging
import os
from typing import Any, Callable, Mapping

from components.transfer import ids

ENV_VAR = "USIM_ACCESS_TOKEN"
TOKEN_FILE = os.path.join("~", ".usim", "token.json")
REDACTED = "<redacted>"
logger = logging.getLogger(__name__)


class Token:
    """An access token whose value is only reachable through ``reveal()``."""

    __slots__ = ("_value", "source")

    def __init__(self, value: str, source: str) -> None:
        value = (value or "").strip()
        if not value:
            raise ValueError(f"the Unity Simulation token from {source} is empty")
        self._value = value
        self.source = source

    def reveal(self) -> str:
        """The value, for the Authorization header only."""
        return self._value

    def redact(self, text: str) -> str:
        """``text`` with every occurrence of the value replaced."""
        return text.replace(self._value, REDACTED) if text else text

    def __repr__(self) -> str:
        return f"Token(source={self.source!r}, value={REDACTED})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __reduce__(self):
        raise TypeError("a Token is not serializable; pass the secret's name instead")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Token) and other._value == self._value

    __hash__ = None  # type: ignore[assignment]


def load_token(token_secret: str | None = None, *, environ: Mapping[str, str] | None = None,
               home: str | None = None, secret_client: Any = None) -> Token:
    """Find the token (see the module docstring for the order).

    Raises:
        ValueError: no source holds a token, the secret name is malformed or a file is unreadable.
    """
    environ = os.environ if environ is None else environ
    if token_secret:
        name = ids.secret_version(token_secret)
        return Token(_from_secret_payload(_access_secret(name, secret_client), name), f"secret {name}")
    if environ.get(ENV_VAR, "").strip():
        return Token(environ[ENV_VAR], f"environment variable {ENV_VAR}")
    path = os.path.join(home or os.path.expanduser("~"), ".usim", "token.json")
    if os.path.exists(path):
        return Token(_from_token_file(path), path)
    raise ValueError(f"no Unity Simulation token: set {ENV_VAR}, run `usim login` (writes {TOKEN_FILE}), "
                     "or pass --token-secret projects/P/secrets/S/versions/V")


def _from_token_file(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, json.JSONDecodeError) as err:
        # The decode error would quote the file's text, which holds the token.
        raise ValueError(f"{path}: not a readable JSON file ({type(err).__name__}); run `usim login` again") \
            from None
    value = data.get("access_token") if isinstance(data, dict) else None
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{path}: no 'access_token' string; run `usim login` again")
    return value


def _from_secret_payload(payload: str, name: str) -> str:
    """The secret holds the bare token, or a copy of token.json."""
    text = payload.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            raise ValueError(f"secret {name}: starts with '{{' but is not JSON") from None
        value = data.get("access_token") if isinstance(data, dict) else None
        if not isinstance(value, str):
            raise ValueError(f"secret {name}: JSON without an 'access_token' string")
        return value
    return text


def _access_secret(name: str, client: Any) -> str:
    if client is None:
        from google.cloud import secretmanager

        client = secretmanager.SecretManagerServiceClient()
    response = client.access_secret_version(name=name)
    logger.info("Read the Unity Simulation token from %s", name)
    return response.payload.data.decode("utf-8")


class RedactingFilter(logging.Filter):
    """Replaces the token in every record passing through a handler (belt and braces)."""

    def __init__(self, token: Token) -> None:
        super().__init__()
        self._token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self._token.redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_text:
            record.exc_text = self._token.redact(record.exc_text)
        return True


def install_log_redaction(token: Token) -> Callable[[], None]:
    """Add a RedactingFilter to every root handler; returns a function that removes them again."""
    filt = RedactingFilter(token)
    handlers = list(logging.getLogger().handlers)
    for handler in handlers:
        handler.addFilter(filt)

    def remove() -> None:
        for handler in handlers:
            handler.removeFilter(filt)

    return remove
