"""Test material: images of coloured rectangles, their TFRecords, and a real SavedModel that finds them.

The model ("colour detector") is a tf.Module with the signatures and outputs of a Model Garden
export: it resizes each image to fit ``input_size`` keeping the aspect ratio, finds the pure red,
green and blue rectangles (classes 1, 2, 3) and returns their boxes in pixels of that resized
input, with ``image_info`` holding the scale. Evaluating it only gives AP 1 when the boxes are
mapped back to each image's own pixels correctly.
"""
from __future__ import annotations

import io
import os
from dataclasses import dataclass

import numpy as np
import tensorflow as tf
from PIL import Image

NAMES = {1: "rectangle", 2: "ellipse", 3: "triangle"}
COLOURS = {1: (255, 0, 0), 2: (0, 255, 0), 3: (0, 0, 255)}


@dataclass(frozen=True)
class Shape:
    """A filled rectangle in pixels: columns x0..x1-1, rows y0..y1-1."""

    label: int
    x0: int
    y0: int
    x1: int
    y1: int


def image_bytes(width: int, height: int, shapes: list[Shape], fmt: str = "PNG") -> bytes:
    pixels = np.zeros((height, width, 3), np.uint8)
    pixels[:, :] = (40, 40, 40)
    for s in shapes:
        pixels[s.y0:s.y1, s.x0:s.x1] = COLOURS[s.label]
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format=fmt)
    return out.getvalue()


def example(width: int, height: int, shapes: list[Shape], source_id: int | str, filename: str,
            fmt: str = "PNG", names: dict[int, str] = NAMES, unlabelled: tuple[Shape, ...] = ()) -> bytes:
    """A serialized tf.Example with the keys of formats.md 5.1 (``unlabelled`` shapes: drawn only)."""
    data = image_bytes(width, height, shapes + list(unlabelled), fmt)

    def floats(values):
        return tf.train.Feature(float_list=tf.train.FloatList(value=values))

    def ints(values):
        return tf.train.Feature(int64_list=tf.train.Int64List(value=values))

    def strings(values):
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[v.encode() for v in values]))

    feature = {
        "image/encoded": tf.train.Feature(bytes_list=tf.train.BytesList(value=[data])),
        "image/format": strings(["png" if fmt == "PNG" else "jpeg"]),
        "image/height": ints([height]), "image/width": ints([width]),
        "image/filename": strings([filename]), "image/source_id": strings([str(source_id)]),
        "image/key/sha256": strings(["0" * 64]),
        "image/object/bbox/xmin": floats([s.x0 / width for s in shapes]),
        "image/object/bbox/xmax": floats([s.x1 / width for s in shapes]),
        "image/object/bbox/ymin": floats([s.y0 / height for s in shapes]),
        "image/object/bbox/ymax": floats([s.y1 / height for s in shapes]),
        "image/object/class/label": ints([s.label for s in shapes]),
        "image/object/class/text": strings([names[s.label] for s in shapes]),
        "image/object/area": floats([float((s.x1 - s.x0) * (s.y1 - s.y0)) for s in shapes]),
        "image/object/is_crowd": ints([0] * len(shapes)),
    }
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def write_records(path: str, records: list[bytes]) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tf.io.TFRecordWriter(path) as writer:
        for record in records:
            writer.write(record)
    return path


def eval_set(folder: str, shards: int = 2) -> list[tuple[str, int, int, list[Shape]]]:
    """Eval records of two image sizes (neither is the model's input size), one without objects.

    Returns (filename, width, height, shapes) per image in source-id order 1..N.
    """
    images = [
        ("a/wide_1.png", 200, 100, [Shape(1, 10, 20, 60, 70), Shape(2, 120, 10, 190, 40)]),
        ("a/wide_2.png", 200, 100, [Shape(3, 5, 5, 45, 95)]),
        ("b/square_1.png", 150, 150, [Shape(1, 100, 100, 140, 148), Shape(3, 3, 60, 80, 90)]),
        ("b/square_2.png", 150, 150, []),
        ("a/wide_3.png", 200, 100, [Shape(2, 150, 50, 200, 100), Shape(1, 0, 0, 30, 12)]),
        ("b/square_3.png", 150, 150, [Shape(2, 20, 20, 130, 130)]),
    ]
    per_shard = [[] for _ in range(shards)]
    for i, (name, w, h, shapes) in enumerate(images):
        per_shard[i % shards].append(example(w, h, shapes, i + 1, name))
    for n, records in enumerate(per_shard):
        write_records(os.path.join(folder, f"eval-{n:05d}-of-{shards:05d}.tfrecord"), records)
    return images


