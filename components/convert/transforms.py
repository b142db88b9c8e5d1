"""Beam DoFns and composites of the conversion: parse JSON, encode and write, summarise.

Parallelism follows the images: JSON files are spread over workers, then frames are reshuffled
and each worker reads, encodes and writes its images in one fused stage. Image bytes never pass
through a shuffle: each bundle writes its own shard files in a temporary folder, and only their
names travel on to the finalize step.
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
from components.convert.split import split_of

NAMESPACE = "synthdet.convert"
ERRORS = "errors"
logger = logging.getLogger(__name__)


def error(file: str, stage: str, reason: str, detail: str = "") -> dict:
    """One line of ``errors.jsonl``."""
    return {"file": file, "stage": stage, "reason": reason, "detail": detail}


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
    """(dataset index, annotation file) -> (image key, Frame); problems go to the errors output."""

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
            yield beam.pvalue.TaggedOutput(ERRORS, error(path, "parse", "bad_json", err.problem))
            return
        Metrics.counter(NAMESPACE, "json_files").inc()
        for item in items:
            if isinstance(item, Skip):
                Metrics.counter(NAMESPACE, item.reason).inc()
                yield beam.pvalue.TaggedOutput(ERRORS, error(item.path, "parse", item.reason, item.detail))
            else:
                key = posixpath.join(dataset.ref.root, item.path) if dataset.ref.root else item.path
                yield key, item


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
        split = split_of(key, self.eval_pct)
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
                      encoded.objects, encoded.dropped, encoded.warnings)

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
                "sizes": Counter(), "dropped": Counter(), "negatives": Counter(), "warnings": Counter()}

    def add_input(self, acc: dict, w: Written) -> dict:
        acc["examples"][w.split] += 1
        acc["objects"][w.split] += len(w.objects)
        acc["per_class"].update(o.name for o in w.objects)
        acc["sizes"][f"{w.width}x{w.height}"] += 1
        acc["dropped"].update(w.dropped)
        acc["warnings"].update(w.warnings)
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


class ReadFrames(beam.PTransform):
    """Annotation files -> (image key, Frame), spread evenly over workers; errors tagged."""

    def __init__(self, plan: Plan, unit_chunks: list[str]) -> None:
        super().__init__()
        self.plan, self.unit_chunks = plan, unit_chunks

    def expand(self, pbegin):
        parsed = (pbegin
                  | "UnitChunks" >> beam.Create(self.unit_chunks)
                  | "AnnotationFiles" >> beam.FlatMap(read_units)
                  | "SpreadFiles" >> beam.Reshuffle()
                  | "Parse" >> beam.ParDo(ParseFn(self.plan)).with_outputs(ERRORS, main="frames"))
        return parsed.frames, parsed[ERRORS]


class EncodeExamples(beam.PTransform):
    """(image key, Frame) -> Written summaries, Shard names and errors; the records go to files."""

    def __init__(self, source: str, temp_dir: str, labels: dict[int, str], eval_pct: float,
                 image_sha256: bool = False) -> None:
        super().__init__()
        self.fn = EncodeAndWriteFn(source, temp_dir, labels, eval_pct, image_sha256=image_sha256)

    def expand(self, frames):
        out = (frames
               | "SpreadImages" >> beam.Reshuffle()
               | "EncodeAndWrite" >> beam.ParDo(self.fn).with_outputs(ERRORS, main="written"))
        written = out.written | "OnlyWritten" >> beam.Filter(lambda w: isinstance(w, Written))
        shards = out.written | "OnlyShards" >> beam.Filter(lambda s: isinstance(s, Shard))
        return written, shards, out[ERRORS]
