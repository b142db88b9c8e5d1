"""Boxes drawn onto an image with Pillow: ground truth and predictions in their own colours.

Labels of ground truth sit under the box's top-left corner, inside it; labels of predictions sit
above the box; a label that would cover one already drawn moves off it by whole label heights.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Sequence

from PIL import Image, ImageDraw, ImageFont

GROUND_TRUTH = (0, 200, 83)
PREDICTION = (255, 40, 150)
MAX_ENLARGE = 4.0


@dataclass(frozen=True)
class Box:
    """A box in the image's own pixels, with its caption."""

    x: float
    y: float
    width: float
    height: float
    label: str


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow built without FreeType
        return ImageFont.load_default()


def _text_colour(colour: tuple[int, int, int]) -> tuple[int, int, int]:
    r, g, b = colour
    return (0, 0, 0) if 0.299 * r + 0.587 * g + 0.114 * b > 150 else (255, 255, 255)


def render(encoded: bytes, layers: Sequence[tuple[Sequence[Box], tuple[int, int, int], bool]],
           max_side: int = 640, quality: int = 85) -> bytes:
    """JPEG of the image, scaled to fit ``max_side``, with each layer's boxes drawn.

    Args:
        encoded: PNG or JPEG bytes.
        layers: (boxes, colour, label above the box) in drawing order.
    """
    with Image.open(io.BytesIO(encoded)) as source:
        image = source.convert("RGB")
    # Small images are enlarged too, so that lines and labels stay sharp in the page.
    scale = min(MAX_ENLARGE, max_side / max(image.size))
    if scale != 1.0:
        image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                             Image.Resampling.LANCZOS)
    draw = ImageDraw.Draw(image)
    font = _font(max(11, round(max(image.size) / 32)))
    line = max(2, round(max(image.size) / 240))
    captions = []
    for n, (boxes, colour, above) in enumerate(layers):
        # Earlier layers get wider lines, so a box drawn exactly over another still shows both.
        width = line * (len(layers) - n)
        for box in boxes:
            x0, y0 = box.x * scale, box.y * scale
            x1, y1 = (box.x + box.width) * scale, (box.y + box.height) * scale
            draw.rectangle([x0, y0, max(x0, x1 - 1), max(y0, y1 - 1)], outline=colour, width=width)
            if box.label:
                captions.append((box.label, colour, above, x0, y0, y1, width))
    # Captions go on after every box, so no box line crosses one, and each moves off the ones
    # placed before it.
    placed: list[tuple[float, float, float, float]] = []
    for text, colour, above, x0, y0, y1, width in captions:
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        tw, th = right - left + 4, bottom - top + 3
        if above:  # above the box, or inside its bottom edge when there is no room above
            ty = y0 - th if y0 - th >= 0 else max(y0, y1 - th)
        else:
            ty = min(y0 + width, image.height - th)
        tx = min(max(0.0, x0), max(0.0, image.width - tw))
        rect = place_label(tx, ty, tw, th, placed, image.height, upwards=above)
        placed.append(rect)
        draw.rectangle(rect, fill=colour)
        draw.text((rect[0] + 2 - left, rect[1] + 1 - top), text, fill=_text_colour(colour), font=font)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality)
    return out.getvalue()


def place_label(x: float, y: float, w: float, h: float, placed: Sequence[tuple[float, float, float, float]],
                image_height: float, upwards: bool, tries: int = 6) -> tuple[float, float, float, float]:
    """The caption rectangle nearest ``(x, y)`` in steps of its height, away from the side it
    would cover (up for captions above boxes), that overlaps none of ``placed``; else ``(x, y)``."""
    def free(top: float) -> bool:
        return all(x >= r[2] or x + w <= r[0] or top >= r[3] or top + h <= r[1] for r in placed)

    first, second = (-1, 1) if upwards else (1, -1)
    candidates = [y] + [y + sign * k * h for k in range(1, tries + 1) for sign in (first, second)]
    for top in candidates:
        if 0 <= top <= image_height - h and free(top):
            return (x, top, x + w, top + h)
    return (x, y, x + w, y + h)
