"""Legacy Unity Perception JSON (Perception <= 0.11): ``captures_NNN.json`` beside its definitions.

The 2D box annotation is found through ``annotation_definitions.json`` (by the labeler's
well-known id or its name), never by its position in a capture's annotation list. Other labelers'
annotations (segmentation, keypoints, 3D boxes) are passed over whatever their values hold.
"""
from __future__ import annotations

import logging
import posixpath
import re
from typing import Any, Iterator

from components.convert.formats.common import (as_list, boxes_of, by_folder, finite_number, kind, label_spec, lookup, natural_key,
                                               require_list)
from components.convert.frames import Box, DatasetPlan, DatasetRef, FormatError, Frame, Skip, UnsafePathError, safe_relpath


logger = logging.getLogger(__name__)

NAME = "perception"
BY_CONTENT = False  # found from the listing (detect)
LOOKED_FOR = "Perception datasets (captures_NNN.json in any folder)"
SKIP_REASONS = frozenset({"bad_capture", "unsafe_path", "no_box_annotation", "sensor_without_boxes",
                          "sensor_not_selected"})
_CAPTURES = re.compile(r"^(?:(.*)/)?captures_\d+\.json$")

BOX_DEFINITION_ID = "f9f22e05-443f-4602-a422-ebe4ea9b55cb"
_BOX_NAME = re.compile(r"^(2d )?bounding box$", re.IGNORECASE)
SUPPORTED_VERSION = "0.0.1"
UNNAMED_SENSOR = "unnamed"


def detect(files: list[str], file_set: set[str]) -> list[DatasetRef]:
    """Datasets marked by ``captures_NNN.json`` in a sorted listing of source-relative paths.

    Inside a ``Dataset*`` folder the root is that folder's parent; elsewhere it is chosen among
    the folder and its parents by the planner, from where the named images are.
    """
    out = []
    for folder, captures in by_folder(files, _CAPTURES).items():
        definitions = posixpath.join(folder, "annotation_definitions.json")
        definitions = definitions if definitions in file_set else None
        captures = tuple(sorted(captures, key=natural_key))
        if posixpath.basename(folder).startswith("Dataset"):
            out.append(DatasetRef(NAME, posixpath.dirname(folder), captures, definitions))
        else:
            # Unity writes Dataset<uuid>/ with file names relative to its parent; copies that moved
            # the JSON elsewhere (one flat folder, data/) keep those names.
            ancestors = [folder]
            while ancestors[-1]:
                ancestors.append(posixpath.dirname(ancestors[-1]))
            out.append(DatasetRef(NAME, folder, captures, definitions, root_candidates=tuple(ancestors)))
    return out


def sensors_file(ref: DatasetRef) -> str:
    """The dataset's ``sensors.json``, beside its captures files."""
    return posixpath.join(posixpath.dirname(ref.annotation_files[0]), "sensors.json")


def declared_sensors(doc: Any) -> set[str]:
    """Sensor ids listed in ``sensors.json`` (``{"sensors": [{"id": ...}]}``)."""
    items = doc.get("sensors") if isinstance(doc, dict) else None
    return {str(s["id"]) for s in items if isinstance(s, dict) and isinstance(s.get("id"), (str, int))
            and not isinstance(s.get("id"), bool)} if isinstance(items, list) else set()


def recognizes(doc: Any) -> bool:
    """Perception datasets are found from the listing, never from a JSON file alone."""
    return False


def definitions(doc: Any, source: str, definition_id: str | None = None) -> tuple[str, dict[int, str]]:
    """(box definition id, label spec) of ``annotation_definitions.json``."""
    return box_definition(doc, source, definition_id)


def parse(doc: Any, source: str, dataset: DatasetPlan) -> Iterator[Frame | Skip]:
    """Frames of one captures file of ``dataset``."""
    return parse_captures(doc, source, dataset.definition_id, dataset.spec, dataset.sensors)


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
        item_id = _text(item.get("id"))
        if definition_id is not None:
            if item_id == definition_id:
                candidates.append(item)
        elif item_id.lower() == BOX_DEFINITION_ID or _BOX_NAME.match(_text(item.get("name"))):
            candidates.append(item)
    if not candidates:
        wanted = f"id {definition_id!r}" if definition_id else f"id {BOX_DEFINITION_ID} or name 'bounding box'"
        raise FormatError(source, f"no 2D bounding-box annotation definition ({wanted}); the dataset has no 2D boxes")
    if len(candidates) > 1:
        ids = ", ".join(repr(_text(c.get("id"))) for c in candidates)
        raise FormatError(source, f"several 2D bounding-box definitions ({ids}); choose one with --box-definition-id")
    chosen = candidates[0]
    return _text(chosen.get("id")), label_spec(chosen.get("spec", []), source)


