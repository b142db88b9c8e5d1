"""Dockerfiles read as instructions: continuations, comments, and what the rehearsal refuses."""
import pytest

from rehearsal.dockerfile import (DockerfileError, Instruction, base_image, copy_parts, env_pairs,
                                  parse_dockerfile)

TEXT = """# a comment
FROM python:3.11-slim

ENV A=1 B="two words"
WORKDIR /opt/x
COPY requirements.txt /tmp/constraints.txt
RUN pip install --no-cache-dir -r /tmp/r.txt \\
    # a comment inside the continuation
    -c /tmp/constraints.txt \\
    && python -c "import x"
"""


def test_instructions_in_order_with_continuations_joined():
    parsed = parse_dockerfile(TEXT)
    assert [i.kind for i in parsed] == ["FROM", "ENV", "WORKDIR", "COPY", "RUN"]
    assert parsed[-1] == Instruction(
        "RUN", 'pip install --no-cache-dir -r /tmp/r.txt -c /tmp/constraints.txt && python -c "import x"', 7)
    assert base_image(parsed) == "python:3.11-slim"


def test_env_and_copy_arguments():
    assert env_pairs('A=1 B="two words"') == {"A": "1", "B": "two words"}
    assert env_pairs("LEGACY some value") == {"LEGACY": "some value"}
    assert copy_parts("a b dest/") == (["a", "b"], "dest/")


@pytest.mark.parametrize("text, message", [
    ("FROM python:3.11-slim\nHEALTHCHECK CMD true\n", "Dockerfile:2: HEALTHCHECK"),
    ("FROM python:3.11-slim\nRUN [\"pip\", \"install\", \"x\"]\n", "exec form"),
    ("RUN true\n", "first instruction must be FROM"),
    ("FROM python:3.11-slim\nRUN true \\\n", "line continuation"),
])
def test_what_cannot_be_replayed_is_an_error_naming_the_line(text, message):
    with pytest.raises(DockerfileError, match=message):
        parse_dockerfile(text)


def test_copy_flags_and_multi_stage_builds_are_refused():
    with pytest.raises(DockerfileError, match="flags"):
        copy_parts("--chown=1 a b")
    with pytest.raises(DockerfileError, match="one FROM"):
        base_image(parse_dockerfile("FROM python:3.11 AS a\nFROM python:3.11-slim\n"))
