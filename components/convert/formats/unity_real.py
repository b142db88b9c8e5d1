"""UnityGroceries-Real: ``annotations.json``, a list of ``{file_name, annotations}`` records, with its
labels in ``annotation_definitions.json`` beside it. The readers live in ``coco`` (shared box checks).
"""
from __future__ import annotations

from typing import Any, Iterator

import components.convert.formats.coco as coco
from components.convert.frames import DatasetPlan, DatasetRef, Frame, Skip


NAME = "unity-real"
BY_CONTENT = True  # found by reading JSON files (recognizes)
LOOKED_FOR = "UnityGroceries-Real annotations.json"
SKIP_REASONS = frozenset({"bad_image_record", "unsafe_path"})
image_count = coco.image_count


def detect(files: list[str], file_set: set[str]) -> list[DatasetRef]:
    """Told apart by content (``recognizes``), not by the listing."""
    return []


def recognizes(doc: Any) -> bool:
    return coco.is_unity_real(doc)


def definitions(doc: Any, source: str, definition_id: str | None = None) -> tuple[None, dict[int, str]]:
    """(None, label spec) of the ``annotation_definitions.json`` beside ``annotations.json``."""
    return None, coco.real_labels(doc, source)


def parse(doc: Any, source: str, dataset: DatasetPlan) -> Iterator[Frame | Skip]:
    return coco.parse_unity_real(doc, source, dataset.ref.image_prefix, dataset.spec, dataset.native_size)
