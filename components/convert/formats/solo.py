"""SOLO (Unity Perception 1.0+): ``sequence.N/stepK.frame_data.json`` plus definition files.

Camera captures and box annotations are recognised by ``@type``, never by id or position. The
0.x previews wrote ``label_id``/``label_name`` in box values and may lack
``annotation_definitions.json``; their labels then come from the values (``labels_in_frame``).
"""
from __future__ import annotations

import posixpath
import re
from typing import Any, Iterator

from components.convert.formats.common import (as_list, boxes_of, by_folder, finite_number, kind, label_spec, lookup, natural_key,
                                               require_list)
from components.convert.frames import Box, DatasetPlan, DatasetRef, FormatError, Frame, Skip, UnsafePathError, safe_relpath


NAME = "solo"
BY_CONTENT = False  # found from the listing (detect)
LOOKED_FOR = "SOLO datasets (sequence.*/step*.frame_data.json)"
SKIP_REASONS = frozenset({"bad_capture", "unsafe_path", "no_box_annotation", "sensor_without_boxes",
                          "sensor_not_selected"})
_FRAME = re.compile(r"^(?:(.*)/)?sequence\.\d+/step\d+\.frame_data\.json$")

BOX_TYPE = "BoundingBox2DAnnotation"
CAMERA_TYPE = "RGBCamera"
UNNAMED_SENSOR = "unnamed"


def _is_type(item: Any, suffix: str) -> bool:
    # Writers use "type.unity.com/unity.solo.<Name>"; the schema doc spells the prefix differently.
    return isinstance(item, dict) and isinstance(item.get("@type"), str) and item["@type"].endswith(suffix)


def detect(files: list[str], file_set: set[str]) -> list[DatasetRef]:
    """Datasets marked by ``sequence.N/stepK.frame_data.json`` (root: the sequence folders' parent)."""
    out = []
    for root, frames in by_folder(files, _FRAME).items():
        definitions = posixpath.join(root, "annotation_definitions.json")
        out.append(DatasetRef(NAME, root, tuple(sorted(frames, key=natural_key)),
                              definitions if definitions in file_set else None))
    return out


def sensors_file(ref: DatasetRef) -> str:
    """The dataset's ``sensor_definitions.json``, at its root."""
    return posixpath.join(ref.root, "sensor_definitions.json")


def declared_sensors(doc: Any) -> set[str]:
    """Sensor ids listed in ``sensor_definitions.json`` (``{"sensorDefinitions": [{"id": ...}]}``)."""
    items = doc.get("sensorDefinitions") if isinstance(doc, dict) else None
    return {_text(s.get("id")) for s in items if isinstance(s, dict) and _text(s.get("id"))} \
        if isinstance(items, list) else set()


def recognizes(doc: Any) -> bool:
    """SOLO datasets are found from the listing, never from a JSON file alone."""
    return False


def definitions(doc: Any, source: str, definition_id: str | None = None) -> tuple[str, dict[int, str]]:
    """(box definition id, label spec) of ``annotation_definitions.json``."""
    return box_definition(doc, source, definition_id)


def parse(doc: Any, source: str, dataset: DatasetPlan) -> Iterator[Frame | Skip]:
    """Frames of one frame file of ``dataset``; capture file names resolve against its sequence folder."""
    root = dataset.ref.root
    rel = source[len(root) + 1:] if root else source
    return parse_frame(doc, source, posixpath.dirname(rel), dataset.definition_id, dataset.spec, dataset.sensors)


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
        ids = ", ".join(repr(_text(c.get("id"))) for c in candidates)
        raise FormatError(source, f"several 2D bounding-box definitions ({ids}); choose one with --box-definition-id")
    chosen = candidates[0]
    return _text(chosen.get("id")), label_spec(chosen.get("spec", []), source)


