"""Beam DoFns and composites of the conversion: parse JSON, drop duplicates, encode and write, summarise.

Parallelism follows the images: JSON files are spread over workers, then frames are grouped by
image key (which drops an image listed twice and spreads the images over workers), and each
worker reads, encodes and writes its images in one fused stage. Image bytes never pass through a
shuffle: each bundle writes its own shard files in a temporary folder, and only their names
travel on to the finalize step.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import posixpath
import uuid
from collections import Counter
from dataclasses import dataclass

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.transforms.window import GlobalWindow
from apache_beam.utils.windowed_value import WindowedValue

from components.common import uris
from components.common.logs import Progress
from components.convert.examples import BOXES_RESCALED, WARNINGS, Encoded, ObjectRow, encode
from components.convert.frames import FormatError, Frame, Skip
from components.convert.images import ImageError
from components.convert.plan import Plan, parse_unit, read_json
from components.convert.split import split_key, split_of

NAMESPACE = "synthdet.convert"
ERRORS = "errors"
LOST = "lost"  # whole annotation files that could not be used
SENSORS = "sensors"  # captures of sensors left out on purpose (not rejected images)
DUPLICATE = "duplicate_image"
# Parse-stage skips that stand for a whole annotation file, whatever their ``images``.
FILE_REASONS = frozenset({"bad_json", "bad_annotation_file", "bad_definitions", "no_definitions"})
SENSOR_REASONS = frozenset({"sensor_without_boxes", "sensor_not_selected"})
MAX_LOST_LISTED = 20
logger = logging.getLogger(__name__)


def error(file: str, stage: str, reason: str, detail: str = "") -> dict:
    """One line of ``errors.jsonl``."""
    return {"file": file, "stage": stage, "reason": reason, "detail": detail}


def lost_file(file: str, reason: str, images: int | None) -> dict:
    """An annotation file lost whole: ``images`` it held, None when unknown."""
    return {"file": file, "reason": reason, "images": images}


def is_lost_file(skip: Skip) -> bool:
    return skip.images is not None or skip.reason in FILE_REASONS


@dataclass(frozen=True)
class Written:
    """What the finalize step needs to know about one written example (no image bytes)."""

    split: str
    key: str
    source_id: int
    width: int
    height: int
    objects: tuple[ObjectRow, ...]
    dropped: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    sensor: str | None = None


@dataclass(frozen=True)
class Shard:
    split: str
    path: str
    records: int


UNITS_PER_CHUNK = 500


def stage_units(units: tuple[tuple[int, str], ...], temp_dir: str) -> list[str]:
    """Write the (dataset, annotation file) list as small JSON chunks; returns their URIs.

    A run execution can hold hundreds of thousands of SOLO frame files: listing them in the
    job graph would overflow Dataflow's request size, so the graph carries only chunk names.
    """
    chunks = []
    for start in range(0, len(units), UNITS_PER_CHUNK):
        uri = uris.join(temp_dir, "units", f"{start // UNITS_PER_CHUNK:06d}.json")
        uris.write_text(uri, json.dumps(units[start:start + UNITS_PER_CHUNK]))
        chunks.append(uri)
    return chunks


def read_units(chunk_uri: str):
    for index, path in json.loads(uris.read_text(chunk_uri)):
        yield index, path


class ParseFn(beam.DoFn):
    """(dataset index, annotation file) -> (image key, Frame).

    Problems go to the errors output; a file lost whole also to the lost output, and captures of
    sensors left out on purpose to the sensors output as (sensor id, reason). An image listed
    twice in one file keeps its first entry.
    """

    def __init__(self, plan: Plan) -> None:
        self.source = plan.source
        # The file lists already travel as unit chunks; keep the pickled DoFn small.
        self.datasets = tuple(dataclasses.replace(d, ref=dataclasses.replace(d.ref, annotation_files=()))
                              for d in plan.datasets)

    def process(self, unit):
        index, path = unit
        dataset = self.datasets[index]
        try:
            doc = read_json(uris.join(self.source, path))
            items = list(parse_unit(dataset, path, doc))
        except FormatError as err:
            Metrics.counter(NAMESPACE, "bad_json").inc()
            logger.warning("Lost annotation file %s (bad_json): %s", path, err.problem)
            yield beam.pvalue.TaggedOutput(ERRORS, error(path, "parse", "bad_json", err.problem))
            yield beam.pvalue.TaggedOutput(LOST, lost_file(path, "bad_json", None))
            return
        Metrics.counter(NAMESPACE, "json_files").inc()
        seen: set[str] = set()
        for item in items:
            if isinstance(item, Skip):
                Metrics.counter(NAMESPACE, item.reason).inc()
                if item.reason in SENSOR_REASONS:
                    yield beam.pvalue.TaggedOutput(SENSORS, (item.detail, item.reason))
                    continue
                yield beam.pvalue.TaggedOutput(ERRORS, error(item.path, "parse", item.reason, item.detail))
                if is_lost_file(item):
                    logger.warning("Lost annotation file %s (%s, %s images): %s", item.path, item.reason,
                                   "unknown" if item.images is None else item.images, item.detail)
                    yield beam.pvalue.TaggedOutput(LOST, lost_file(item.path, item.reason, item.images))
                continue
            key = posixpath.join(dataset.ref.root, item.path) if dataset.ref.root else item.path
            if key in seen:
                Metrics.counter(NAMESPACE, DUPLICATE).inc()
                yield beam.pvalue.TaggedOutput(ERRORS, error(key, "parse", DUPLICATE,
                                                             f"listed again in {path}; kept its first entry"))
                continue
            seen.add(key)
            yield key, item


def pick_entry(item):
    """(image key, its Frames) -> (key, the Frame kept), then one error per other entry.

    The entry from the annotation file whose path sorts first wins, so the choice does not
    depend on the order in which workers read the files.
    """
    key, frames = item
    ordered = sorted(frames, key=lambda f: (f.source, repr(f)))
    kept = ordered[0]
    yield key, kept
    for other in ordered[1:]:
        Metrics.counter(NAMESPACE, DUPLICATE).inc()
        yield beam.pvalue.TaggedOutput(ERRORS, error(key, "dedupe", DUPLICATE,
                                                     f"listed again in {other.source}; kept the entry "
                                                     f"from {kept.source}"))


class EncodeAndWriteFn(beam.DoFn):
    """Reads each image, encodes its record and appends it to this bundle's shard for its split."""

    def __init__(self, source: str, temp_dir: str, labels: dict[int, str], eval_pct: float,
                 max_shard_bytes: int = 256 << 20, image_sha256: bool = False) -> None:
        self.source, self.temp_dir, self.eval_pct = source, temp_dir, eval_pct
        self.image_sha256 = image_sha256
        self.label_ids = {name: i for i, name in labels.items()}
        self.max_shard_bytes = max_shard_bytes

    def setup(self) -> None:
        self._progress = Progress(logger, "images encoded", every=500, seconds=30)
        self._written = Metrics.counter(NAMESPACE, "examples_written")

    def start_bundle(self) -> None:
        self._open: dict[str, list] = {}  # split -> [file, path, records, bytes]
        self._done: list[Shard] = []

    def process(self, item):
        key, frame = item
        uri = uris.join(self.source, key)
        try:
            data = uris.read_bytes(uri)
            encoded = encode(key, frame, data, self.label_ids, sha256=self.image_sha256)
        except FileNotFoundError:
            Metrics.counter(NAMESPACE, "missing_image").inc()
            yield beam.pvalue.TaggedOutput(ERRORS, error(key, "encode", "missing_image",
                                                         f"{uri} does not exist (named in {frame.source})"))
            return
        except ImageError as err:
            Metrics.counter(NAMESPACE, "bad_image").inc()
            yield beam.pvalue.TaggedOutput(ERRORS, error(key, "encode", "bad_image", f"{uri}: {err}"))
            return
        if frame.stated_size and frame.stated_size != (encoded.width, encoded.height):
            Metrics.counter(NAMESPACE, "size_mismatch").inc()
            logger.warning("%s: JSON says %dx%d, image header says %dx%d; using the header", key,
                           *frame.stated_size, encoded.width, encoded.height)
        split = split_of(split_key(key, frame.group), self.eval_pct)
        self._append(split, encoded)
        self._written.inc()
        self._progress.add()
        for reason in encoded.dropped:
            Metrics.counter(NAMESPACE, f"dropped_{reason}").inc()
        for reason in encoded.warnings:
            Metrics.counter(NAMESPACE, reason).inc()
            if reason != BOXES_RESCALED:  # a dataset-wide choice, logged once by the plan
                logger.warning("%s: %s", uri, WARNINGS[reason])
        yield Written(split, key, encoded.source_id, encoded.width, encoded.height,
                      encoded.objects, encoded.dropped, encoded.warnings, frame.sensor)

    def _append(self, split: str, encoded: Encoded) -> None:
        state = self._open.get(split)
        if state is None or state[3] >= self.max_shard_bytes:
            if state is not None:
                self._close(split)
            path = uris.join(self.temp_dir, split, f"{uuid.uuid4().hex}.tfrecord")
            state = self._open[split] = [uris.open_write(path), path, 0, 0]
        state[0].writelines(encoded.chunks)
        state[2] += 1
        state[3] += encoded.size

    def _close(self, split: str) -> None:
        handle, path, records, _ = self._open.pop(split)
        handle.close()
        self._done.append(Shard(split, path, records))

    def finish_bundle(self):
        for split in list(self._open):
            self._close(split)
        for shard in self._done:
            yield WindowedValue(shard, GlobalWindow().max_timestamp(), [GlobalWindow()])


