"""Class names from a label map file: ``label_map.pbtxt`` or ``label_map.csv`` (local or gs://)."""
from __future__ import annotations

from components.common import uris
from components.common.label_map import parse_pbtxt


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


def read_label_map(uri: str) -> dict[int, str]:
    """``{id: name}`` from a ``.csv`` (``id,name`` lines) or pbtxt label map.

    Raises:
        ValueError: the file is missing or not a label map.
    """
    try:
        text = uris.read_text(uri)
    except FileNotFoundError as err:
        raise ValueError(f"--label-map {uri!r}: no such file") from err
    if uri.lower().endswith(".csv"):
        return parse_csv(text, uri)
    return parse_pbtxt(text, uri)
