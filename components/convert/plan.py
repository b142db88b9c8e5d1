"""What a conversion will read: datasets, their label specs, the JSON files to parse.

Runs in the launching process before the Beam job: it lists the source once, reads the small
definition files, and fixes one label map, so that a bad source fails before any worker starts.
"""
from __future__ import annotations

import json
import logging
import posixpath
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Iterator

from components.common import uris
from components.convert.discover import DatasetRef, discover, image_prefix
from components.convert.formats import coco, perception, solo
from components.convert.frames import FormatError, Frame, Skip
from components.convert.images import ImageError, image_info
from components.convert.labels import merge_specs

logger = logging.getLogger(__name__)


class NoDatasetError(ValueError):
    """Nothing convertible was found under the source."""


@dataclass(frozen=True)
class DatasetPlan:
    ref: DatasetRef
    definition_id: str | None  # the box definition (legacy, SOLO)
    spec: dict[int, str]  # source label id -> name
    native_size: tuple[int, int] | None = None  # boxes drawn in these pixels, not the stored images'


@dataclass(frozen=True)
class Plan:
    source: str
    format: str
    datasets: tuple[DatasetPlan, ...]
    labels: dict[int, str]  # output id -> name
    units: tuple[tuple[int, str], ...]  # (dataset index, annotation file relative to source)
    problems: tuple[Skip, ...]  # whole files or datasets that cannot be used
    superseded_attempts: tuple[str, ...]
    warnings: tuple[str, ...]
    image_files: int = 0  # PNG/JPEG files in the listing: a size hint, not the example count


def read_json(uri: str) -> Any:
    """Parse a JSON file; FormatError names the file and what is wrong."""
    try:
        data = uris.read_bytes(uri)
    except FileNotFoundError as err:
        raise FormatError(uri, "file not found") from err
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise FormatError(uri, f"invalid JSON ({err}); the file may be truncated") from err


def make_plan(source: str, output: str | None = None, fmt: str = "auto",
              box_definition_id: str | None = None, reference_labels: dict[int, str] | None = None) -> Plan:
    """List ``source`` (leaving out ``output``), find datasets and build the label map.

    With ``reference_labels`` (another conversion's label map) ids are taken from it by class
    name, so that real photos and synthetic data share ids; other classes are dropped and counted.
    """
    files = list(uris.iter_files(source))
    if not files and not uris.exists(source):
        raise NoDatasetError(f"source {source} does not exist")
    # Earlier results (the default SOURCE/output, or OUT) must never be read back as input.
    excluded = {"output", _relative(output, source) if output else None} - {None, ""}
    files = [f for f in files if not any(f == e or f.startswith(e + "/") for e in excluded)]
    found = discover(files, fmt)
    logger.info("Listed %d files under %s: %d Perception/SOLO datasets, %d other JSON candidates",
                len(files), source, len(found.datasets), len(found.json_candidates))
    problems: list[Skip] = []
    plans: list[DatasetPlan] = []
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda d: _definitions(source, d, box_definition_id), found.datasets))
        candidates = list(pool.map(lambda p: _candidate(source, p, files, fmt), found.json_candidates))
    for result in results + candidates:
        if isinstance(result, Skip):
            problems.append(result)
        elif result is not None:
            plans.append(result)
    if not plans:
        looked = {"auto": "Perception (Dataset*/captures_*.json), SOLO (sequence.*/step*.frame_data.json), "
                          "COCO or UnityGroceries-Real JSON",
                  "perception": "Perception datasets (Dataset*/captures_*.json)",
                  "solo": "SOLO datasets (sequence.*/step*.frame_data.json)",
                  "coco": "COCO JSON (images/annotations/categories)",
                  "unity-real": "UnityGroceries-Real annotations.json"}[fmt]
        detail = "".join(f"\n  {p.path}: {p.detail}" for p in problems[:10])
        raise NoDatasetError(f"no usable dataset under {source}: looked for {looked} "
                             f"in {len(files)} files{detail}")
    if reference_labels:
        labels, warnings = dict(reference_labels), []
        names = set(labels.values())
        for p in plans:
            unknown = sorted(set(p.spec.values()) - names)
            if unknown:
                warnings.append(f"{p.ref.root or '.'}: classes not in the reference label map, their "
                                f"boxes are dropped: {', '.join(unknown)}")
    else:
        labels, warnings = merge_specs((p.ref.root or ".", p.spec) for p in plans)
    for w in warnings:
        logger.warning("%s", w)
    units = tuple((i, f) for i, p in enumerate(plans) for f in p.ref.annotation_files)
    formats = sorted({p.ref.format for p in plans})
    image_files = sum(f.lower().endswith((".png", ".jpg", ".jpeg")) for f in files)
    return Plan(source, "+".join(formats), tuple(plans), labels, units, tuple(problems),
                found.superseded_attempts, tuple(warnings), image_files)


