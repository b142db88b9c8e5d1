"""What a conversion will read: datasets, their label specs, the JSON files to parse.

Runs in the launching process before the Beam job: it lists the source once, reads the small
definition files, and fixes one label map, so that a bad source fails before any worker starts.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import os
import posixpath
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Iterator

from components.common import uris
from components.convert.discover import (DatasetRef, coco_name, detection_files, discover, image_prefix,
                                         locate_images)
from components.convert.formats import REGISTRY, coco, solo
from components.convert.frames import DatasetPlan, FormatError, Frame, Skip, UnsafePathError, safe_relpath
from components.convert.images import ImageError, image_info
from components.convert.labels import merge_specs

logger = logging.getLogger(__name__)


class NoDatasetError(ValueError):
    """Nothing convertible was found under the source."""


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
    image_bytes: int = 0  # their bytes: what reading, checking and writing them costs (options.auto_mode)


# A reader that meets a value of a type it did not expect loses that file, not the run.
MALFORMED = (FormatError, TypeError, ValueError, KeyError, AttributeError, IndexError, RecursionError)


def read_json(uri: str) -> Any:
    """Parse a JSON file; FormatError names the file and what is wrong."""
    try:
        data = uris.read_bytes(uri)
    except FileNotFoundError as err:
        raise FormatError(uri, "file not found") from err
    try:
        return json.loads(data)
    except UnicodeDecodeError as err:
        raise FormatError(uri, f"not UTF-8 text ({err})") from err
    except RecursionError as err:
        raise FormatError(uri, "JSON nested too deeply to read") from err
    except ValueError as err:
        raise FormatError(uri, f"invalid JSON ({err}); the file may be truncated") from err


def make_plan(source: str, output: str | None = None, fmt: str = "auto",
              box_definition_id: str | None = None, reference_labels: dict[int, str] | None = None,
              sensors: tuple[str, ...] = ()) -> Plan:
    """List ``source`` (leaving out ``output``), find datasets and build the label map.

    With ``reference_labels`` (another conversion's label map) ids are taken from it by class
    name, so that real photos and synthetic data share ids; other classes are dropped and counted.
    ``sensors`` limits Perception and SOLO datasets to those sensor ids.
    """
    sized = dict(uris.iter_sized_files(source))
    files = list(sized)
    if not files and not uris.exists(source):
        raise NoDatasetError(f"source {source} does not exist")
    # Earlier results (the default SOURCE/output, or OUT) must never be read back as input.
    excluded = {"output", _relative(output, source) if output else None} - {None, ""}
    files = [f for f in files if not any(f == e or f.startswith(e + "/") for e in excluded)]
    local_root = None if uris.is_gcs(source) else os.path.realpath(uris.local_path(source))
    problems: list[Skip] = []
    if local_root is not None:
        files, outside = _inside(local_root, files)
        problems += [Skip(f, "unsafe_path", f"{f} is a link to {real}, outside the dataset; not read")
                     for f, real in outside if not f.lower().endswith(_IMAGE_EXTENSIONS)]
        if outside:
            logger.warning("%d files under %s are links that leave it, e.g. %s; they are not read",
                           len(outside), source, outside[0][0])
    found = discover(files, fmt)
    logger.info("Listed %d files under %s: %d Perception/SOLO datasets, %d other JSON candidates",
                len(files), source, len(found.datasets), len(found.json_candidates))
    plans: list[DatasetPlan] = []
    json_files, left_out = detection_files(found.json_candidates)
    for path, why in left_out:
        logger.info("%s: not read (%s)", path, why)
    with ThreadPoolExecutor(max_workers=16) as pool:
        file_set = set(files)
        results = list(pool.map(lambda d: _definitions(source, d, box_definition_id, file_set), found.datasets))
        candidates = list(pool.map(lambda p: _candidate(source, p, file_set, fmt), json_files))
    results += _without_repeats([c for c in candidates if isinstance(c, tuple)])
    for result in results + [c for c in candidates if not isinstance(c, tuple)]:
        if isinstance(result, Skip):
            problems.append(result)
        elif result is not None:
            plans.append(dataclasses.replace(result, sensors=tuple(sensors), local_root=local_root))
    if sensors:
        _check_sensors(source, plans, tuple(sensors), set(files))
    if not plans:
        looked = ", ".join(r.LOOKED_FOR for r in REGISTRY.values()) if fmt == "auto" else REGISTRY[fmt].LOOKED_FOR
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
    images = [f for f in files if f.lower().endswith(_IMAGE_EXTENSIONS)]
    return Plan(source, "+".join(formats), tuple(plans), labels, units, tuple(problems),
                found.superseded_attempts, tuple(warnings), len(images), sum(sized[f] for f in images))


_IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")


def _check_sensors(source: str, plans: list[DatasetPlan], sensors: tuple[str, ...], file_set: set[str]) -> None:
    """Fail before any worker starts when no dataset declares a ``--sensor`` id (a typo would lose every image)."""
    declared: set[str] = set()
    for p in plans:
        reader = REGISTRY[p.ref.format]
        path = reader.sensors_file(p.ref) if hasattr(reader, "sensors_file") else None
        if path in file_set:
            try:
                declared |= reader.declared_sensors(read_json(uris.join(source, path)))
            except FormatError:
                continue
    unknown = [s for s in sensors if s not in declared]
    if declared and len(unknown) == len(sensors):
        raise NoDatasetError(f"--sensor {', '.join(sensors)}: no dataset under {source} has such a sensor; "
                             f"its sensors are {', '.join(sorted(declared))}")
    if declared and unknown:
        logger.warning("--sensor %s: not a sensor of any dataset under %s", ", ".join(unknown), source)


def _inside(root: str, files: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """Split a local listing into files that stay inside ``root`` (a real path) and links that leave it."""
    kept, outside = [], []
    prefix = root.rstrip(os.sep) + os.sep
    for f in files:
        path = os.path.join(root, *f.split("/"))
        # The listing does not enter linked folders, so only a listed file itself can be a link.
        real = os.path.realpath(path) if os.path.islink(path) else path
        if real.startswith(prefix):
            kept.append(f)
        else:
            outside.append((f, real))
    return kept, outside


def _definitions(source: str, ref: DatasetRef, box_definition_id: str | None,
                 file_set: set[str]) -> DatasetPlan | Skip:
    if ref.root_candidates:
        ref = dataclasses.replace(ref, root=_captures_root(source, ref, file_set), root_candidates=())
    where = ref.root or "."
    if ref.definitions is None and ref.format == "solo":
        return _labels_from_values(source, ref, box_definition_id)
    if ref.definitions is None:
        return Skip(where, "no_definitions", f"{ref.format} dataset at {where} has no annotation_definitions.json "
                                            "(the simulation may have been killed before writing it)")
    try:
        doc = read_json(uris.join(source, ref.definitions))
        definition_id, spec = REGISTRY[ref.format].definitions(doc, ref.definitions, box_definition_id)
    except MALFORMED as err:
        return Skip(where, "bad_definitions", _problem(ref.definitions, err))
    return DatasetPlan(ref, definition_id, spec)


def _captures_root(source: str, ref: DatasetRef, file_set: set[str], sample: int = 20) -> str:
    """Of the folders a loose captures file's names may be relative to, the first holding its images."""
    try:
        doc = read_json(uris.join(source, ref.annotation_files[0]))
        captures = doc.get("captures") if isinstance(doc, dict) else None
    except FormatError:
        captures = None  # reported when the file is parsed
    names = [c["filename"] for c in captures[:sample * 5] if isinstance(c, dict)
             and isinstance(c.get("filename"), str)][:sample] if isinstance(captures, list) else []
    for root in ref.root_candidates:
        if names and 2 * sum(posixpath.join(root, n) in file_set for n in names) >= len(names):
            return root
    return ref.root_candidates[0]


def _labels_from_values(source: str, ref: DatasetRef, box_definition_id: str | None) -> DatasetPlan | Skip:
    """SOLO from the 0.x previews, without annotation_definitions.json: labels named in the frames."""
    where = ref.root or "."

    def read(path: str) -> tuple[set[str], dict[int, str]]:
        try:
            return solo.labels_in_frame(read_json(uris.join(source, path)))
        except MALFORMED:
            return set(), {}  # reported when the file is parsed

    with ThreadPoolExecutor(max_workers=16) as pool:
        found = list(pool.map(read, ref.annotation_files))
    ids = sorted(set().union(*(i for i, _ in found)))
    spec: dict[int, str] = {}
    for _, labels in found:
        for label_id, name in labels.items():
            spec.setdefault(label_id, name)
    if box_definition_id is not None:
        ids = [i for i in ids if i == box_definition_id]
    if not ids:
        return Skip(where, "no_definitions", f"SOLO dataset at {where} has no annotation_definitions.json and "
                                            "no BoundingBox2DAnnotation in its frames")
    if len(ids) > 1:
        return Skip(where, "bad_definitions", f"SOLO dataset at {where}: several 2D box annotations "
                                             f"({', '.join(map(repr, ids))}); choose one with --box-definition-id")
    logger.warning("%s: no annotation_definitions.json; took %d labels from the box values of %d frame files",
                   where, len(spec), len(ref.annotation_files))
    return DatasetPlan(ref, ids[0], dict(sorted(spec.items())))


def _problem(path: str, err: Exception) -> str:
    return str(err) if isinstance(err, FormatError) else f"{path}: unexpected structure ({type(err).__name__})"


def _candidate(source: str, path: str, file_set: set[str], fmt: str
               ) -> tuple[DatasetPlan, tuple[str, ...]] | DatasetPlan | Skip | None:
    """A COCO file as (plan, its image keys), a UnityGroceries-Real plan, a Skip, or None: not a dataset."""
    try:
        doc = read_json(uris.join(source, path))
    except FormatError as err:
        return Skip(path, "bad_json", str(err)) if fmt in ("coco", "unity-real") or coco_name(path) or \
            posixpath.basename(path) == "annotations.json" else None
    root = posixpath.dirname(path)
    reader = next((r for r in REGISTRY.values() if r.BY_CONTENT and fmt in ("auto", r.NAME) and r.recognizes(doc)),
                  None)
    if reader is None:
        return None
    try:
        if reader.NAME == "coco":
            if coco.is_captions(doc):
                logger.info("%s: COCO captions, no boxes; not read", path)
                return None
            root, prefix = locate_images(path, _names(doc["images"]), file_set)
            ref = DatasetRef(reader.NAME, root, (path,), path, prefix)
            return DatasetPlan(ref, *reader.definitions(doc, path)), _keys(root, prefix, doc["images"])
        if reader.NAME == "unity-real":
            definitions = posixpath.join(root, "annotation_definitions.json")
            if definitions not in file_set:
                return Skip(path, "no_definitions", f"{path}: UnityGroceries-Real layout needs "
                                                    f"{definitions} for its labels", reader.image_count(doc))
            _, spec = reader.definitions(read_json(uris.join(source, definitions)), definitions)
            ref = DatasetRef(reader.NAME, root, (path,), definitions, image_prefix(path, _names(doc), file_set))
            return DatasetPlan(ref, None, spec, _native_size(source, ref, doc, file_set))
        # Any other format told by content: a file that is its own definitions, images found by name.
        records = doc.get("images") if isinstance(doc, dict) else doc
        root, prefix = locate_images(path, _names(records if isinstance(records, list) else []), file_set)
        return DatasetPlan(DatasetRef(reader.NAME, root, (path,), path, prefix), *reader.definitions(doc, path))
    except MALFORMED as err:
        return Skip(path, "bad_definitions", _problem(path, err), reader.image_count(doc))


def _without_repeats(found: list[tuple[DatasetPlan, tuple[str, ...]]]) -> list[DatasetPlan]:
    """COCO plans, each knowing the images an earlier file of the same folder already holds."""
    seen: dict[str, str] = {}
    plans = []
    for plan, keys in sorted(found, key=lambda pk: _instances_first(pk[0].ref.annotation_files[0])):
        path = plan.ref.annotation_files[0]
        repeats = frozenset(k for k in keys if seen.setdefault(k, path) != path)
        if repeats:
            logger.warning("%s: %d images already in another annotation file; read once", path, len(repeats))
        plans.append(dataclasses.replace(plan, repeats=repeats))
    return plans


def _instances_first(path: str) -> tuple:
    # instances_* first: of the same images, the instances file is the one read.
    name = coco_name(path)
    return (name is None or name[0] != "instances", path)


def _keys(root: str, prefix: str, records: list) -> tuple[str, ...]:
    """The source-relative keys of a COCO file's images (unsafe names left to the parser)."""
    keys = []
    for name in _names(records, len(records)):
        try:
            keys.append(safe_relpath(posixpath.join(root, prefix, name)))
        except UnsafePathError:
            continue
    return tuple(keys)


def _names(records: list, sample: int = 20) -> list[str]:
    """The first string ``file_name`` values of a list of image records."""
    return [r["file_name"] for r in records[:sample] if isinstance(r, dict) and isinstance(r.get("file_name"), str)]


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
    """Frames of one annotation file, with paths relative to the dataset root.

    A file whose structure cannot be read becomes one ``bad_annotation_file`` Skip that says how
    many images it held, when its top level tells.
    """
    ref = dataset.ref
    if ref.format not in REGISTRY:
        raise ValueError(f"unknown dataset format {ref.format!r}")
    try:
        items = list(REGISTRY[ref.format].parse(doc, path, dataset))
    except MALFORMED as err:
        problem = err.problem if isinstance(err, FormatError) else f"unexpected structure ({type(err).__name__})"
        yield Skip(path, "bad_annotation_file", problem, _image_count(ref.format, doc))
        return
    for item in items:
        yield _checked(dataset, item) if isinstance(item, Frame) else item


def _image_count(fmt: str, doc: Any) -> int | None:
    try:
        return REGISTRY[fmt].image_count(doc)
    except MALFORMED:
        return None


def _checked(dataset: DatasetPlan, frame: Frame) -> Frame | Skip:
    """The frame with its group named within the source, or a Skip for an image linked from outside it."""
    root = dataset.ref.root
    key = posixpath.join(root, frame.path) if root else frame.path
    if key in dataset.repeats:
        return Skip(frame.path, "repeated_image", f"{key} (in {frame.source}) is also in another annotation file "
                                                  "of this dataset; read there")
    if dataset.local_root is not None:
        real = os.path.realpath(os.path.join(dataset.local_root, key))
        if not real.startswith(dataset.local_root.rstrip(os.sep) + os.sep):
            return Skip(frame.path, "unsafe_path", f"{key} (named in {frame.source}) is a link to {real}, "
                                                   "outside the dataset")
    if frame.group is not None and root:
        frame = dataclasses.replace(frame, group=f"{root}/{frame.group}")
    return frame


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
