"""A Dockerfile read as a list of instructions, so the rehearsal can replay it without Docker.

    parse_dockerfile(open("containers/train/Dockerfile").read())
    # [Instruction(kind="FROM", args="python:3.11-slim", line=7), Instruction(kind="ENV", ...), ...]

Only what this repository's Dockerfiles use is understood: FROM, ENV, WORKDIR, COPY, RUN (shell
form), ARG and LABEL; anything else is an error, so a Dockerfile cannot grow an instruction that
the rehearsal silently skips.
"""
from __future__ import annotations

import shlex
from dataclasses import dataclass

KINDS = ("FROM", "ENV", "WORKDIR", "COPY", "RUN", "ARG", "LABEL")


class DockerfileError(ValueError):
    """The Dockerfile uses something the rehearsal cannot replay."""


@dataclass(frozen=True)
class Instruction:
    kind: str
    args: str
    line: int  # where the instruction starts, 1-based


def parse_dockerfile(text: str, name: str = "Dockerfile") -> list[Instruction]:
    """Instructions in order; comments dropped, ``\\`` continuations joined with one space."""
    out: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue  # comment lines inside a continued instruction are dropped, as Docker does
        if not pending:
            start = number
        continued = stripped.endswith("\\")
        pending.append(stripped[:-1].strip() if continued else stripped)
        if continued:
            continue
        joined = " ".join(p for p in pending if p)
        pending = []
        kind, _, args = joined.partition(" ")
        kind = kind.upper()
        if kind not in KINDS:
            raise DockerfileError(f"{name}:{start}: {kind} is not an instruction the rehearsal can replay")
        if kind == "RUN" and args.lstrip().startswith("["):
            raise DockerfileError(f"{name}:{start}: RUN in exec form is not supported; use the shell form")
        out.append(Instruction(kind, args.strip(), start))
    if pending:
        raise DockerfileError(f"{name}: the last instruction ends with a line continuation")
    if not out or out[0].kind not in ("FROM", "ARG"):
        raise DockerfileError(f"{name}: the first instruction must be FROM")
    return out


def env_pairs(args: str) -> dict[str, str]:
    """``ENV A=1 B="two words"`` -> ``{"A": "1", "B": "two words"}`` (also the legacy ``ENV A 1``)."""
    words = shlex.split(args)
    if len(words) >= 2 and "=" not in words[0]:
        return {words[0]: " ".join(words[1:])}
    pairs = {}
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or not key:
            raise DockerfileError(f"ENV {args!r}: expected KEY=VALUE pairs")
        pairs[key] = value
    return pairs


def copy_parts(args: str) -> tuple[list[str], str]:
    """``COPY a b dest/`` -> (["a", "b"], "dest/"). Flags such as ``--chown`` are refused."""
    words = shlex.split(args)
    if any(w.startswith("--") for w in words):
        raise DockerfileError(f"COPY {args!r}: flags are not supported")
    if len(words) < 2:
        raise DockerfileError(f"COPY {args!r}: expected sources and a destination")
    return words[:-1], words[-1]


def base_image(instructions: list[Instruction]) -> str:
    """The image named by the (single) FROM."""
    bases = [i.args.split()[0] for i in instructions if i.kind == "FROM"]
    if len(bases) != 1:
        raise DockerfileError(f"expected one FROM (no multi-stage builds), found {len(bases)}")
    return bases[0]
