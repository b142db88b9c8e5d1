"""COCO detection JSON, and the UnityGroceries-Real layout (a list of per-image records).

COCO ``file_name`` values are relative to the images folder, which the caller resolves.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable
from typing import Any, Iterator

from components.convert.formats.common import as_list, finite_number, kind, label_spec, lookup, require_list, show

from components.convert.frames import Box, DatasetPlan, DatasetRef, FormatError, Frame, Skip, UnsafePathError, safe_relpath


NAME = "coco"
BY_CONTENT = True  # found by reading JSON files (recognizes)
LOOKED_FOR = "COCO JSON (images/annotations/categories)"
SKIP_REASONS = frozenset({"bad_image_record", "unsafe_path"})


def detect(files: list[str], file_set: set[str]) -> list[DatasetRef]:
    """COCO files are told apart by their content (``recognizes``), not by the listing."""
    return []


def recognizes(doc: Any) -> bool:
    return is_coco(doc)


def definitions(doc: Any, source: str, definition_id: str | None = None) -> tuple[None, dict[int, str]]:
    """(None, label spec): a COCO file is its own definitions file."""
    return None, categories(doc, source)


def parse(doc: Any, source: str, dataset: DatasetPlan) -> Iterator[Frame | Skip]:
    return parse_coco(doc, source, dataset.ref.image_prefix, dataset.spec)


def is_coco(doc: Any) -> bool:
    return isinstance(doc, dict) and isinstance(doc.get("images"), list) and "annotations" in doc


def is_captions(doc: dict) -> bool:
    """A COCO captions file: annotations carry captions, no boxes and no categories."""
    annotations = doc.get("annotations")
    return "categories" not in doc and isinstance(annotations, list) and bool(annotations) and all(
        isinstance(a, dict) and "caption" in a and "bbox" not in a for a in annotations[:5])


def is_unity_real(doc: Any) -> bool:
    return isinstance(doc, list) and all(isinstance(i, dict) and "file_name" in i for i in doc[:5]) and bool(doc)


def categories(doc: Any, source: str) -> dict[int, str]:
    """COCO ``categories`` -> ``{id: name}``."""
    out = {}
    for cat in require_list(doc, "categories", source):
        if not isinstance(cat, dict) or isinstance(cat.get("id"), bool) or not isinstance(cat.get("id"), int) \
                or not isinstance(cat.get("name"), str):
            raise FormatError(source, f"category {show(cat)} needs an int id and a string name")
        out[cat["id"]] = cat["name"]
    return out


def parse_coco(doc: Any, source: str, image_prefix: str, labels: dict[int, str]) -> Iterator[Frame | Skip]:
    """One Frame per entry of ``images``; ``image_prefix`` is the images folder relative to the root."""
    images = require_list(doc, "images", source)
    annotations = as_list(doc.get("annotations"))
    if annotations is None:
        raise FormatError(source, f"'annotations' is {kind(doc.get('annotations'))}, expected a list")
    by_image: dict[Any, list[dict]] = defaultdict(list)
    for ann in annotations:
        if isinstance(ann, dict) and isinstance(ann.get("image_id"), Hashable):
            by_image[ann.get("image_id")].append(ann)
    for index, image in enumerate(images):
        where = f"{source} images[{index}]"
        if not isinstance(image, dict):
            yield Skip(where, "bad_image_record", f"image entry is {kind(image)}, expected an object")
            continue
        try:
            name = safe_relpath(image.get("file_name"), where)
            path = safe_relpath(f"{image_prefix}/{name}" if image_prefix else name, where)
        except UnsafePathError as err:
            yield Skip(where, "unsafe_path", str(err))
            continue
        if not isinstance(image.get("id"), Hashable):
            yield Skip(path, "bad_image_record", f"{where}: 'id' is {kind(image.get('id'))}, expected a number")
            continue
        boxes, dropped = [], []
        for ann in by_image.get(image.get("id"), []):
            box = _coco_box(ann, labels)
            (boxes if isinstance(box, Box) else dropped).append(box)
        size = None
        if finite_number(image.get("width")) and finite_number(image.get("height")):
            size = (int(image["width"]), int(image["height"]))
        yield Frame(path=path, boxes=tuple(boxes), source=source, stated_size=size, dropped=tuple(dropped))


def _coco_box(ann: dict, labels: dict[int, str]) -> Box | str:
    bbox = ann.get("bbox")
    if not (isinstance(bbox, list) and len(bbox) == 4 and all(finite_number(v) for v in bbox)):
        return "bad_box"
    name = lookup(labels, ann.get("category_id"))
    if name is None:
        return "unknown_label"
    area = ann.get("area")
    return Box(*map(float, bbox), label_name=name,
               is_crowd=1 if ann.get("iscrowd") else 0,
               area=float(area) if finite_number(area) else None)


def real_labels(definitions_doc: Any, source: str) -> dict[int, str]:
    """UnityGroceries-Real: the first definition's spec is the label map."""
    definitions = require_list(definitions_doc, "annotation_definitions", source)
    if not definitions or not isinstance(definitions[0], dict):
        raise FormatError(source, "annotation_definitions is empty or its first item is not an object")
    return label_spec(definitions[0].get("spec", []), source)


