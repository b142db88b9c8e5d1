"""Legacy Unity Perception JSON (Perception <= 0.11): ``Dataset<uuid>/captures_NNN.json``.

The 2D box annotation is found through ``annotation_definitions.json`` (by the labeler's
well-known id or its name), never by its position in a capture's annotation list.
"""
from __future__ import annotations

import logging
import re
from typing import Any, Iterator

from components.convert.formats.common import finite_number, label_spec, require_list
from components.convert.frames import Box, FormatError, Frame, Skip, UnsafePathError, safe_relpath

logger = logging.getLogger(__name__)

BOX_DEFINITION_ID = "f9f22e05-443f-4602-a422-ebe4ea9b55cb"
_BOX_NAME = re.compile(r"^(2d )?bounding box$", re.IGNORECASE)
SUPPORTED_VERSION = "0.0.1"


def box_definition(doc: Any, source: str, definition_id: str | None = None) -> tuple[str, dict[int, str]]:
    """The 2D bounding-box definition of ``annotation_definitions.json``.

    Returns:
        (definition id, {label_id: label_name}).
    Raises:
        FormatError: none found, or several and ``definition_id`` does not pick one.
    """
    definitions = require_list(doc, "annotation_definitions", source)
    _warn_version(doc, source)
    candidates = []
    for item in definitions:
        if not isinstance(item, dict):
            continue
        item_id = str(item.get("id", ""))
        if definition_id is not None:
            if item_id == definition_id:
                candidates.append(item)
        elif item_id.lower() == BOX_DEFINITION_ID or _BOX_NAME.match(str(item.get("name", ""))):
            candidates.append(item)
    if not candidates:
        wanted = f"id {definition_id!r}" if definition_id else f"id {BOX_DEFINITION_ID} or name 'bounding box'"
        raise FormatError(source, f"no 2D bounding-box annotation definition ({wanted}); the dataset has no 2D boxes")
    if len(candidates) > 1:
        ids = ", ".join(repr(str(c.get("id"))) for c in candidates)
        raise FormatError(source, f"several 2D bounding-box definitions ({ids}); choose one with --box-definition-id")
    chosen = candidates[0]
    return str(chosen.get("id")), label_spec(chosen.get("spec", []), source)


def parse_captures(doc: Any, source: str, definition_id: str, labels: dict[int, str]) -> Iterator[Frame | Skip]:
    """Frames of one ``captures_NNN.json``; captures without a box annotation become Skips."""
    captures = require_list(doc, "captures", source)
    _warn_version(doc, source)
    for index, capture in enumerate(captures):
        where = f"{source} captures[{index}]"
        if not isinstance(capture, dict):
            yield Skip(where, "bad_capture", "capture is not an object")
            continue
        sensor = capture.get("sensor") or {}
        if isinstance(sensor, dict) and sensor.get("modality", "camera") != "camera":
            continue  # lidar and other non-image sensors carry no RGB image
        try:
            path = safe_relpath(capture.get("filename"), where)
        except UnsafePathError as err:
            yield Skip(where, "unsafe_path", str(err))
            continue
        box_annotations = [
            a for a in capture.get("annotations") or []
            if isinstance(a, dict) and str(a.get("annotation_definition")) == definition_id
        ]
        if not box_annotations:
            yield Skip(path, "no_box_annotation", f"{where} has no 2D bounding-box annotation")
            continue
        boxes, dropped = [], []
        for annotation in box_annotations:
            for value in annotation.get("values") or []:
                box = _box(value, labels)
                if isinstance(box, Box):
                    boxes.append(box)
                else:
                    dropped.append(box)
        yield Frame(path=path, boxes=tuple(boxes), source=source, dropped=tuple(dropped))


def _box(value: Any, labels: dict[int, str]) -> Box | str:
    """A Box, or the reason it was dropped."""
    if not isinstance(value, dict):
        return "bad_box"
    coords = [value.get(k) for k in ("x", "y", "width", "height")]
    if not all(finite_number(c) for c in coords):
        return "bad_box"
    label_id = value.get("label_id")
    if label_id not in labels:
        return "unknown_label"
    return Box(*map(float, coords), label_name=labels[label_id])


def _warn_version(doc: dict, source: str) -> None:
    version = doc.get("version")
    if version is not None and version != SUPPORTED_VERSION:
        logger.warning("%s: schema version %r, expected %r; reading it anyway", source, version, SUPPORTED_VERSION)
