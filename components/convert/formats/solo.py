"""SOLO (Unity Perception 1.0+): ``sequence.N/stepK.frame_data.json`` plus definition files.

Camera captures and box annotations are recognised by ``@type``, never by id or position.
"""
from __future__ import annotations

from typing import Any, Iterator

from components.convert.formats.common import finite_number, label_spec, require_list
from components.convert.frames import Box, FormatError, Frame, Skip, UnsafePathError, safe_relpath

BOX_TYPE = "BoundingBox2DAnnotation"
CAMERA_TYPE = "RGBCamera"


def _is_type(item: Any, suffix: str) -> bool:
    # Writers use "type.unity.com/unity.solo.<Name>"; the schema doc spells the prefix differently.
    return isinstance(item, dict) and str(item.get("@type", "")).endswith(suffix)


def box_definition(doc: Any, source: str, definition_id: str | None = None) -> tuple[str, dict[int, str]]:
    """The BoundingBox2DAnnotation definition of ``annotation_definitions.json``.

    Returns:
        (definition id, {label_id: label_name}).
    """
    definitions = require_list(doc, "annotationDefinitions", source)
    candidates = [d for d in definitions if _is_type(d, BOX_TYPE)
                  and (definition_id is None or str(d.get("id")) == definition_id)]
    if not candidates:
        raise FormatError(source, f"no {BOX_TYPE} definition; the dataset has no 2D boxes")
    if len(candidates) > 1:
        ids = ", ".join(repr(str(c.get("id"))) for c in candidates)
        raise FormatError(source, f"several 2D bounding-box definitions ({ids}); choose one with --box-definition-id")
    chosen = candidates[0]
    return str(chosen.get("id")), label_spec(chosen.get("spec", []), source)


def parse_frame(doc: Any, source: str, sequence_dir: str, definition_id: str,
                labels: dict[int, str]) -> Iterator[Frame | Skip]:
    """Frames (one per RGB camera capture) of one ``stepK.frame_data.json``.

    ``sequence_dir`` is the frame file's folder relative to the dataset root; capture file names
    are relative to it.
    """
    captures = require_list(doc, "captures", source)
    for index, capture in enumerate(captures):
        if not _is_type(capture, CAMERA_TYPE):
            continue
        where = f"{source} captures[{index}]"
        filename = capture.get("filename")
        if filename is None:
            continue  # the camera was set not to save images
        try:
            path = safe_relpath(f"{sequence_dir}/{safe_relpath(filename, where)}" if sequence_dir
                                else filename, where)
        except UnsafePathError as err:
            yield Skip(where, "unsafe_path", str(err))
            continue
        annotations = [a for a in capture.get("annotations") or []
                       if _is_type(a, BOX_TYPE) and str(a.get("id")) == definition_id]
        if not annotations:
            yield Skip(path, "no_box_annotation", f"{where} has no {BOX_TYPE}")
            continue
        boxes, dropped = [], []
        for annotation in annotations:
            for value in annotation.get("values") or []:
                box = _box(value, labels)
                (boxes if isinstance(box, Box) else dropped).append(box)
        yield Frame(path=path, boxes=tuple(boxes), source=source,
                    stated_size=_size(capture.get("dimension")), dropped=tuple(dropped))


def _box(value: Any, labels: dict[int, str]) -> Box | str:
    if not isinstance(value, dict):
        return "bad_box"
    origin, dimension = value.get("origin"), value.get("dimension")
    if not (isinstance(origin, list) and isinstance(dimension, list) and len(origin) == 2 and len(dimension) == 2):
        return "bad_box"
    coords = [*origin, *dimension]
    if not all(finite_number(c) for c in coords):
        return "bad_box"
    label_id = value.get("labelId")
    if label_id not in labels:
        return "unknown_label"
    return Box(*map(float, coords), label_name=labels[label_id])


def _size(dimension: Any) -> tuple[int, int] | None:
    if isinstance(dimension, list) and len(dimension) == 2 and all(finite_number(v) for v in dimension):
        return int(round(dimension[0])), int(round(dimension[1]))
    return None