# UnityGroceries-Real boxes were drawn on the Canon T5i's full frames; copies may hold smaller images.
GROCERIES_NATIVE_SIZE = (5184, 3456)


def box_extents(doc: list) -> tuple[float, float]:
    """The largest right and bottom box edges over a UnityGroceries-Real ``annotations.json``."""
    right = bottom = 0.0
    for record in doc:
        for ann in (as_list(record.get("annotations")) or []) if isinstance(record, dict) else []:
            bbox = ann.get("bbox", ann.get("bboxs")) if isinstance(ann, dict) else None
            if isinstance(bbox, list) and len(bbox) == 4 and all(finite_number(v) for v in bbox):
                right, bottom = max(right, bbox[0] + bbox[2]), max(bottom, bbox[1] + bbox[3])
    return right, bottom


def parse_unity_real(doc: Any, source: str, image_prefix: str, labels: dict[int, str],
                     native_size: tuple[int, int] | None = None) -> Iterator[Frame | Skip]:
    """UnityGroceries-Real ``annotations.json``: ``[{"file_name", "annotations": [{label_id, bbox}]}]``.

    ``native_size`` is set when the boxes are in the camera's pixels rather than the stored images'.
    """
    if not isinstance(doc, list):
        raise FormatError(source, "expected a JSON list of {file_name, annotations} records")
    for index, record in enumerate(doc):
        where = f"{source} [{index}]"
        if not isinstance(record, dict):
            yield Skip(where, "bad_image_record", f"record is {kind(record)}, expected an object")
            continue
        try:
            name = safe_relpath(record.get("file_name"), where)
            path = safe_relpath(f"{image_prefix}/{name}" if image_prefix else name, where)
        except UnsafePathError as err:
            yield Skip(where, "unsafe_path", str(err))
            continue
        annotations = as_list(record.get("annotations"))
        if annotations is None:
            yield Skip(path, "bad_image_record", f"{where}: 'annotations' is {kind(record.get('annotations'))}, "
                                                 "expected a list")
            continue
        boxes, dropped = [], []
        for ann in annotations:
            bbox = ann.get("bbox", ann.get("bboxs")) if isinstance(ann, dict) else None
            name = lookup(labels, ann.get("label_id")) if isinstance(ann, dict) else None
            if not (isinstance(bbox, list) and len(bbox) == 4 and all(finite_number(v) for v in bbox)):
                dropped.append("bad_box")
            elif name is None:
                dropped.append("unknown_label")
            else:
                boxes.append(Box(*map(float, bbox), label_name=name))
        yield Frame(path=path, boxes=tuple(boxes), source=source, dropped=tuple(dropped),
                    native_size=native_size)


def image_count(doc: Any) -> int | None:
    """How many images a COCO or UnityGroceries-Real file lists, when its top level is readable."""
    if isinstance(doc, dict):
        return len(doc["images"]) if isinstance(doc.get("images"), list) else None
    return len(doc) if isinstance(doc, list) else None
