"""A small detection dataset in the convert step's output layout, drawn with Pillow.

``write_dataset(out)`` writes ``out/train/*.tfrecord``, ``out/eval/*.tfrecord``, ``label_map.pbtxt``,
``label_map.csv``, ``eval_coco.json`` and ``stats.json`` exactly as the contract describes them, so the
trainer can be tested without the convert step.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

LABELS = {1: "rectangle", 2: "ellipse", 3: "triangle"}


@dataclass(frozen=True)
class Shape:
    label: int
    x: int
    y: int
    w: int
    h: int


def draw_image(rng: np.random.Generator, width: int, height: int,
               max_objects: int = 3) -> tuple[bytes, list[Shape]]:
    """One PNG with 1..max_objects filled shapes over a noisy background."""
    base = rng.integers(0, 256, 3)
    noise = rng.normal(0, 12, (height, width, 3))
    image = Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    shapes = []
    for _ in range(int(rng.integers(1, max_objects + 1))):
        label = int(rng.integers(1, len(LABELS) + 1))
        w = int(rng.integers(width // 5, width // 2))
        h = int(rng.integers(height // 5, height // 2))
        x, y = int(rng.integers(0, width - w)), int(rng.integers(0, height - h))
        colour = tuple(int(c) for c in (255 - base + rng.integers(-40, 40, 3)).clip(0, 255))
        box = [x, y, x + w - 1, y + h - 1]
        if label == 1:
            draw.rectangle(box, fill=colour)
        elif label == 2:
            draw.ellipse(box, fill=colour)
        else:
            draw.polygon([(x, y + h - 1), (x + w - 1, y + h - 1), (x + w // 2, y)], fill=colour)
        shapes.append(Shape(label, x, y, w, h))
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue(), shapes


def tf_example(data: bytes, shapes: list[Shape], width: int, height: int, key: str, source_id: int) -> bytes:
    """A serialized tf.train.Example with the contract's keys."""
    import tensorflow as tf

    def floats(v):
        return tf.train.Feature(float_list=tf.train.FloatList(value=v))

    def ints(v):
        return tf.train.Feature(int64_list=tf.train.Int64List(value=v))

    def strings(v):
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=v))

    feature = {
        "image/encoded": strings([data]),
        "image/format": strings([b"png"]),
        "image/height": ints([height]),
        "image/width": ints([width]),
        "image/filename": strings([key.encode()]),
        "image/source_id": strings([str(source_id).encode()]),
        "image/key/sha256": strings([hashlib.sha256(data).hexdigest().encode()]),
        "image/object/bbox/xmin": floats([s.x / width for s in shapes]),
        "image/object/bbox/xmax": floats([(s.x + s.w) / width for s in shapes]),
        "image/object/bbox/ymin": floats([s.y / height for s in shapes]),
        "image/object/bbox/ymax": floats([(s.y + s.h) / height for s in shapes]),
        "image/object/class/label": ints([s.label for s in shapes]),
        "image/object/class/text": strings([LABELS[s.label].encode() for s in shapes]),
        "image/object/area": floats([float(s.w * s.h) for s in shapes]),
        "image/object/is_crowd": ints([0 for _ in shapes]),
    }
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def write_dataset(out: str, num_train: int = 64, num_eval: int = 16, width: int = 128, height: int = 128,
                  seed: int = 0, shards: int = 2) -> dict:
    """Write the dataset under ``out``; returns the stats.json content."""
    import tensorflow as tf

    from components.common import label_map

    rng = np.random.default_rng(seed)
    objects = {"train": 0, "eval": 0}
    per_class = {name: 0 for name in LABELS.values()}
    images, annotations = [], []
    source_id = 1000
    for split, count in (("train", num_train), ("eval", num_eval)):
        os.makedirs(os.path.join(out, split), exist_ok=True)
        writers = [tf.io.TFRecordWriter(os.path.join(out, split, f"{split}-{i:05d}-of-{shards:05d}.tfrecord"))
                   for i in range(shards)]
        for index in range(count):
            data, shapes = draw_image(rng, width, height)
            source_id += 1
            key = f"{split}/img_{index:04d}.png"
            writers[index % shards].write(tf_example(data, shapes, width, height, key, source_id))
            objects[split] += len(shapes)
            for s in shapes:
                per_class[LABELS[s.label]] += 1
            if split == "eval":
                images.append({"id": source_id, "file_name": key, "width": width, "height": height})
                for s in shapes:
                    annotations.append({"id": len(annotations) + 1, "image_id": source_id, "category_id": s.label,
                                        "bbox": [s.x, s.y, s.w, s.h], "area": float(s.w * s.h), "iscrowd": 0})
        for writer in writers:
            writer.close()
    with open(os.path.join(out, "label_map.pbtxt"), "w") as f:
        f.write(label_map.to_pbtxt(LABELS))
    with open(os.path.join(out, "label_map.csv"), "w") as f:
        f.write(label_map.to_csv(LABELS))
    with open(os.path.join(out, "eval_coco.json"), "w") as f:
        json.dump({"images": images, "annotations": annotations,
                   "categories": [{"id": i, "name": n} for i, n in LABELS.items()]}, f)
    stats = {"images_read": num_train + num_eval, "examples": {"train": num_train, "eval": num_eval},
             "objects": objects, "objects_per_class": per_class, "skipped": {}, "skipped_examples": {},
             "labels": {str(i): n for i, n in LABELS.items()}, "num_classes": max(LABELS) + 1,
             "num_object_classes": len(LABELS), "eval_pct": 20, "source": "shapes", "format": "shapes"}
    with open(os.path.join(out, "stats.json"), "w") as f:
        json.dump(stats, f, indent=2)
    return stats
