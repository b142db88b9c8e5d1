"""Image kind and size from header bytes alone (PNG IHDR, JPEG SOF), never a full decode."""
from __future__ import annotations

import struct
from dataclasses import dataclass

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8"
# SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC), which share the marker range.
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Markers without a length field.
_STANDALONE = frozenset([0x01, *range(0xD0, 0xD8)])


class ImageError(ValueError):
    """The bytes are not a usable PNG or JPEG image."""


@dataclass(frozen=True)
class ImageInfo:
    format: str  # "png" or "jpeg"
    width: int
    height: int
    # EXIF orientation (1 = stored pixels are upright). Decoders ignore it, and so do the records.
    orientation: int = 1


def image_info(data: bytes) -> ImageInfo:
    """Kind and size of an encoded image from its header.

    Raises:
        ImageError: empty, truncated, or neither PNG nor JPEG.
    """
    if not data:
        raise ImageError("empty file")
    if data.startswith(PNG_MAGIC):
        return _png_info(data)
    if data.startswith(JPEG_MAGIC):
        return _jpeg_info(data)
    raise ImageError(f"not a PNG or JPEG (starts with {data[:8].hex()})")


def _png_info(data: bytes) -> ImageInfo:
    if len(data) < 33 or data[12:16] != b"IHDR":
        raise ImageError("truncated PNG: no IHDR chunk")
    width, height = struct.unpack(">II", data[16:24])
    if width == 0 or height == 0:
        raise ImageError(f"PNG has zero size {width}x{height}")
    if not data.rstrip(b"\x00").endswith(b"IEND\xaeB`\x82"):
        raise ImageError("truncated PNG: no IEND chunk")
    return ImageInfo("png", width, height)


def _jpeg_info(data: bytes) -> ImageInfo:
    pos, end = 2, len(data)
    orientation = 1
    while pos < end:
        # Segments start with 0xFF, possibly padded with more 0xFF bytes.
        if data[pos] != 0xFF:
            raise ImageError(f"corrupt JPEG: expected a marker at byte {pos}")
        while pos < end and data[pos] == 0xFF:
            pos += 1
        if pos >= end:
            break
        marker = data[pos]
        pos += 1
        if marker in _STANDALONE:
            continue
        if marker in (0xD9, 0xDA):  # EOI or SOS before any SOF
            break
        if pos + 2 > end:
            break
        (length,) = struct.unpack(">H", data[pos:pos + 2])
        if marker == 0xE1 and data[pos + 2:pos + 8] == b"Exif\x00\x00":
            orientation = exif_orientation(data[pos + 8:pos + length])
        if marker in _SOF_MARKERS:
            if pos + 7 > end:
                break
            height, width = struct.unpack(">HH", data[pos + 3:pos + 7])
            if width == 0 or height == 0:
                raise ImageError(f"JPEG has zero size {width}x{height}")
            if not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
                raise ImageError("truncated JPEG: no end-of-image marker")
            return ImageInfo("jpeg", width, height, orientation)
        if length < 2:
            raise ImageError(f"corrupt JPEG: segment length {length} at byte {pos}")
        pos += length
    raise ImageError("truncated JPEG: no frame header (SOF) found")


def exif_orientation(tiff: bytes) -> int:
    """The Orientation tag (0x0112) of IFD0 in an EXIF TIFF block; 1 when absent or unreadable."""
    if len(tiff) < 8 or tiff[:2] not in (b"II", b"MM"):
        return 1
    order = "<" if tiff[:2] == b"II" else ">"
    (ifd,) = struct.unpack(order + "I", tiff[4:8])
    if ifd + 2 > len(tiff):
        return 1
    (count,) = struct.unpack(order + "H", tiff[ifd:ifd + 2])
    for entry in range(ifd + 2, min(ifd + 2 + 12 * count, len(tiff) - 11), 12):
        tag, kind = struct.unpack(order + "HH", tiff[entry:entry + 4])
        if tag == 0x0112 and kind == 3:  # SHORT, stored in the first two bytes of the value field
            (value,) = struct.unpack(order + "H", tiff[entry + 8:entry + 10])
            return value if 1 <= value <= 8 else 1
    return 1
