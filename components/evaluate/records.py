"""Read detection TFRecords (formats.md 5.1) with tf.data, the way the trainer's decoder sees them.

Local:  ``for ex in read_examples("out/eval/*.tfrecord"): ...``
Cloud:  the same with ``gs://`` patterns or folders; TensorFlow reads ``gs://`` itself.

Shards are read round-robin (one record from each in turn), so the first records of a read already
span every shard; parsing (and, when asked, decoding) runs in parallel.
"""
from __future__ import annotations

import io
import logging
import os
from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

import numpy as np
import tensorflow as tf

logger = logging.getLogger(__name__)

RECORD_SUFFIX = "*.tfrecord*"
MAX_CYCLE = 64

_FEATURES = {
    "image/encoded": tf.io.FixedLenFeature((), tf.string),
    "image/format": tf.io.FixedLenFeature((), tf.string, default_value=""),
    "image/height": tf.io.FixedLenFeature((), tf.int64, default_value=0),
    "image/width": tf.io.FixedLenFeature((), tf.int64, default_value=0),
    "image/filename": tf.io.FixedLenFeature((), tf.string, default_value=""),
    "image/source_id": tf.io.FixedLenFeature((), tf.string, default_value=""),
    "image/object/bbox/xmin": tf.io.VarLenFeature(tf.float32),
    "image/object/bbox/xmax": tf.io.VarLenFeature(tf.float32),
    "image/object/bbox/ymin": tf.io.VarLenFeature(tf.float32),
    "image/object/bbox/ymax": tf.io.VarLenFeature(tf.float32),
    "image/object/class/label": tf.io.VarLenFeature(tf.int64),
    "image/object/class/text": tf.io.VarLenFeature(tf.string),
    "image/object/area": tf.io.VarLenFeature(tf.float32),
    "image/object/is_crowd": tf.io.VarLenFeature(tf.int64),
}


@dataclass(frozen=True, eq=False)
class Example:
    """One parsed record. Boxes are ``[ymin, xmin, ymax, xmax]`` normalized, as stored."""

    file: str
    serialized: bytes
    encoded: bytes
    image_format: str
    height: int
    width: int
    filename: str
    source_id: str
    boxes: np.ndarray
    labels: np.ndarray
    texts: tuple[str, ...]
    areas: np.ndarray
    is_crowd: np.ndarray
    image: np.ndarray | None = None

    @property
    def num_objects(self) -> int:
        return int(self.labels.shape[0])

    def pixel_boxes(self) -> np.ndarray:
        """``[N, 4]`` boxes as ``[x, y, width, height]`` in this image's pixels."""
        if not self.num_objects:
            return np.zeros((0, 4), np.float64)
        b = self.boxes.astype(np.float64)
        x0, x1 = b[:, 1] * self.width, b[:, 3] * self.width
        y0, y1 = b[:, 0] * self.height, b[:, 2] * self.height
        return np.stack([x0, y0, x1 - x0, y1 - y0], axis=1)

    def pixel_areas(self) -> np.ndarray:
        """``image/object/area`` when every object has one, else ``w * h`` of the pixel boxes."""
        if self.areas.shape[0] == self.num_objects:
            return self.areas.astype(np.float64)
        boxes = self.pixel_boxes()
        return boxes[:, 2] * boxes[:, 3]


def match_files(patterns: str | Sequence[str]) -> list[str]:
    """Record files for glob patterns, folders (their ``*.tfrecord*``) or single files, sorted.

    Raises:
        ValueError: a pattern or folder matches no file.
    """
    if isinstance(patterns, str):
        patterns = [patterns]
    if not patterns:
        raise ValueError("no TFRecord pattern given; expected a glob such as OUT/eval/*.tfrecord")
    files: list[str] = []
    for pattern in patterns:
        glob = pattern
        if tf.io.gfile.isdir(pattern):
            glob = pattern.rstrip("/") + "/" + RECORD_SUFFIX
        found = sorted(f for f in tf.io.gfile.glob(glob) if not tf.io.gfile.isdir(f))
        if not found:
            raise ValueError(f"no TFRecord files match {pattern!r} (looked for {glob!r}); "
                             "expected a glob such as OUT/eval/*.tfrecord or a folder of shards")
        files += [f for f in found if f not in files]
    return files


