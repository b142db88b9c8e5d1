"""One label map for all datasets of a conversion: the same name always gets the same id."""
from __future__ import annotations

import logging
from typing import Iterable

logger = logging.getLogger(__name__)


def merge_specs(specs: Iterable[tuple[str, dict[int, str]]]) -> tuple[dict[int, str], list[str]]:
    """Merge per-dataset ``{source id: name}`` specs into one ``{output id: name}`` map.

    A source that uses id 0 has all its ids shifted by +1 (0 is the background). The first
    dataset to name a class fixes its id; a later dataset with a clashing id gets the next free one.

    Returns:
        (label map, warnings in words).
    """
    by_name: dict[str, int] = {}
    by_id: dict[int, str] = {}
    warnings: list[str] = []
    for source, spec in specs:
        shift = 1 if 0 in spec else 0
        if shift and spec:
            warnings.append(f"{source}: label ids start at 0; shifted by +1 (0 is the background)")
        for source_id in sorted(spec):
            name, wanted = spec[source_id], source_id + shift
            if wanted < 1:
                warnings.append(f"{source}: label id {source_id} ({name!r}) is negative; ignored")
                continue
            if name in by_name:
                if by_name[name] != wanted:
                    warnings.append(f"{source}: {name!r} has id {wanted} here but {by_name[name]} "
                                    f"in an earlier dataset; using {by_name[name]}")
                continue
            if wanted in by_id:
                new_id = max(by_id) + 1
                warnings.append(f"{source}: id {wanted} is {by_id[wanted]!r} in an earlier dataset; "
                                f"{name!r} gets id {new_id}")
                wanted = new_id
            by_name[name], by_id[wanted] = wanted, name
    return dict(sorted(by_id.items())), warnings
