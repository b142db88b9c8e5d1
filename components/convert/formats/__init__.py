"""Pure readers, one module per input format: parsed JSON in, frames and skips out.

Each module is a ``Format``: the planner and the workers reach a format only through
``REGISTRY``, so a new input kind is one new module listed here.
"""
from __future__ import annotations

from typing import Any, Iterator, Protocol

from components.convert.formats import coco, perception, solo, unity_real
from components.convert.frames import DatasetPlan, DatasetRef, Frame, Skip



class Format(Protocol):
    """What the planner needs of an input format (a module with these names)."""

    NAME: str  # the --format value
    BY_CONTENT: bool  # found by reading JSON files (recognizes), not from the listing (detect)
    LOOKED_FOR: str  # what the format looks like, for "no dataset found"
    SKIP_REASONS: frozenset[str]  # the Skip reasons its parser yields for single frames

    def detect(self, files: list[str], file_set: set[str]) -> list[DatasetRef]:
        """Datasets found from a sorted source listing alone (empty for formats told by content)."""

    def recognizes(self, doc: Any) -> bool:
        """Whether a parsed JSON file (not claimed by a listed dataset) is of this format."""

    def definitions(self, doc: Any, source: str, definition_id: str | None = None
                    ) -> tuple[str | None, dict[int, str]]:
        """(box definition id or None, {source label id: name}) from the definitions document."""

    def parse(self, doc: Any, source: str, dataset: DatasetPlan) -> Iterator[Frame | Skip]:
        """Frames and per-frame Skips of one annotation file; FormatError for an unreadable file."""

    def image_count(self, doc: Any) -> int | None:
        """The images an annotation file held, when its top level tells (for a file lost whole)."""


# Listing-based formats first; content-based ones are tried on JSON files in this order.
REGISTRY: dict[str, Format] = {m.NAME: m for m in (perception, solo, coco, unity_real)}


def get(name: str) -> Format:
    """The format called ``name``; ValueError for an unknown one."""
    if name not in REGISTRY:
        raise ValueError(f"unknown dataset format {name!r}; expected one of {', '.join(REGISTRY)}")
    return REGISTRY[name]
