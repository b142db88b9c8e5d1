"""A frame plus its image bytes -> one serialized ``tf.train.Example``, framed as a TFRecord.

The protobuf wire format is written directly, so this needs no TensorFlow, and the image bytes
are never copied: a record is three chunks, the small fields joined before and after the original
image bytes, so a record costs three CRC updates and three writes whatever its number of boxes.
"""
from __future__ import annotations

import hashlib
import math
import struct
from dataclasses import dataclass
from typing import Mapping, Sequence

from components.common import example_keys as keys
from components.common.coco_truth import RecordTruth
from components.common.tfrecords import masked_crc
from components.convert.frames import Frame
from components.convert.images import ImageInfo, image_info
from components.convert.split import source_id

Chunk = bytes


@dataclass(frozen=True)
class ObjectRow:
    """A kept box in stored-image pixels, after clipping."""

    label: int
    name: str
    x: float
    y: float
    width: float
    height: float
    area: float
    is_crowd: int


@dataclass(frozen=True)
class Encoded:
    """A framed TFRecord (as chunks) and the facts about it that stats and COCO files need."""

    chunks: tuple[Chunk, ...]
    size: int
    key: str
    source_id: int
    width: int
    height: int
    objects: tuple[ObjectRow, ...]
    dropped: tuple[str, ...]
    warnings: tuple[str, ...] = ()  # what was adjusted or ignored: see WARNINGS


# Reasons an example was written with a caveat; stats.json counts them.
BOXES_RESCALED = "boxes_rescaled_from_native_size"
EXIF_ORIENTATION = "exif_orientation_ignored"
WARNINGS = {
    BOXES_RESCALED: "boxes are in the camera's native pixels and the image is smaller: boxes scaled to it",
    EXIF_ORIENTATION: "the JPEG's EXIF orientation is not 1; boxes and pixels are used as stored",
}


# A chunk this long or longer (the image bytes) is kept as it is; shorter ones are joined.
_JOIN_BELOW = 1 << 16
_ONE_BYTE = tuple(bytes([v]) for v in range(0x80))


def _varint(value: int) -> bytes:
    if 0 <= value < 0x80:
        return _ONE_BYTE[value]
    out = bytearray()
    value &= (1 << 64) - 1
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _len_field(field_number: int, length: int) -> bytes:
    return _varint(field_number << 3 | 2) + _varint(length)


def _bytes_feature(values: Sequence[Chunk]) -> list[Chunk]:
    # Feature{bytes_list: BytesList{value: [...]}}
    inner: list[Chunk] = []
    for v in values:
        inner += [_len_field(1, len(v)), v]
    inner_len = sum(len(c) for c in inner)
    return [_len_field(1, inner_len), *inner]


def _float_feature(values: Sequence[float]) -> list[Chunk]:
    packed = struct.pack(f"<{len(values)}f", *values)
    body = _len_field(1, len(packed)) + packed if values else b""
    return [_len_field(2, len(body)) + body]


def _int64_feature(values: Sequence[int]) -> list[Chunk]:
    packed = b"".join(_varint(v) for v in values)
    body = _len_field(1, len(packed)) + packed if values else b""
    return [_len_field(3, len(body)) + body]


def serialize_example(features: Mapping[str, list[Chunk]]) -> list[Chunk]:
    """Example{features: Features{feature: map}} from already-encoded Feature chunks, keys sorted."""
    entries: list[Chunk] = []
    for key in sorted(features):
        feature = features[key]
        feature_len = sum(len(c) for c in feature)
        key_bytes = key.encode("utf-8")
        entry_body_len = len(_len_field(1, len(key_bytes))) + len(key_bytes) + len(_len_field(2, feature_len)) + feature_len
        entries += [_len_field(1, entry_body_len), _len_field(1, len(key_bytes)), key_bytes,
                    _len_field(2, feature_len), *feature]
    features_len = sum(len(c) for c in entries)
    return [_len_field(1, features_len), *entries]


def _masked_crc(chunks: Sequence[Chunk]) -> bytes:
    return struct.pack("<I", masked_crc(*chunks))


def coalesce(chunks: Sequence[Chunk]) -> list[Chunk]:
    """The same bytes in fewer chunks: each run of short chunks joined, long ones (image bytes) kept as they are."""
    out: list[Chunk] = []
    run: list[Chunk] = []
    for chunk in chunks:
        if len(chunk) < _JOIN_BELOW:
            run.append(chunk)
            continue
        if run:
            out.append(b"".join(run))
            run = []
        out.append(chunk)
    if run:
        out.append(b"".join(run))
    return out


def frame_record(payload: Sequence[Chunk]) -> tuple[list[Chunk], int]:
    """TFRecord framing: length, masked CRC32C of the length, data, masked CRC32C of the data."""
    payload = coalesce(payload)
    length = sum(len(c) for c in payload)
    header = struct.pack("<Q", length)
    chunks = coalesce([header, _masked_crc([header]), *payload, _masked_crc(payload)])
    return chunks, length + 16


