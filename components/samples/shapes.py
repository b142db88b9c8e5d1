"""Scene drawing for the sample datasets: backgrounds, flat-coloured shapes and tight pixel boxes.

Used by ``python -m components.samples`` (see ``components/samples/__init__.py``); nothing here
touches the file system. A scene is a pure function of a ``numpy.random.Generator``'s state.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

CLASSES = ("rectangle", "ellipse", "triangle")
BACKGROUNDS = ("mixed", "gradient", "texture", "noise")

# Shape size (geometric mean of its box sides) as a fraction of the image's short side.
MIN_SIZE, MAX_SIZE = 0.15, 0.45
# An earlier object keeps at least this fraction of its pixels visible after later ones are drawn.
MIN_VISIBLE = 0.6
# Euclidean RGB distance a shape's colour keeps from the mean of the area it is drawn on.
MIN_CONTRAST = 90.0
# Amplitude of the per-pixel noise added over the whole image, per background style.
_NOISE = {"gradient": 0, "texture": 2, "noise": 4}
_PLACEMENT_TRIES = 30
_COLOUR_TRIES = 12


@dataclass(frozen=True)
class DrawnObject:
    """One visible object: 0-based class index into ``CLASSES`` and its tight visible-pixel box.

    ``drawn_pixels`` counts the pixels the shape covered before later shapes hid some of them.
    """

    class_index: int
    instance_id: int
    x: int
    y: int
    width: int
    height: int
    drawn_pixels: int = 0


@dataclass(frozen=True, eq=False)
class Scene:
    """A drawn image: ``rgb`` (H, W, 3) uint8 and ``instances`` (H, W) uint8 (0 = background)."""

    rgb: np.ndarray
    instances: np.ndarray
    objects: tuple[DrawnObject, ...]

    def class_map(self) -> np.ndarray:
        """(H, W) uint8: 0 for background, ``class_index + 1`` where an object is visible."""
        lookup = np.zeros(256, dtype=np.uint8)
        for obj in self.objects:
            lookup[obj.instance_id] = obj.class_index + 1
        return lookup[self.instances]


def draw_scene(rng: np.random.Generator, width: int, height: int, num_objects: int,
               background: str = "mixed") -> Scene:
    """Draw ``num_objects`` shapes (fewer if no placement keeps earlier ones visible enough).

    Args:
        rng: the only source of randomness; the same state gives the same scene.
        width, height: image size in pixels.
        num_objects: shapes to try to place (0 gives a true negative).
        background: one of ``BACKGROUNDS``; ``mixed`` picks gradient or texture per image.
    Returns:
        The scene; boxes are tight around each object's visible pixels, ``x + width <= W``.
    """
    if background not in BACKGROUNDS:
        raise ValueError(f"background {background!r}: expected one of {', '.join(BACKGROUNDS)}")
    if not 0 <= num_objects <= 255:
        raise ValueError(f"num_objects {num_objects!r}: expected 0 to 255 (instance ids are 8-bit)")
    style = background if background != "mixed" else ("gradient", "texture")[int(rng.integers(2))]
    canvas = _background(rng, width, height, style)
    instances = np.zeros((height, width), dtype=np.uint8)
    areas: dict[int, int] = {}  # id -> pixels drawn
    visible: dict[int, int] = {}  # id -> pixels still visible
    placed: dict[int, tuple[int, int, int, int, int]] = {}  # id -> (class, x, y, w, h)
    for _ in range(num_objects):
        class_index = int(rng.integers(len(CLASSES)))
        spot = _place(rng, width, height, class_index, instances, areas, visible)
        if spot is None:
            continue
        x, y, mask = spot
        h, w = mask.shape
        instance_id = len(placed) + 1
        colour = _colour(rng, canvas[y:y + h, x:x + w][mask])
        canvas[y:y + h, x:x + w][mask] = _shade(rng, colour, mask)[mask]
        covered = np.bincount(instances[y:y + h, x:x + w][mask], minlength=instance_id)
        for i in visible:
            visible[i] -= int(covered[i])
        instances[y:y + h, x:x + w][mask] = instance_id
        areas[instance_id] = visible[instance_id] = int(mask.sum())
        placed[instance_id] = (class_index, x, y, w, h)
    amplitude = _NOISE[style]
    noise = rng.integers(-amplitude, amplitude + 1, size=canvas.shape, dtype=np.int16)
    rgb = np.clip(canvas.astype(np.int16) + noise, 0, 255).astype(np.uint8)
    objects = tuple(_visible_box(instances, i, c, x, y, w, h, areas[i]) for i, (c, x, y, w, h) in placed.items())
    return Scene(rgb=rgb, instances=instances, objects=objects)


def shape_mask(class_index: int, width: int, height: int, variant: float = 0.5, turn: int = 0) -> np.ndarray:
    """Boolean (height, width) mask of a shape filling its box edge to edge.

    Args:
        class_index: index into ``CLASSES``.
        variant: triangle apex position along its edge, in [0, 1].
        turn: triangle orientation, 0-3 (apex at top, right, bottom, left).
    """
    image = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(image)
    right, bottom = width - 1, height - 1
    name = CLASSES[class_index]
    if name == "rectangle":
        draw.rectangle((0, 0, right, bottom), fill=255)
    elif name == "ellipse":
        draw.ellipse((0, 0, right, bottom), fill=255)
    else:
        ax, ay = round(variant * right), round(variant * bottom)
        corners = {
            0: [(ax, 0), (0, bottom), (right, bottom)],
            1: [(right, ay), (0, 0), (0, bottom)],
            2: [(ax, bottom), (0, 0), (right, 0)],
            3: [(0, ay), (right, 0), (right, bottom)],
        }[turn % 4]
        draw.polygon(corners, fill=255)
    return np.asarray(image) > 0


def _background(rng: np.random.Generator, width: int, height: int, style: str) -> np.ndarray:
    """(H, W, 3) uint8 background without per-pixel noise.

    Both parts are smooth, so they are computed on a coarse grid and resized, which keeps large
    images cheap.
    """
    small_w, small_h = max(2, width // 8), max(2, height // 8)
    c0, c1 = rng.integers(0, 256, size=(2, 3)).astype(np.float32)
    angle = rng.uniform(0.0, 2.0 * math.pi)
    xs = np.linspace(-0.5, 0.5, small_w, dtype=np.float32)[None, :]
    ys = np.linspace(-0.5, 0.5, small_h, dtype=np.float32)[:, None] * (height / width)
    t = xs * math.cos(angle) + ys * math.sin(angle)
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    image = c0 + t[..., None] * (c1 - c0)
    if style in ("texture", "noise"):
        # Low-frequency blobs: a coarse random grid resized smoothly.
        cells = (int(rng.integers(3, 9)), int(rng.integers(3, 9)))
        grid = rng.integers(0, 256, size=(cells[1], cells[0], 3), dtype=np.uint8)
        blobs = np.asarray(Image.fromarray(grid).resize((small_w, small_h), Image.BICUBIC), dtype=np.float32)
        image = 0.45 * image + 0.55 * blobs
    small = Image.fromarray(np.clip(image, 0, 255).astype(np.uint8))
    return np.array(small.resize((width, height), Image.BILINEAR))


def _place(rng: np.random.Generator, width: int, height: int, class_index: int,
           instances: np.ndarray, areas: dict[int, int],
           visible: dict[int, int]) -> tuple[int, int, np.ndarray] | None:
    """A position and mask that leave every earlier object at least ``MIN_VISIBLE`` visible."""
    short = min(width, height)
    for _ in range(_PLACEMENT_TRIES):
        side = rng.uniform(MIN_SIZE, MAX_SIZE) * short
        aspect = math.exp(rng.uniform(-0.5, 0.5))
        w = int(min(max(side * math.sqrt(aspect), 2), width))
        h = int(min(max(side / math.sqrt(aspect), 2), height))
        x = int(rng.integers(0, width - w + 1))
        y = int(rng.integers(0, height - h + 1))
        mask = shape_mask(class_index, w, h, float(rng.uniform()), int(rng.integers(4)))
        covered = np.bincount(instances[y:y + h, x:x + w][mask], minlength=len(areas) + 1)
        if all(visible[i] - covered[i] >= MIN_VISIBLE * area for i, area in areas.items()):
            return x, y, mask
    return None


def _colour(rng: np.random.Generator, under: np.ndarray) -> np.ndarray:
    """A random colour far from the mean of the pixels it will cover."""
    mean = under.reshape(-1, 3).mean(axis=0) if under.size else np.full(3, 128.0)
    best, best_distance = None, -1.0
    for _ in range(_COLOUR_TRIES):
        colour = rng.integers(0, 256, size=3).astype(np.float32)
        distance = float(np.linalg.norm(colour - mean))
        if distance > best_distance:
            best, best_distance = colour, distance
        if distance >= MIN_CONTRAST:
            break
    return best


def _shade(rng: np.random.Generator, colour: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(h, w, 3) uint8 fill: the colour with a gentle linear shading across the shape."""
    h, w = mask.shape
    strength = rng.uniform(-20.0, 20.0)
    ramp = np.linspace(-1.0, 1.0, w, dtype=np.float32)[None, :] if rng.integers(2) else \
        np.linspace(-1.0, 1.0, h, dtype=np.float32)[:, None]
    shaded = colour[None, None, :] + (strength * ramp)[..., None]
    return np.clip(np.broadcast_to(shaded, (h, w, 3)), 0, 255).astype(np.uint8)


def _visible_box(instances: np.ndarray, instance_id: int, class_index: int,
                 x: int, y: int, w: int, h: int, drawn_pixels: int) -> DrawnObject:
    region = instances[y:y + h, x:x + w] == instance_id
    rows = np.flatnonzero(region.any(axis=1))
    cols = np.flatnonzero(region.any(axis=0))
    return DrawnObject(class_index, instance_id, x + int(cols[0]), y + int(rows[0]),
                       int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1), drawn_pixels)