class StatsFn(beam.CombineFn):
    """Counts per split, class, image size and dropped-box reason, from ``Written`` elements."""

    def create_accumulator(self) -> dict:
        return {"examples": Counter(), "objects": Counter(), "per_class": Counter(),
                "sizes": Counter(), "dropped": Counter(), "negatives": Counter(), "warnings": Counter(),
                "sensors": Counter()}

    def add_input(self, acc: dict, w: Written) -> dict:
        acc["examples"][w.split] += 1
        acc["objects"][w.split] += len(w.objects)
        acc["per_class"].update(o.name for o in w.objects)
        acc["sizes"][f"{w.width}x{w.height}"] += 1
        acc["dropped"].update(w.dropped)
        acc["warnings"].update(w.warnings)
        if w.sensor is not None:
            acc["sensors"][w.sensor] += 1
        if not w.objects:
            acc["negatives"][w.split] += 1
        return acc

    def merge_accumulators(self, accs) -> dict:
        out = self.create_accumulator()
        for acc in accs:
            for name, counter in acc.items():
                out[name].update(counter)
        return out

    def extract_output(self, acc: dict) -> dict:
        return {name: dict(counter) for name, counter in acc.items()}


class ErrorsFn(beam.CombineFn):
    """Counts errors per reason and keeps the first ``per_reason`` of each (by file) to list.

    A wholly broken source can reject every one of a million frames: the counts stay exact while
    ``errors.jsonl`` and the finalize step's memory stay bounded.
    """

    def __init__(self, per_reason: int = 1000) -> None:
        self.per_reason = per_reason

    def create_accumulator(self) -> dict:
        return {}  # reason -> [count, kept errors]

    def add_input(self, acc: dict, e: dict) -> dict:
        entry = acc.setdefault(e["reason"], [0, []])
        entry[0] += 1
        entry[1].append(e)
        if len(entry[1]) >= 2 * self.per_reason:
            entry[1] = self._first(entry[1])
        return acc

    def merge_accumulators(self, accs) -> dict:
        out: dict = {}
        for acc in accs:
            for reason, (count, kept) in acc.items():
                entry = out.setdefault(reason, [0, []])
                entry[0] += count
                entry[1] = self._first(entry[1] + kept)
        return out

    def extract_output(self, acc: dict) -> dict:
        return {"counts": {reason: count for reason, (count, _) in sorted(acc.items())},
                "listed": [e for reason in sorted(acc) for e in self._first(acc[reason][1])]}

    def _first(self, errors: list[dict]) -> list[dict]:
        return sorted(errors, key=lambda e: (e["file"], e["stage"], e["detail"]))[:self.per_reason]


