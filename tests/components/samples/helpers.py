"""Shared checks for the sample generator's tests: image headers and box-versus-pixel agreement."""
from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
from PIL import Image

from components.samples.images import SEGMENTATION_COLOURS

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_header(data: bytes) -> tuple[int, int, int]:
    """(width, height, colour type) from the IHDR chunk."""
    assert data[:8] == PNG_MAGIC and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height, data[25]


def jpeg_size(data: bytes) -> tuple[int, int]:
    """(width, height) from the first SOF segment."""
    assert data[:2] == b"\xff\xd8"
    pos = 2
    while pos < len(data):
        marker, length = data[pos + 1], struct.unpack(">H", data[pos + 2:pos + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[pos + 5:pos + 9])
            return width, height
        pos += 2 + length
    raise AssertionError("no SOF marker")


def all_files(root: Path) -> dict[str, bytes]:
    """{relative path: bytes} of every file under ``root``."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def check_boxes_against_segmentation(segmentation: Path, boxes: list[tuple[int, int, int, int, int]]) -> None:
    """``boxes`` = [(class_index, x, y, w, h)]: each box is tight around pixels of its class colour.

    Every edge line of a box holds a pixel of the class colour, and no pixel of a class lies
    outside all boxes of that class.
    """
    pixels = np.asarray(Image.open(segmentation).convert("RGBA"))
    for class_index in range(len(SEGMENTATION_COLOURS) - 1):
        of_class = (pixels == SEGMENTATION_COLOURS[class_index + 1]).all(axis=-1)
        covered = np.zeros_like(of_class)
        for k, x, y, w, h in boxes:
            if k != class_index:
                continue
            inside = of_class[y:y + h, x:x + w]
            assert inside.shape == (h, w), "box leaves the image"
            assert inside[0].any() and inside[-1].any() and inside[:, 0].any() and inside[:, -1].any(), \
                f"box {(x, y, w, h)} of class {class_index} is not tight in {segmentation}"
            covered[y:y + h, x:x + w] = True
        assert not (of_class & ~covered).any(), f"class {class_index} pixels outside its boxes in {segmentation}"


def decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)))
