"""Find the datasets under a source folder by content, not by depth.

Each format of ``formats.REGISTRY`` finds its own datasets in the listing (Perception:
``captures_*.json``; SOLO: ``sequence.N/stepK.frame_data.json``); the other JSON files are
candidates for the formats told apart by reading them (COCO, UnityGroceries-Real). Of a Unity
Simulation instance's ``attempt:<k>`` folders only the highest is used.
"""
from __future__ import annotations

import posixpath
import re
from collections import defaultdict
from dataclasses import dataclass

from components.convert.formats import REGISTRY
from components.convert.frames import DatasetRef

__all__ = ["FORMATS", "DatasetRef", "Discovery", "discover", "detection_files", "locate_images", "image_prefix"]

FORMATS = ("auto", *REGISTRY)

_ATTEMPT = re.compile(r"(^|/)attempt:(\d+)(?=/|$)")
_UNITY_JSON = re.compile(
    r"(^|/)(annotation_definitions|sensors|egos|metric_definitions|metadata|sensor_definitions"
    r"|captures_\d+|metrics_\d+|step\d+\.frame_data)\.json$")
_IMAGE_DIRS = ("images", "Images", "data", "")
# The published COCO annotation files: <kind>_<split>.json, e.g. annotations/instances_train2017.json
_COCO_NAME = re.compile(r"^(instances|person_keypoints|stuff|panoptic|captions)_(.+)\.json$")
_COCO_WITHOUT_BOXES = ("captions", "panoptic")


@dataclass(frozen=True)
class Discovery:
    datasets: tuple[DatasetRef, ...]
    superseded_attempts: tuple[str, ...]  # dataset roots left out because a later attempt exists
    json_candidates: tuple[str, ...]  # COCO / UnityGroceries-Real candidates, to be read


def discover(files: list[str], fmt: str = "auto") -> Discovery:
    """Classify a sorted listing of source-relative file paths."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown --format {fmt!r}; expected one of {', '.join(FORMATS)}")
    file_set = set(files)
    datasets: list[DatasetRef] = []
    for name, reader in REGISTRY.items():
        if fmt in ("auto", name):
            datasets += reader.detect(files, file_set)
    datasets, superseded = _latest_attempts(datasets)
    roots = [d.root for d in datasets]
    candidates: tuple[str, ...] = ()
    if fmt == "auto" or REGISTRY[fmt].BY_CONTENT:
        # JSON inside a Perception/SOLO dataset belongs to it; a dataset at the root claims everything.
        candidates = tuple(f for f in files if f.endswith(".json") and not _UNITY_JSON.search(f)
                           and not any(r == "" or f.startswith(r + "/") for r in roots))
    return Discovery(tuple(datasets), tuple(superseded), candidates)


def _latest_attempts(datasets: list[DatasetRef]) -> tuple[list[DatasetRef], list[str]]:
    """Keep, per instance (the path before ``attempt:<k>``), only datasets of the highest attempt."""
    best: dict[str, int] = {}
    for d in datasets:
        m = _ATTEMPT.search(d.root)
        if m:
            instance = d.root[:m.start()]
            best[instance] = max(best.get(instance, -1), int(m.group(2)))
    kept, superseded = [], []
    for d in datasets:
        m = _ATTEMPT.search(d.root)
        if m and int(m.group(2)) < best[d.root[:m.start()]]:
            superseded.append(d.root)
        else:
            kept.append(d)
    return kept, superseded


def image_prefix(json_path: str, names: list[str], file_set: set[str]) -> str:
    """The folder (relative to the JSON's folder) that holds the images the JSON names."""
    root = posixpath.dirname(json_path)
    sample = names[:20]
    for folder in _IMAGE_DIRS:
        hits = sum(posixpath.join(root, folder, n) in file_set for n in sample)
        if sample and hits * 2 >= len(sample):
            return folder
    return "images" if any(f.startswith(posixpath.join(root, "images") + "/") for f in file_set) else ""


def coco_name(path: str) -> tuple[str, str] | None:
    """(kind, split) of a published COCO file name such as ``instances_train2017.json``."""
    m = _COCO_NAME.match(posixpath.basename(path))
    return (m.group(1), m.group(2)) if m else None


def detection_files(candidates: tuple[str, ...]) -> tuple[list[str], list[tuple[str, str]]]:
    """Leave out the published COCO files that are not (or duplicate) box annotations.

    ``captions_*`` and ``panoptic_*`` hold no boxes. ``person_keypoints_<split>`` and
    ``stuff_<split>`` are read only when no ``instances_<split>`` lies beside them: the keypoint
    file's person boxes are the instances file's person boxes again.

    Returns:
        (files to read, [(file left out, why)]).
    """
    instances = {(posixpath.dirname(f), name[1]) for f in candidates
                 if (name := coco_name(f)) and name[0] == "instances"}
    kept, left = [], []
    for f in candidates:
        name = coco_name(f)
        if name and name[0] in _COCO_WITHOUT_BOXES:
            left.append((f, f"COCO {name[0]} file: no boxes"))
        elif name and name[0] != "instances" and (posixpath.dirname(f), name[1]) in instances:
            left.append((f, f"its boxes repeat instances_{name[1]}.json beside it"))
        else:
            kept.append(f)
    return kept, left


def locate_images(json_path: str, names: list[str], file_set: set[str]) -> tuple[str, str]:
    """(dataset root, images folder relative to it) for a COCO-style JSON naming ``names``.

    Tried in order: the usual folders beside the JSON (``images/``, ``data/``, itself), a folder
    named like the JSON's split, the same one level up (the published ``annotations/`` beside
    ``train2017/``), and last the folder that holds most of the named files, under the JSON's parent
    first, then anywhere in the source.
    """
    folder = posixpath.dirname(json_path)
    parent = posixpath.dirname(folder) if folder else ""
    name = coco_name(json_path)
    split = name[1] if name else posixpath.splitext(posixpath.basename(json_path))[0]
    sample = names[:20]

    def enough(root: str, prefix: str) -> bool:
        hits = sum(posixpath.join(root, prefix, n) in file_set for n in sample)
        return bool(sample) and hits * 2 >= len(sample)

    tries = [(folder, d) for d in (*_IMAGE_DIRS[:-1], split, "")]
    if folder:
        tries += [(parent, d) for d in (split, "images", f"images/{split}", "")]
    for root, prefix in tries:
        if enough(root, prefix):
            return root, prefix
    for base in dict.fromkeys((parent, "")):
        found = _folder_holding(base, sample, file_set)
        if found is not None:
            return found
    return folder, image_prefix(json_path, names, file_set)


def _folder_holding(base: str, names: list[str], file_set: set[str]) -> tuple[str, str] | None:
    """The folder under ``base`` that holds most of ``names``, as (base, folder relative to it)."""
    wanted = {n.replace("\\", "/") for n in names}
    counts: dict[str, int] = defaultdict(int)
    start = base + "/" if base else ""
    for f in file_set:
        if not f.startswith(start):
            continue
        rel = f[len(start):]
        for n in wanted:
            if rel == n or rel.endswith("/" + n):
                counts[rel[:len(rel) - len(n)].rstrip("/")] += 1
    if not counts:
        return None
    best = max(sorted(counts), key=lambda k: counts[k])
    return (base, best) if counts[best] * 2 >= len(names) else None
