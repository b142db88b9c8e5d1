"""Class names from a label map file: ``label_map.pbtxt`` or ``label_map.csv`` (local or gs://)."""
from __future__ import annotations

from components.common import uris
from components.common.label_map import parse_csv, parse_pbtxt


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