def _definitions(source: str, ref: DatasetRef, box_definition_id: str | None) -> DatasetPlan | Skip:
    where = ref.root or "."
    if ref.definitions is None:
        return Skip(where, "no_definitions", f"{ref.format} dataset at {where} has no annotation_definitions.json "
                                            "(the simulation may have been killed before writing it)")
    try:
        doc = read_json(uris.join(source, ref.definitions))
        reader = perception if ref.format == "perception" else solo
        definition_id, spec = reader.box_definition(doc, ref.definitions, box_definition_id)
    except FormatError as err:
        return Skip(where, "bad_definitions", str(err))
    return DatasetPlan(ref, definition_id, spec)


def _candidate(source: str, path: str, files: list[str], fmt: str) -> DatasetPlan | Skip | None:
    try:
        doc = read_json(uris.join(source, path))
    except FormatError as err:
        return Skip(path, "bad_json", str(err)) if fmt in ("coco", "unity-real") or \
            posixpath.basename(path) == "annotations.json" else None
    root = posixpath.dirname(path)
    file_set = set(files)
    try:
        if coco.is_coco(doc) and fmt in ("auto", "coco"):
            names = [i.get("file_name", "") for i in doc["images"][:20] if isinstance(i, dict)]
            ref = DatasetRef("coco", root, (path,), path, image_prefix(path, names, file_set))
            return DatasetPlan(ref, None, coco.categories(doc, path))
        if coco.is_unity_real(doc) and fmt in ("auto", "unity-real"):
            definitions = posixpath.join(root, "annotation_definitions.json")
            if definitions not in file_set:
                return Skip(path, "no_definitions", f"{path}: UnityGroceries-Real layout needs "
                                                    f"{definitions} for its labels")
            spec = coco.real_labels(read_json(uris.join(source, definitions)), definitions)
            names = [i.get("file_name", "") for i in doc[:20] if isinstance(i, dict)]
            ref = DatasetRef("unity-real", root, (path,), definitions, image_prefix(path, names, file_set))
            return DatasetPlan(ref, None, spec, _native_size(source, ref, doc, file_set))
    except FormatError as err:
        return Skip(path, "bad_definitions", str(err))
    return None


def _native_size(source: str, ref: DatasetRef, doc: list, file_set: set[str],
                 sample: int = 5) -> tuple[int, int] | None:
    """The camera size when a UnityGroceries-Real copy holds smaller images than its boxes were drawn on.

    Boxes reaching past every sampled stored image, yet within the native 5184x3456 frame, mean
    the images were downscaled after annotation: the boxes are scaled per image instead of being
    clipped away. A few image headers decide, before any worker starts.
    """
    right, bottom = coco.box_extents(doc)
    folder = posixpath.join(ref.root, ref.image_prefix) if ref.image_prefix else ref.root
    sizes = []
    for record in doc:
        name = record.get("file_name") if isinstance(record, dict) else None
        path = posixpath.join(folder, name) if isinstance(name, str) else None
        if path in file_set:
            try:
                info = image_info(uris.read_bytes(uris.join(source, path)))
            except ImageError:
                continue  # the encode step reports it
            sizes.append(sorted((info.width, info.height), reverse=True))
            if len(sizes) == sample:
                break
    if not sizes:
        return None
    stored_long, stored_short = max(s[0] for s in sizes), max(s[1] for s in sizes)
    native_long, native_short = coco.GROCERIES_NATIVE_SIZE
    longest, shortest = max(right, bottom), min(right, bottom)
    slack = 1.01
    if longest <= stored_long * slack and shortest <= stored_short * slack:
        return None
    if longest > native_long * slack or shortest > native_short * slack:
        return None
    logger.warning("%s: boxes reach %.0fx%.0f but the images are at most %dx%d: taking boxes as drawn on the "
                   "native %dx%d camera frames and scaling them to each image", ref.annotation_files[0],
                   right, bottom, stored_long, stored_short, native_long, native_short)
    return coco.GROCERIES_NATIVE_SIZE


def parse_unit(dataset: DatasetPlan, path: str, doc: Any) -> Iterator[Frame | Skip]:
    """Frames of one annotation file, with paths relative to the dataset root."""
    ref = dataset.ref
    if ref.format == "perception":
        yield from perception.parse_captures(doc, path, dataset.definition_id, dataset.spec)
    elif ref.format == "solo":
        rel = path[len(ref.root) + 1:] if ref.root else path
        yield from solo.parse_frame(doc, path, posixpath.dirname(rel), dataset.definition_id, dataset.spec)
    elif ref.format == "coco":
        yield from coco.parse_coco(doc, path, ref.image_prefix, dataset.spec)
    elif ref.format == "unity-real":
        yield from coco.parse_unity_real(doc, path, ref.image_prefix, dataset.spec, dataset.native_size)
    else:
        raise ValueError(f"unknown dataset format {ref.format!r}")


def _relative(path: str, root: str) -> str | None:
    """``path`` relative to ``root`` if it lies inside it, else None."""
    if uris.is_gcs(path) != uris.is_gcs(root):
        return None
    if not uris.is_gcs(path):
        import os

        rel = os.path.relpath(os.path.abspath(path), os.path.abspath(root))
        return None if rel.startswith("..") else rel.replace(os.sep, "/")
    root_prefix = root.rstrip("/") + "/"
    return path[len(root_prefix):].rstrip("/") if path.startswith(root_prefix) else None