class LostFilesFn(beam.CombineFn):
    """Whole annotation files lost: how many, the images known to be in them, the first few by name."""

    def __init__(self, listed: int = MAX_LOST_LISTED) -> None:
        self.listed = listed

    def create_accumulator(self) -> dict:
        return {"count": 0, "images": 0, "unknown": 0, "files": []}

    def add_input(self, acc: dict, lost: dict) -> dict:
        acc["count"] += 1
        if lost["images"] is None:
            acc["unknown"] += 1
        else:
            acc["images"] += lost["images"]
        acc["files"] = self._first(acc["files"] + [lost])
        return acc

    def merge_accumulators(self, accs) -> dict:
        out = self.create_accumulator()
        for acc in accs:
            for name in ("count", "images", "unknown"):
                out[name] += acc[name]
            out["files"] = self._first(out["files"] + acc["files"])
        return out

    def extract_output(self, acc: dict) -> dict:
        return acc

    def _first(self, files: list[dict]) -> list[dict]:
        return sorted(files, key=lambda f: (f["file"], f["reason"]))[:self.listed]


@beam.ptransform_fn
def ReadFrames(pbegin, plan: Plan, unit_chunks: list[str]):  # noqa: N802 (a composite's name)
    """Annotation files -> frames, errors, lost files and sensor skips, files spread over workers.

    Returns a tagged result: ``frames`` ((image key, Frame)), ``errors``, ``lost`` and ``sensors``.
    """
    return (pbegin
            | "UnitChunks" >> beam.Create(unit_chunks)
            | "AnnotationFiles" >> beam.FlatMap(read_units)
            | "SpreadFiles" >> beam.Reshuffle()
            | "Parse" >> beam.ParDo(ParseFn(plan)).with_outputs(ERRORS, LOST, SENSORS, main="frames"))


