"""Read detection TFRecords (formats.md 5.1) with tf.data, the way the trainer's decoder sees them.

Local:  ``for ex in read_examples("out/eval/*.tfrecord"): ...``
Cloud:  the same with ``gs://`` patterns or folders; TensorFlow reads ``gs://`` itself.

Shards are read round-robin (one record from each in turn), so the first records of a read already
span every shard; parsing (and, when asked, decoding) runs in parallel.
"""
from __future__ import annotations

import logging
import os
from typing import Iterable, Iterator, Sequence

import numpy as np
import tensorflow as tf

from components.common import example_keys as keys
from components.common import manifest
from components.common.example import Example, example_from_features
from components.common.plain_records import match_files

logger = logging.getLogger(__name__)

MAX_CYCLE = 64


class ImageDecodeError(ValueError):
    """A record whose ``image/encoded`` does not decode (a PNG or JPEG header over damaged bytes)."""

_DTYPES = {keys.BYTES: tf.string, keys.INT64: tf.int64, keys.FLOAT: tf.float32}
_DEFAULTS = {keys.BYTES: "", keys.INT64: 0}


def _feature(key: str) -> tf.io.FixedLenFeature | tf.io.VarLenFeature:
    kind = keys.KINDS[key]
    if key not in keys.PER_IMAGE:
        return tf.io.VarLenFeature(_DTYPES[kind])
    if key == keys.ENCODED:  # required: a record without an image is refused
        return tf.io.FixedLenFeature((), _DTYPES[kind])
    return tf.io.FixedLenFeature((), _DTYPES[kind], default_value=_DEFAULTS[kind])


_FEATURES = {key: _feature(key) for key in keys.READ}


def _parse_fn(decode: bool):
    def parse(file: tf.Tensor, serialized: tf.Tensor) -> dict[str, tf.Tensor]:
        parsed = tf.io.parse_single_example(serialized, _FEATURES)
        out = {"file": file, "serialized": serialized}
        for key, value in parsed.items():
            out[key] = tf.sparse.to_dense(value) if isinstance(value, tf.sparse.SparseTensor) else value
        if decode:
            out["image"] = tf.io.decode_image(parsed[keys.ENCODED], channels=3, expand_animations=False)
        return out

    return parse


def _to_example(item: dict) -> Example:
    def values(key: str):
        value = item[key]
        return [value] if np.ndim(value) == 0 else value

    return example_from_features(item["file"].decode("utf-8", errors="replace"), item["serialized"], values,
                                 item.get("image"))


def check_manifest(patterns: str | Sequence[str]) -> None:
    """Shards of a conversion output with ``manifest.json`` must be its published ones, whole.

    Raises:
        ValueError (``ManifestError``): a shard is missing, changed or not listed, naming it.
    """
    for pattern in [patterns] if isinstance(patterns, str) else patterns:
        manifest.check_data(pattern)


def read_examples(patterns: str | Sequence[str], *, decode: bool = False, limit: int = 0) -> Iterator[Example]:
    """Parse every record (or the first ``limit``) of the matched files, shards interleaved.

    Args:
        patterns: glob(s), folder(s) or file(s), local or gs://.
        decode: also decode ``image/encoded`` to ``Example.image`` (uint8 HxWx3).
        limit: stop after this many records; 0 reads all.

    Raises:
        ValueError: no file matches, the shards disagree with their conversion's ``manifest.json``,
            or a record is corrupt or lacks ``image/encoded``; ``ImageDecodeError`` when ``decode``
            and an image does not decode, naming the shard, record index, image/filename and source_id.
    """
    check_manifest(patterns)
    files = match_files(patterns)
    logger.info("Reading %d TFRecord file(s): %s%s", len(files), files[0], " ..." if len(files) > 1 else "")
    dataset = _records(files, limit).map(_parse_fn(decode), num_parallel_calls=tf.data.AUTOTUNE,
                                         deterministic=True)
    iterator = dataset.prefetch(tf.data.AUTOTUNE).as_numpy_iterator()
    count = 0
    while True:
        try:
            item = next(iterator)
        except StopIteration:
            return
        except (tf.errors.DataLossError, tf.errors.InvalidArgumentError) as err:
            if decode:  # results come in order: the record that failed is the next one
                _check_images_from(files, limit, count)
            where = ", ".join(os.path.basename(f) for f in files[:5])
            raise ValueError(f"unreadable record in {where}{' ...' if len(files) > 5 else ''}: "
                             f"{err.message}") from err
        count += 1
        yield _to_example(item)


def _records(files: list[str], limit: int = 0) -> tf.data.Dataset:
    """(file, serialized record) of the files, one record from each in turn."""
    dataset = tf.data.Dataset.from_tensor_slices(files).interleave(
        lambda f: tf.data.TFRecordDataset(f).map(lambda r: (f, r)),
        cycle_length=min(len(files), MAX_CYCLE), block_length=1,
        num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.take(limit) if limit else dataset


def record_index(file: str, serialized: bytes) -> int | None:
    """The position of a record in its file (0-based), by its bytes; None when it is not there."""
    for index, record in enumerate(tf.data.TFRecordDataset(file).as_numpy_iterator()):
        if record == serialized:
            return index
    return None


def check_images(examples: Iterable[Example]) -> None:
    """Raises ``ImageDecodeError`` for the first example whose ``image/encoded`` does not decode.

    The message names the shard, the record's index in it, its ``image/filename`` and ``image/source_id``.
    """
    for ex in examples:
        try:
            tf.io.decode_image(ex.encoded, channels=3, expand_animations=False)
        except tf.errors.InvalidArgumentError as err:
            index = record_index(ex.file, ex.serialized)
            raise ImageDecodeError(f"{ex.file} record {index if index is not None else '?'} (image/filename "
                                   f"{ex.filename!r}, image/source_id {ex.source_id!r}): image/encoded does not "
                                   f"decode: {err.message}") from None


def _check_images_from(files: list[str], limit: int, start: int) -> None:
    """``check_images`` on the records from position ``start`` of a read (after a failed decode)."""
    undecoded = _records(files, limit).skip(start).map(_parse_fn(False))
    try:
        check_images(_to_example(item) for item in undecoded.as_numpy_iterator())
    except (tf.errors.DataLossError, tf.errors.InvalidArgumentError):
        return  # not an image: the caller names the damaged record


def group_batches(examples: Iterable[Example], batch_size: int,
                  max_pending: int | None = None) -> Iterator[list[Example]]:
    """Batches of examples that share one image size (models stack a batch into one tensor).

    A full batch goes out as soon as it is complete. When more than ``max_pending`` examples
    wait in partial batches (many sizes, as in real photos), the fullest one goes out early.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    max_pending = max_pending or 4 * batch_size
    pending: dict[tuple[int, int], list[Example]] = {}
    waiting = 0
    for example in examples:
        bucket = pending.setdefault((example.height, example.width), [])
        bucket.append(example)
        waiting += 1
        if len(bucket) == batch_size:
            waiting -= len(pending.pop((example.height, example.width)))
            yield bucket
        elif waiting > max_pending:
            key = max(pending, key=lambda k: len(pending[k]))
            out = pending.pop(key)
            waiting -= len(out)
            yield out
    for bucket in pending.values():
        yield bucket