def _parse_fn(decode: bool):
    def parse(file: tf.Tensor, serialized: tf.Tensor) -> dict[str, tf.Tensor]:
        parsed = tf.io.parse_single_example(serialized, _FEATURES)
        out = {"file": file, "serialized": serialized}
        for key, value in parsed.items():
            out[key] = tf.sparse.to_dense(value) if isinstance(value, tf.sparse.SparseTensor) else value
        if decode:
            out["image"] = tf.io.decode_image(parsed["image/encoded"], channels=3, expand_animations=False)
        return out

    return parse


def _text(value: bytes) -> str:
    return value.decode("utf-8", errors="replace")


def _header_size(encoded: bytes, filename: str) -> tuple[int, int]:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(encoded)) as image:
            width, height = image.size
    except Exception as err:  # Pillow raises many types for unreadable bytes
        raise ValueError(f"record {filename!r}: image/height or image/width missing and the image "
                         f"header is unreadable: {err}") from err
    return height, width


def _to_example(item: dict) -> Example:
    filename = _text(item["image/filename"])
    height, width = int(item["image/height"]), int(item["image/width"])
    if height < 1 or width < 1:
        height, width = _header_size(item["image/encoded"], filename)
    boxes = np.stack([item[f"image/object/bbox/{k}"] for k in ("ymin", "xmin", "ymax", "xmax")], axis=-1)
    labels = item["image/object/class/label"].astype(np.int64)
    if boxes.shape[0] != labels.shape[0]:
        raise ValueError(f"record {filename!r} in {_text(item['file'])}: {boxes.shape[0]} boxes but "
                         f"{labels.shape[0]} image/object/class/label values; expected one per box")
    crowd = item["image/object/is_crowd"].astype(np.int64)
    if crowd.shape[0] != labels.shape[0]:
        crowd = np.zeros_like(labels)
    image = item.get("image")
    return Example(
        file=_text(item["file"]), serialized=item["serialized"], encoded=item["image/encoded"],
        image_format=_text(item["image/format"]), height=height, width=width, filename=filename,
        source_id=_text(item["image/source_id"]), boxes=boxes.reshape(-1, 4), labels=labels,
        texts=tuple(_text(t) for t in item["image/object/class/text"]),
        areas=item["image/object/area"].astype(np.float64), is_crowd=crowd, image=image)


def read_examples(patterns: str | Sequence[str], *, decode: bool = False, limit: int = 0) -> Iterator[Example]:
    """Parse every record (or the first ``limit``) of the matched files, shards interleaved.

    Args:
        patterns: glob(s), folder(s) or file(s), local or gs://.
        decode: also decode ``image/encoded`` to ``Example.image`` (uint8 HxWx3).
        limit: stop after this many records; 0 reads all.

    Raises:
        ValueError: no file matches, or a record is corrupt or lacks ``image/encoded``.
    """
    files = match_files(patterns)
    logger.info("Reading %d TFRecord file(s): %s%s", len(files), files[0], " ..." if len(files) > 1 else "")
    dataset = tf.data.Dataset.from_tensor_slices(files).interleave(
        lambda f: tf.data.TFRecordDataset(f).map(lambda r: (f, r)),
        cycle_length=min(len(files), MAX_CYCLE), block_length=1,
        num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if limit:
        dataset = dataset.take(limit)
    dataset = dataset.map(_parse_fn(decode), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    iterator = dataset.prefetch(tf.data.AUTOTUNE).as_numpy_iterator()
    while True:
        try:
            item = next(iterator)
        except StopIteration:
            return
        except (tf.errors.DataLossError, tf.errors.InvalidArgumentError) as err:
            where = ", ".join(os.path.basename(f) for f in files[:5])
            raise ValueError(f"unreadable record in {where}{' ...' if len(files) > 5 else ''}: "
                             f"{err.message}") from err
        yield _to_example(item)


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