@beam.ptransform_fn
def DedupeFrames(frames):  # noqa: N802
    """(image key, Frame) -> one (key, Frame) per key, and a ``duplicate_image`` error per other entry.

    The grouping also spreads the images over workers for the encode step (it takes the place of a
    reshuffle); only frames, never image bytes, travel through it.
    """
    out = (frames
           | "GroupByImage" >> beam.GroupByKey()
           | "PickEntry" >> beam.FlatMap(pick_entry).with_outputs(ERRORS, main="frames"))
    return out.frames, out[ERRORS]


@beam.ptransform_fn
def EncodeExamples(frames, source: str, temp_dir: str, labels: dict[int, str], eval_pct: float,  # noqa: N802
                   image_sha256: bool = False):
    """(image key, Frame) -> Written summaries, Shard names and errors; the records go to files.

    Expects one frame per key, spread over workers (DedupeFrames' output).
    """
    fn = EncodeAndWriteFn(source, temp_dir, labels, eval_pct, image_sha256=image_sha256)
    out = frames | "EncodeAndWrite" >> beam.ParDo(fn).with_outputs(ERRORS, main="written")
    written = out.written | "OnlyWritten" >> beam.Filter(lambda w: isinstance(w, Written))
    shards = out.written | "OnlyShards" >> beam.Filter(lambda s: isinstance(s, Shard))
    return written, shards, out[ERRORS]
