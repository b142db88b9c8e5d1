"""Class names from a label map file: ``label_map.pbtxt`` or ``label_map.csv`` (local or gs://)."""
from __future__ import annotations

from components.common import label_map
from components.common.label_map import LabelMapError, parse_csv, parse_pbtxt

__all__ = ["LabelMapError", "parse_csv", "parse_pbtxt", "read_label_map"]


def read_label_map(uri: str) -> dict[int, str]:
    """``{id: name}`` from a ``.csv`` (``id,name`` lines) or pbtxt label map, read by ``common.label_map``.

    Raises:
        ValueError: the file is missing; ``LabelMapError`` (a ValueError) names the line of a malformed one.
    """
    try:
        return label_map.read(uri)
    except FileNotFoundError as err:
        raise ValueError(f"--label-map {uri!r}: no such file") from err