def clip_box(x: float, y: float, w: float, h: float, width: int, height: int) -> tuple[float, float, float, float] | None:
    """Clip a pixel box to the image; None when nothing with area is left."""
    if not all(math.isfinite(v) for v in (x, y, w, h)) or w <= 0 or h <= 0:
        return None
    x0, y0 = min(max(x, 0.0), width), min(max(y, 0.0), height)
    x1, y1 = min(max(x + w, 0.0), width), min(max(y + h, 0.0), height)
    if x1 - x0 <= 0 or y1 - y0 <= 0:
        return None
    return x0, y0, x1 - x0, y1 - y0


def normalized_box(row: ObjectRow, width: int, height: int) -> tuple[float, float, float, float]:
    """``[ymin, xmin, ymax, xmax]`` of a kept box, before the record rounds them to float32."""
    return row.y / height, row.x / width, (row.y + row.height) / height, (row.x + row.width) / width


def _stored(value: float) -> float:
    """The value a float feature holds: rounded to float32."""
    return struct.unpack("<f", struct.pack("<f", value))[0]


def record_truth(key: str, sid: int, width: int, height: int, rows: Sequence[ObjectRow]) -> RecordTruth:
    """The COCO ground truth of a written record, with its boxes and areas as the record stores them."""
    return RecordTruth(str(sid), key, width, height,
                       [tuple(_stored(v) for v in normalized_box(r, width, height)) for r in rows],
                       [r.label for r in rows], [r.name for r in rows], [_stored(r.area) for r in rows],
                       [r.is_crowd for r in rows])


def native_scale(frame: Frame, width: int, height: int) -> tuple[float, float] | None:
    """(x, y) factors from a frame's native pixel space to its stored image; None when they agree."""
    if frame.native_size is None:
        return None
    native_w, native_h = frame.native_size
    if (width > height) != (native_w > native_h):  # a portrait copy of a landscape camera
        native_w, native_h = native_h, native_w
    if (width, height) == (native_w, native_h):
        return None
    return width / native_w, height / native_h


def encode(key: str, frame: Frame, data: bytes, label_ids: Mapping[str, int],
           info: ImageInfo | None = None, sha256: bool = False) -> Encoded:
    """Build the framed record for one image.

    The keys are ``components.common.example_keys``. ``image/key/sha256`` is written only with ``sha256=True`` (``--image-sha256``): no decoder
    reads it, and hashing is most of the encoder's CPU time per image.

    Raises:
        ImageError: the bytes are not a complete PNG or JPEG.
    """
    info = info or image_info(data)
    rows, dropped, warnings = [], list(frame.dropped), []
    if info.orientation != 1:
        warnings.append(EXIF_ORIENTATION)
    scale = native_scale(frame, info.width, info.height)
    sx, sy = scale or (1.0, 1.0)
    if scale:
        warnings.append(BOXES_RESCALED)
    for box in frame.boxes:
        label = label_ids.get(box.label_name)
        if label is None:
            dropped.append("unknown_label")
            continue
        clipped = clip_box(box.x * sx, box.y * sy, box.width * sx, box.height * sy, info.width, info.height)
        if clipped is None:
            dropped.append("empty_box")
            continue
        x, y, w, h = clipped
        if scale:
            area = w * h
        else:
            area = box.area if box.area is not None and (w, h) == (box.width, box.height) else w * h
        rows.append(ObjectRow(label, box.label_name, x, y, w, h, area, box.is_crowd))
    sid = source_id(key)
    boxes = [normalized_box(r, info.width, info.height) for r in rows]
    features: dict[str, list[Chunk]] = {
        keys.ENCODED: _bytes_feature([data]),
        keys.FORMAT: _bytes_feature([info.format.encode()]),
        keys.HEIGHT: _int64_feature([info.height]),
        keys.WIDTH: _int64_feature([info.width]),
        keys.FILENAME: _bytes_feature([key.encode("utf-8")]),
        keys.SOURCE_ID: _bytes_feature([str(sid).encode()]),
        keys.SHA256: _bytes_feature([hashlib.sha256(data).hexdigest().encode() if sha256 else b""]),
        keys.XMIN: _float_feature([b[1] for b in boxes]),
        keys.XMAX: _float_feature([b[3] for b in boxes]),
        keys.YMIN: _float_feature([b[0] for b in boxes]),
        keys.YMAX: _float_feature([b[2] for b in boxes]),
        keys.LABEL: _int64_feature([r.label for r in rows]),
        keys.TEXT: _bytes_feature([r.name.encode("utf-8") for r in rows]),
        keys.AREA: _float_feature([r.area for r in rows]),
        keys.IS_CROWD: _int64_feature([r.is_crowd for r in rows]),
        keys.DIFFICULT: _int64_feature([0] * len(rows)),
    }
    chunks, size = frame_record(serialize_example(features))
    return Encoded(tuple(chunks), size, key, sid, info.width, info.height, tuple(rows), tuple(dropped),
                   tuple(warnings))