def parse_captures(doc: Any, source: str, definition_id: str, labels: dict[int, str],
                   sensors: tuple[str, ...] = ()) -> Iterator[Frame | Skip]:
    """Frames of one ``captures_NNN.json``.

    ``sensors`` selects sensor ids (empty: every camera with 2D boxes). Without a selection, a
    camera none of whose captures in this file has a box annotation is a sensor without the box
    labeler: its captures are reported as such, not as images lacking ground truth.
    """
    captures = require_list(doc, "captures", source)
    _warn_version(doc, source)
    boxed = {sensor_id(c) for c in captures if isinstance(c, dict) and _box_annotations(c, definition_id)}
    for index, capture in enumerate(captures):
        where = f"{source} captures[{index}]"
        if not isinstance(capture, dict):
            yield Skip(where, "bad_capture", f"capture is {kind(capture)}, expected an object")
            continue
        sensor = sensor_id(capture)
        try:
            path = safe_relpath(capture.get("filename"), where)
        except UnsafePathError as err:
            path = None
            unsafe = str(err)
        if sensors and sensor not in sensors:
            yield Skip(path or where, "sensor_not_selected", sensor or UNNAMED_SENSOR)
            continue
        if not _is_camera(capture):
            yield Skip(path or where, "sensor_without_boxes", sensor or UNNAMED_SENSOR)
            continue
        if path is None:
            yield Skip(where, "unsafe_path", unsafe)
            continue
        annotations = _box_annotations(capture, definition_id)
        if annotations is None:
            yield Skip(path, "bad_capture", f"{where}: 'annotations' is {kind(capture.get('annotations'))}, "
                                            "expected a list")
            continue
        if not sensors and sensor not in boxed:
            yield Skip(path, "sensor_without_boxes", sensor or UNNAMED_SENSOR)
            continue
        if not annotations:
            yield Skip(path, "no_box_annotation", f"{where} has no 2D bounding-box annotation")
            continue
        found = boxes_of(annotations, where, lambda value: _box(value, labels))
        if isinstance(found, str):
            yield Skip(path, "bad_capture", found)
            continue
        boxes, dropped = found
        yield Frame(path=path, boxes=tuple(boxes), source=source, dropped=tuple(dropped),
                    group=_group(capture), sensor=sensor)


def sensor_id(capture: dict) -> str | None:
    """The capture's ``sensor.sensor_id`` as a string, None when absent."""
    sensor = capture.get("sensor")
    value = sensor.get("sensor_id") if isinstance(sensor, dict) else None
    return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else None


def image_count(doc: Any) -> int | None:
    """How many captures a captures file holds, when its top level is readable."""
    captures = doc.get("captures") if isinstance(doc, dict) else None
    return len(captures) if isinstance(captures, list) else None


def _is_camera(capture: dict) -> bool:
    sensor = capture.get("sensor")
    return not isinstance(sensor, dict) or sensor.get("modality", "camera") == "camera"


def _box_annotations(capture: dict, definition_id: str) -> list[dict] | None:
    """The capture's 2D box annotations; None when ``annotations`` is not a list."""
    annotations = as_list(capture.get("annotations"))
    if annotations is None:
        return None
    return [a for a in annotations if isinstance(a, dict) and _text(a.get("annotation_definition")) == definition_id]


def _group(capture: dict) -> str | None:
    # The cameras of one rig share sequence_id and step; their images belong to one split.
    sequence, step = capture.get("sequence_id"), capture.get("step")
    if isinstance(sequence, str) and isinstance(step, int) and not isinstance(step, bool):
        return f"{sequence}:{step}"
    return None


def _box(value: Any, labels: dict[int, str]) -> Box | str:
    """A Box, or the reason it was dropped."""
    if not isinstance(value, dict):
        return "bad_box"
    coords = [value.get(k) for k in ("x", "y", "width", "height")]
    if not all(finite_number(c) for c in coords):
        return "bad_box"
    name = lookup(labels, value.get("label_id"))
    if name is None:
        return "unknown_label"
    return Box(*map(float, coords), label_name=name)


def _text(value: Any) -> str:
    """An id or name from JSON as a string; other types never match one."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return "" if value is None else f"<{kind(value)}>"
    return str(value)


def _warn_version(doc: dict, source: str) -> None:
    version = doc.get("version")
    if version is not None and version != SUPPORTED_VERSION:
        logger.warning("%s: schema version %.40r, expected %r; reading it anyway", source, version,
                       SUPPORTED_VERSION)
