"""``label_map.pbtxt`` (StringIntLabelMap text format) and ``label_map.csv``: write and read.

Ids are 1-based; 0 is the background and never listed.
"""
from __future__ import annotations

import re
from typing import Mapping

_ITEM = re.compile(r"item\s*\{(.*?)\}", re.DOTALL)
_ID = re.compile(r"\bid\s*:\s*(-?\d+)")
_NAME = re.compile(r"\bname\s*:\s*(\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')")


def _quote(name: str) -> str:
    return "'" + name.replace("\\", "\\\\").replace("'", "\\'").replace('"', '\\"') + "'"


def _unquote(token: str) -> str:
    return re.sub(r"\\(.)", r"\1", token[1:-1])


def to_pbtxt(labels: Mapping[int, str]) -> str:
    """``{id: name}`` -> pbtxt text, items in id order."""
    return "".join(f"item {{\n  id: {i}\n  name: {_quote(labels[i])}\n}}\n" for i in sorted(labels))


def to_csv(labels: Mapping[int, str]) -> str:
    """``{id: name}`` -> ``id,name`` lines (Model Garden's TfExampleDecoderLabelMap format)."""
    return "".join(f"{i},{labels[i]}\n" for i in sorted(labels))


def parse_pbtxt(text: str, source: str = "label map") -> dict[int, str]:
    """pbtxt text -> ``{id: name}``. Raises ValueError on ids < 1 or duplicates."""
    out: dict[int, str] = {}
    for body in _ITEM.findall(text):
        id_match, name_match = _ID.search(body), _NAME.search(body)
        if not id_match or not name_match:
            raise ValueError(f"{source}: item without id or name: {body.strip()!r}")
        label_id, name = int(id_match.group(1)), _unquote(name_match.group(1))
        if label_id < 1:
            raise ValueError(f"{source}: id {label_id} for {name!r}; ids start at 1 (0 is the background)")
        if label_id in out:
            raise ValueError(f"{source}: id {label_id} listed twice")
        out[label_id] = name
    if not out:
        raise ValueError(f"{source}: no items")
    return out


def parse_csv(text: str, source: str = "label map") -> dict[int, str]:
    """``id,name`` lines (no header) -> ``{id: name}``."""
    out: dict[int, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        head, sep, name = line.partition(",")
        try:
            label_id = int(head)
        except ValueError:
            label_id = 0
        if not sep or label_id < 1 or not name:
            raise ValueError(f"{source} line {number}: {line!r}; expected 'id,name' with id >= 1")
        if label_id in out:
            raise ValueError(f"{source} line {number}: id {label_id} listed twice")
        out[label_id] = name
    if not out:
        raise ValueError(f"{source}: no classes")
    return out


def num_classes(labels: Mapping[int, str]) -> int:
    """Model Garden's ``num_classes``: the highest id plus the background slot."""
    return max(labels) + 1