def label_map_file(path: str, names: dict[int, str] = NAMES) -> str:
    with open(path, "w") as f:
        f.write("".join(f"item {{\n  id: {i}\n  name: '{n}'\n}}\n" for i, n in sorted(names.items())))
    return path


class ColourDetector(tf.Module):
    """Finds one pure-coloured rectangle per class; answers like Model Garden's export."""

    def __init__(self, input_size: tuple[int, int] = (320, 320), normalized: bool = False) -> None:
        super().__init__()
        self.input_size = tf.constant(input_size, tf.float32)
        self.normalized = normalized

    def _one(self, image: tf.Tensor):
        image = tf.cast(image, tf.int32)
        shape = tf.cast(tf.shape(image)[:2], tf.float32)
        scale = tf.reduce_min(self.input_size / shape)
        boxes, scores = [], []
        for c in range(3):
            others = [k for k in range(3) if k != c]
            mask = (image[:, :, c] > 128) & (image[:, :, others[0]] < 128) & (image[:, :, others[1]] < 128)
            rows, cols = tf.reduce_any(mask, axis=1), tf.reduce_any(mask, axis=0)
            found = tf.reduce_any(rows)
            y0 = tf.cast(tf.argmax(tf.cast(rows, tf.int32)), tf.float32)
            y1 = shape[0] - tf.cast(tf.argmax(tf.cast(rows[::-1], tf.int32)), tf.float32)
            x0 = tf.cast(tf.argmax(tf.cast(cols, tf.int32)), tf.float32)
            x1 = shape[1] - tf.cast(tf.argmax(tf.cast(cols[::-1], tf.int32)), tf.float32)
            box = tf.stack([y0, x0, y1, x1])
            box = box / tf.tile(shape, [2]) if self.normalized else box * scale
            boxes.append(tf.where(found, box, tf.zeros(4)))
            scores.append(tf.where(found, 0.9 - 0.1 * c, 0.0))
        boxes, scores = tf.stack(boxes), tf.stack(scores)
        order = tf.argsort(scores, direction="DESCENDING", stable=True)
        classes = tf.gather(tf.constant([1, 2, 3], tf.int32), order)
        info = tf.stack([shape, shape * scale, tf.stack([scale, scale]), tf.zeros(2)])
        num = tf.reduce_sum(tf.cast(scores > 0, tf.int32))
        return tf.gather(boxes, order), tf.gather(scores, order), classes, num, info

    def _serve(self, images: tf.Tensor) -> dict[str, tf.Tensor]:
        boxes, scores, classes, num, info = tf.map_fn(
            self._one, images, fn_output_signature=(tf.TensorSpec([3, 4], tf.float32),
                                                    tf.TensorSpec([3], tf.float32),
                                                    tf.TensorSpec([3], tf.int32), tf.TensorSpec([], tf.int32),
                                                    tf.TensorSpec([4, 2], tf.float32)))
        return {"detection_boxes": boxes, "detection_scores": scores, "detection_classes": classes,
                "num_detections": num, "image_info": info}

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.uint8, name="inputs")])
    def serve_images(self, inputs):
        return self._serve(inputs)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="inputs")])
    def serve_examples(self, inputs):
        def decode(serialized):
            parsed = tf.io.parse_single_example(serialized, {"image/encoded": tf.io.FixedLenFeature((), tf.string)})
            image = tf.io.decode_image(parsed["image/encoded"], channels=3, expand_animations=False)
            image.set_shape([None, None, 3])
            return image

        # As in Model Garden: decoded images are stacked, so a batch must share one size.
        images = tf.map_fn(decode, inputs, fn_output_signature=tf.TensorSpec([None, None, 3], tf.uint8))
        return self._serve(images)


def save_detector(export_dir: str, *, tf_example: bool = True, normalized: bool = False,
                  input_size: tuple[int, int] = (320, 320)) -> str:
    """Save a ColourDetector in Model Garden's layout: EXPORT/saved_model (+ params.yaml)."""
    module = ColourDetector(input_size, normalized)
    signatures = {"serving_default": module.serve_images}
    if tf_example:
        signatures["serving_tf_example"] = module.serve_examples
    path = os.path.join(export_dir, "saved_model")
    tf.saved_model.save(module, path, signatures=signatures)
    with open(os.path.join(export_dir, "params.yaml"), "w") as f:
        f.write("task:\n  export_config:\n    output_normalized_coordinates: "
                f"{'true' if normalized else 'false'}\n")
    return export_dir
