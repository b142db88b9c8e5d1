"""Checks shared by the format readers."""
from __future__ import annotations

import math
from typing import Any

from components.convert.frames import FormatError


def finite_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def require_list(doc: Any, key: str, source: str) -> list:
    """``doc[key]`` as a list, or FormatError naming the file and the key."""
    if not isinstance(doc, dict):
        raise FormatError(source, f"expected a JSON object at the top level, got {type(doc).__name__}")
    value = doc.get(key)
    if not isinstance(value, list):
        raise FormatError(source, f"missing list {key!r}")
    return value


def label_spec(spec: Any, source: str) -> dict[int, str]:
    """``[{"label_id": int, "label_name": str}, ...]`` -> ``{id: name}``."""
    if not isinstance(spec, list):
        raise FormatError(source, "label spec is not a list")
    out: dict[int, str] = {}
    for item in spec:
        if not isinstance(item, dict):
            raise FormatError(source, f"label spec item {item!r} is not an object")
        label_id, name = item.get("label_id"), item.get("label_name")
        if isinstance(label_id, bool) or not isinstance(label_id, int) or not isinstance(name, str):
            raise FormatError(source, f"label spec item {item!r} needs an int label_id and a string label_name")
        out[label_id] = name
    return out
