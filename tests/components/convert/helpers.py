"""Small real images for convert tests."""
from __future__ import annotations

import io

import numpy as np
from PIL import Image


def png_bytes(width: int = 64, height: int = 48, mode: str = "RGB") -> bytes:
    channels = {"RGB": 3, "RGBA": 4}[mode]
    pixels = np.random.RandomState(width * height).randint(0, 255, (height, width, channels), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels, mode).save(buf, "PNG")
    return buf.getvalue()


def jpeg_bytes(width: int = 64, height: int = 48, progressive: bool = False, orientation: int | None = None) -> bytes:
    pixels = np.random.RandomState(1).randint(0, 255, (height, width, 3), dtype=np.uint8)
    buf = io.BytesIO()
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    Image.fromarray(pixels).save(buf, "JPEG", quality=90, progressive=progressive, exif=exif)
    return buf.getvalue()
