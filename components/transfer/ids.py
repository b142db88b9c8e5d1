"""Checks for the names a transfer is made of: Unity ids, the Unity project, the GCS bucket.

Every check runs before any network call and raises ``ValueError`` naming the flag, the value
and what was expected.
"""
from __future__ import annotations

import ipaddress
import re

RUN_DEFINITION = "run_definitions"
RUN_EXECUTION = "run_executions"
_FLAGS = {RUN_DEFINITION: "--run-definition-id", RUN_EXECUTION: "--run-execution-id"}

# Unity run ids are short base-62 strings (``El64GVP``); '-' and '_' are tolerated. Anything that
# could change the bucket path (``/``, ``:``, ``..``) is refused.
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# The project id is a GUID in Unity's docs and a slug (``rut-test``) in a console screenshot.
_PROJECT_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_BUCKET_CHARS = re.compile(r"^[a-z0-9][a-z0-9._-]*[a-z0-9]$")
_GOOGLE_LIKE = re.compile(r"g[o0][o0]g[l1]e")


def run_id(value: str, kind: str) -> str:
    """Bare id from ``El64GVP`` or ``urn:<kind>:El64GVP``; kind is run_definitions or run_executions."""
    flag = _FLAGS[kind]
    text = (value or "").strip()
    if not text:
        raise ValueError(f"{flag}: empty; expected an id from `usim get runs`, e.g. El64GVP")
    if text.lower().startswith("urn:"):
        parts = text.split(":")
        if len(parts) != 3 or parts[1] != kind:
            raise ValueError(f"{flag}: {value!r} is not a urn:{kind}:<id> URN")
        text = parts[2]
    if not _RUN_ID.match(text):
        raise ValueError(f"{flag}: {value!r} is not a Unity Simulation id; expected letters and digits "
                         f"(e.g. El64GVP) or urn:{kind}:<id>")
    return text


def project_id(value: str) -> str:
    """The Unity project id (a GUID, or the slug some consoles show), stripped."""
    text = (value or "").strip()
    if _GUID.match(text) or _PROJECT_SLUG.match(text):
        return text
    raise ValueError(f"--project-id: {value!r} is not a Unity project id; expected a GUID such as "
                     "1c2d3e4f-0000-4000-8000-00000000abcd (see ~/.usim/project_id.txt or `usim get projects`)")


def bucket_name(value: str) -> str:
    """A bare GCS bucket name from ``name`` or ``gs://name``, checked against GCS naming rules."""
    text = (value or "").strip()
    if text.startswith("gs://"):
        text = text[len("gs://"):].rstrip("/")
        if "/" in text:
            raise ValueError(f"--bucket: {value!r} has a path; Unity writes to the bucket root, give the "
                             "bucket name only")
    problem = _bucket_problem(text)
    if problem:
        raise ValueError(f"--bucket: {value!r} is not a valid GCS bucket name: {problem}")
    return text


def _bucket_problem(name: str) -> str | None:
    if not name:
        return "empty"
    if not 3 <= len(name) <= 222:
        return "expected 3 to 63 characters (222 with dots)"
    if not _BUCKET_CHARS.match(name):
        return ("use lowercase letters, digits, '-', '_' and '.', starting and ending with a letter "
                "or digit")
    if "." not in name and len(name) > 63:
        return "longer than 63 characters"
    if any(not part or len(part) > 63 for part in name.split(".")):
        return "each dot-separated part must be 1 to 63 characters"
    try:
        ipaddress.ip_address(name)
        return "must not look like an IP address"
    except ValueError:
        pass
    if name.startswith("goog") or _GOOGLE_LIKE.search(name):
        return "must not start with 'goog' or contain 'google' (or a look-alike)"
    return None


def secret_version(value: str) -> str:
    """A Secret Manager version name; ``projects/P/secrets/S`` gets ``/versions/latest``."""
    text = (value or "").strip()
    parts = text.split("/")
    if len(parts) == 4 and parts[0] == "projects" and parts[2] == "secrets":
        parts += ["versions", "latest"]
    if (len(parts) == 6 and parts[0] == "projects" and parts[2] == "secrets" and parts[4] == "versions"
            and all(parts[i] for i in (1, 3, 5))
            and (parts[5] == "latest" or parts[5].isdigit())):
        return "/".join(parts)
    raise ValueError(f"--token-secret: {value!r} is not a Secret Manager version; expected "
                     "projects/PROJECT/secrets/NAME/versions/VERSION (VERSION a number or 'latest')")


def custom_role_id(value: str) -> str:
    """An IAM custom role id: 3 to 64 of letters, digits, '_' and '.'."""
    text = (value or "").strip()
    if not re.match(r"^[A-Za-z0-9_.]{3,64}$", text):
        raise ValueError(f"--custom-role: {value!r} is not a custom role id; expected 3 to 64 letters, "
                         "digits, '_' or '.' (e.g. unityBucketGet)")
    return text