def parse_frame(doc: Any, source: str, sequence_dir: str, definition_id: str | None,
                labels: dict[int, str], sensors: tuple[str, ...] = ()) -> Iterator[Frame | Skip]:
    """Frames (one per RGB camera capture) of one ``stepK.frame_data.json``.

    ``sequence_dir`` is the frame file's folder relative to the dataset root; capture file names
    are relative to it. ``definition_id`` None takes any BoundingBox2DAnnotation. ``sensors``
    selects sensor ids (empty: every camera that has box annotations); a sensor that has none in
    this frame is reported as a sensor without the box labeler.
    """
    captures = require_list(doc, "captures", source)
    for index, capture in enumerate(captures):
        where = f"{source} captures[{index}]"
        if not isinstance(capture, dict):
            yield Skip(where, "bad_capture", f"capture is {kind(capture)}, expected an object")
            continue
        sensor = _text(capture.get("id")) or None
        filename = capture.get("filename")
        if filename is None and _is_type(capture, CAMERA_TYPE):
            continue  # the camera was set not to save images
        try:
            path = safe_relpath(f"{sequence_dir}/{safe_relpath(filename, where)}" if sequence_dir
                                else filename, where)
        except UnsafePathError as err:
            path, unsafe = None, str(err)
        if sensors and sensor not in sensors:
            yield Skip(path or where, "sensor_not_selected", sensor or UNNAMED_SENSOR)
            continue
        annotations = _box_annotations(capture, definition_id)
        if not _is_type(capture, CAMERA_TYPE):
            yield Skip(path or where, "sensor_without_boxes", sensor or UNNAMED_SENSOR)
            continue
        if path is None:
            yield Skip(where, "unsafe_path", unsafe)
            continue
        if not sensors and annotations == []:
            yield Skip(path, "sensor_without_boxes", sensor or UNNAMED_SENSOR)
            continue
        if annotations is None:
            yield Skip(path, "bad_capture", f"{where}: 'annotations' is {kind(capture.get('annotations'))}, "
                                            "expected a list")
            continue
        if not annotations:
            yield Skip(path, "no_box_annotation", f"{where} has no {BOX_TYPE}")
            continue
        found = boxes_of(annotations, where, lambda value: _box(value, labels))
        if isinstance(found, str):
            yield Skip(path, "bad_capture", found)
            continue
        boxes, dropped = found
        yield Frame(path=path, boxes=tuple(boxes), source=source, stated_size=_size(capture.get("dimension")),
                    dropped=tuple(dropped), group=sequence_dir or None, sensor=sensor)


def labels_in_frame(doc: Any) -> tuple[set[str], dict[int, str]]:
    """Box annotation ids and ``{label id: name}`` named in a frame's values (no definitions file)."""
    ids: set[str] = set()
    found: dict[int, str] = {}
    captures = doc.get("captures") if isinstance(doc, dict) else None
    for capture in captures if isinstance(captures, list) else []:
        for annotation in _box_annotations(capture, None) or [] if isinstance(capture, dict) else []:
            ids.add(_text(annotation.get("id")))
            for value in as_list(annotation.get("values")) or []:
                if isinstance(value, dict):
                    label_id, name = _field(value, "labelId", "label_id"), _field(value, "labelName", "label_name")
                    if isinstance(label_id, int) and not isinstance(label_id, bool) and isinstance(name, str):
                        found.setdefault(label_id, name)
    return ids, found


def image_count(doc: Any) -> int | None:
    """How many captures a frame file holds, when its top level is readable."""
    captures = doc.get("captures") if isinstance(doc, dict) else None
    return len(captures) if isinstance(captures, list) else None


def _box_annotations(capture: dict, definition_id: str | None) -> list[dict] | None:
    """The capture's box annotations; None when ``annotations`` is not a list."""
    annotations = as_list(capture.get("annotations"))
    if annotations is None:
        return None
    return [a for a in annotations if _is_type(a, BOX_TYPE)
            and (definition_id is None or _text(a.get("id")) == definition_id)]


def _field(value: dict, camel: str, snake: str) -> Any:
    # SOLO 1.0 writes camelCase in values; the 0.x previews wrote snake_case.
    return value[camel] if camel in value else value.get(snake)


def _box(value: Any, labels: dict[int, str]) -> Box | str:
    if not isinstance(value, dict):
        return "bad_box"
    origin, dimension = value.get("origin"), value.get("dimension")
    if not (isinstance(origin, list) and isinstance(dimension, list) and len(origin) == 2 and len(dimension) == 2):
        return "bad_box"
    coords = [*origin, *dimension]
    if not all(finite_number(c) for c in coords):
        return "bad_box"
    name = lookup(labels, _field(value, "labelId", "label_id"))
    if name is None:
        return "unknown_label"
    return Box(*map(float, coords), label_name=name)


def _size(dimension: Any) -> tuple[int, int] | None:
    if isinstance(dimension, list) and len(dimension) == 2 and all(finite_number(v) for v in dimension):
        return int(round(dimension[0])), int(round(dimension[1]))
    return None


def _text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return ""
    return str(value)
