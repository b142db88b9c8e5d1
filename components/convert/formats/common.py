"""Checks shared by the format readers.

JSON from a dataset is untrusted: any field may hold any type, so readers go through these
helpers instead of assuming a list, a dict or a hashable id.
"""
from __future__ import annotations

import math
import re
import reprlib
from typing import Any, Callable

from components.convert.frames import Box, FormatError

_short = reprlib.Repr()
_short.maxlevel, _short.maxstring, _short.maxother = 3, 60, 60


def show(value: Any) -> str:
    """A short repr of an untrusted value, safe for deeply nested ones."""
    return _short.repr(value)


def kind(value: Any) -> str:
    """The JSON name of a parsed value's type, for messages."""
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number",
            float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


def finite_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def as_list(value: Any) -> list | None:
    """A JSON list as it is, null or a missing key as ``[]``, any other type as None."""
    if value is None:
        return []
    return value if isinstance(value, list) else None


def lookup(table: dict, key: Any) -> Any:
    """``table.get(key)``, None for an unhashable key (a list or object where an id belongs)."""
    try:
        return table.get(key)
    except TypeError:
        return None


def require_list(doc: Any, key: str, source: str) -> list:
    """``doc[key]`` as a list, or FormatError naming the file and the key."""
    if not isinstance(doc, dict):
        raise FormatError(source, f"expected a JSON object at the top level, got {kind(doc)}")
    value = doc.get(key)
    if value is None:
        raise FormatError(source, f"missing list {key!r}")
    if not isinstance(value, list):
        raise FormatError(source, f"{key!r} is {kind(value)}, expected a list")
    return value


def label_spec(spec: Any, source: str) -> dict[int, str]:
    """``[{"label_id": int, "label_name": str}, ...]`` -> ``{id: name}``."""
    if not isinstance(spec, list):
        raise FormatError(source, f"label spec is {kind(spec)}, expected a list")
    out: dict[int, str] = {}
    for item in spec:
        if not isinstance(item, dict):
            raise FormatError(source, f"label spec item {show(item)} is not an object")
        label_id, name = item.get("label_id"), item.get("label_name")
        if isinstance(label_id, bool) or not isinstance(label_id, int) or not isinstance(name, str):
            raise FormatError(source, f"label spec item {show(item)} needs an int label_id and a string label_name")
        out[label_id] = name
    return out


def natural_key(path: str) -> list:
    """Sort key that puts ``captures_2`` before ``captures_10``."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path)]


def by_folder(files: list[str], pattern: re.Pattern) -> dict[str, list[str]]:
    """Files matching ``pattern`` keyed by its first group (the folder; ``""`` at the top), in listing order."""
    groups: dict[str, list[str]] = {}
    for f in files:
        m = pattern.match(f)
        if m:
            groups.setdefault(m.group(1) or "", []).append(f)
    return dict(sorted(groups.items()))


def boxes_of(annotations: list, where: str, to_box: Callable[[Any], Box | str]) -> tuple[list, list] | str:
    """(boxes, drop reasons) from the ``values`` of a capture's box annotations.

    ``to_box`` turns one value into a Box or the reason it was dropped. Returns a sentence naming
    the problem instead when an annotation's ``values`` is not a list.
    """
    boxes, dropped = [], []
    for annotation in annotations:
        values = as_list(annotation.get("values"))
        if values is None:
            return f"{where}: box 'values' is {kind(annotation.get('values'))}, expected a list"
        for value in values:
            box = to_box(value)
            (boxes if isinstance(box, Box) else dropped).append(box)
    return boxes, dropped
