"""TFRecord files and tf.train.Example messages in plain Python, for places without TensorFlow.

The framing (length, masked CRC-32C of the length, data, masked CRC-32C of the data) and the
Example wire format are small and stable; every CRC is checked, so a damaged file is named, not
half-read.
"""
from __future__ import annotations

import struct
from typing import IO, Iterator

import google_crc32c

_MASK_DELTA = 0xA282EAD8


class RecordError(ValueError):
    """A TFRecord file or an Example inside it is damaged."""


def masked_crc(*chunks: bytes) -> int:
    """TFRecord's masked CRC-32C of the chunks' concatenation (without concatenating them)."""
    crc = 0
    for chunk in chunks:
        crc = google_crc32c.extend(crc, chunk)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def iter_records(stream: IO[bytes], name: str = "") -> Iterator[bytes]:
    """Each record's bytes, CRCs checked. Raises RecordError naming ``name`` and the offset."""
    offset = 0
    while True:
        header = stream.read(12)
        if not header:
            return
        if len(header) < 12:
            raise RecordError(f"{name}: truncated record header at byte {offset}")
        (length,), (length_crc,) = struct.unpack("<Q", header[:8]), struct.unpack("<I", header[8:])
        if masked_crc(header[:8]) != length_crc:
            raise RecordError(f"{name}: corrupt record length at byte {offset}")
        data = stream.read(length)
        footer = stream.read(4)
        if len(data) < length or len(footer) < 4:
            raise RecordError(f"{name}: truncated record at byte {offset}")
        if masked_crc(data) != struct.unpack("<I", footer)[0]:
            raise RecordError(f"{name}: corrupt record data at byte {offset} (CRC mismatch)")
        yield data
        offset += 16 + length


def _varint(buf: memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise RecordError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise RecordError("varint too long")


def _fields(buf: memoryview) -> Iterator[tuple[int, int, object]]:
    """(field number, wire type, value): ints for varints, memoryviews for the rest."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 2:
            size, pos = _varint(buf, pos)
            value, pos = buf[pos:pos + size], pos + size
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise RecordError(f"unsupported wire type {wire}")
        if pos > len(buf):
            raise RecordError("truncated field")
        yield number, wire, value


def _signed64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _feature(buf: memoryview) -> list:
    out: list = []
    for kind, _, body in _fields(buf):
        for number, wire, value in _fields(body):  # the one list message of the feature
            if number != 1:
                continue
            if kind == 1:  # BytesList
                out.append(bytes(value))
            elif kind == 2:  # FloatList: packed, or one float per field
                out.extend(struct.unpack(f"<{len(value) // 4}f", value) if wire == 2 else
                           struct.unpack("<f", value))
            elif kind == 3:  # Int64List: packed varints, or one per field
                if wire == 2:
                    pos = 0
                    while pos < len(value):
                        v, pos = _varint(value, pos)
                        out.append(_signed64(v))
                else:
                    out.append(_signed64(value))
    return out


def parse_example(serialized: bytes) -> dict[str, list]:
    """A serialized tf.train.Example as ``{key: [values]}`` (bytes, floats or ints).

    Raises:
        RecordError: the bytes are not a well-formed Example.
    """
    features: dict[str, list] = {}
    for number, _, body in _fields(memoryview(serialized)):
        if number != 1:
            continue
        for entry_number, _, entry in _fields(body):  # Features.feature: map entries
            if entry_number != 1:
                continue
            key, value = None, memoryview(b"")
            for part, _, data in _fields(entry):
                if part == 1:
                    key = bytes(data).decode("utf-8", errors="replace")
                elif part == 2:
                    value = data
            if key is not None:
                features[key] = _feature(value)
    return features
