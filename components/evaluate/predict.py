"""Run an exported detector (SavedModel) on parsed records; boxes come back in each image's own pixels.

Local:  ``Detector("export/saved_model").detect(batch)`` with batches from ``records.group_batches``.
Cloud:  the same with a ``gs://`` export folder (TensorFlow reads it directly).

Model Garden's export returns ``detection_boxes`` as ``[ymin, xmin, ymax, xmax]`` in pixels of the
resized, padded model input, plus ``image_info`` = (original hw, scaled hw, yx scale, yx offset);
the original pixels are ``(box + offset) / scale``. With ``output_normalized_coordinates`` (read
from the export's ``params.yaml``) boxes are already in [0, 1] of the original image.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import tensorflow as tf
import yaml

from components.evaluate.choices import BOX_COORDINATES, SIGNATURES
from components.evaluate.records import Example, check_images

logger = logging.getLogger(__name__)

OUTPUT_KEYS = ("detection_boxes", "detection_scores", "detection_classes", "num_detections")


@dataclass(frozen=True, eq=False)
class Detections:
    """One image's detections: ``boxes`` ``[N, 4]`` as ``[x, y, width, height]`` in its pixels."""

    boxes: np.ndarray
    scores: np.ndarray
    classes: np.ndarray

    @classmethod
    def empty(cls) -> "Detections":
        return cls(np.zeros((0, 4)), np.zeros((0,)), np.zeros((0,), np.int64))

    def __len__(self) -> int:
        return int(self.scores.shape[0])


def to_original_pixels(boxes: np.ndarray, height: int, width: int, image_info: np.ndarray | None = None,
                       normalized: bool = False) -> np.ndarray:
    """``[N, 4]`` ``[ymin, xmin, ymax, xmax]`` -> ``[x, y, w, h]`` in the original image, clipped.

    Args:
        boxes: model output for one image.
        height, width: the original image size.
        image_info: Model Garden's ``[4, 2]`` resize record; needed unless ``normalized``.
        normalized: boxes are fractions of the original image instead of model-input pixels.
    """
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    if normalized:
        b = b * np.array([height, width, height, width], np.float64)
    else:
        if image_info is None:
            raise ValueError("boxes in model-input pixels need image_info to map them back")
        info = np.asarray(image_info, np.float64)
        scale = np.tile(info[2], 2)
        if np.any(scale <= 0):
            raise ValueError(f"image_info has a non-positive scale: {info[2].tolist()}")
        b = (b + np.tile(info[3], 2)) / scale
    y0, y1 = np.clip(b[:, 0], 0, height), np.clip(b[:, 2], 0, height)
    x0, x1 = np.clip(b[:, 1], 0, width), np.clip(b[:, 3], 0, width)
    return np.stack([x0, y0, x1 - x0, y1 - y0], axis=1)


def saved_model_dir(model: str) -> str:
    """The folder holding ``saved_model.pb``: ``model`` itself or ``model/saved_model``."""
    for candidate in (model, model.rstrip("/") + "/saved_model"):
        if tf.io.gfile.exists(candidate.rstrip("/") + "/saved_model.pb"):
            return candidate.rstrip("/")
    raise ValueError(f"--model {model!r}: no saved_model.pb there or in saved_model/; expected the "
                     "export folder of the train step (EXPORT_DIR or EXPORT_DIR/saved_model)")


def exported_normalized(model_dir: str) -> bool | None:
    """``task.export_config.output_normalized_coordinates`` from the export's params.yaml, if any."""
    parent = model_dir.rstrip("/").rsplit("/", 1)[0] if "/" in model_dir.rstrip("/") else "."
    for folder in (model_dir, parent):
        path = folder.rstrip("/") + "/params.yaml"
        if tf.io.gfile.exists(path):
            with tf.io.gfile.GFile(path) as f:
                params = yaml.safe_load(f) or {}
            export = ((params.get("task") or {}).get("export_config") or {})
            return bool(export.get("output_normalized_coordinates", False))
    return None


class Detector:
    """A loaded SavedModel and the way to feed it.

    Args:
        model: export folder (with saved_model.pb, or a saved_model/ below it).
        signature: "auto" prefers ``serving_tf_example`` (serialized records in, decoding in the
            model), else ``serving_default``.
        box_coordinates: "input_pixels" (Model Garden's default, mapped back with image_info),
            "normalized" ([0, 1] of the original image), or "auto" (params.yaml, then the outputs).
    """

    def __init__(self, model: str, signature: str = "auto", box_coordinates: str = "auto") -> None:
        if signature not in SIGNATURES:
            raise ValueError(f"signature {signature!r}: expected one of {', '.join(SIGNATURES)}")
        if box_coordinates not in BOX_COORDINATES:
            raise ValueError(f"box_coordinates {box_coordinates!r}: expected one of {', '.join(BOX_COORDINATES)}")
        self.model_dir = saved_model_dir(model)
        self._loaded = tf.saved_model.load(self.model_dir)
        available = sorted(self._loaded.signatures.keys())
        if signature == "auto":
            signature = "serving_tf_example" if "serving_tf_example" in available else "serving_default"
        if signature not in available:
            raise ValueError(f"--model {model!r}: no signature {signature!r}; it has {available}")
        self.signature = signature
        self._fn = self._loaded.signatures[signature]
        inputs = self._fn.structured_input_signature[1]
        if len(inputs) != 1:
            raise ValueError(f"signature {signature!r} takes {sorted(inputs)}; expected one input")
        (self._input_name, spec), = inputs.items()
        self.fixed_batch = spec.shape[0] if spec.shape.rank else None
        if spec.dtype == tf.uint8:
            self.input_type = "image_tensor"
        elif spec.dtype == tf.string:
            self.input_type = "tf_example" if "example" in signature else "image_bytes"
        else:
            raise ValueError(f"signature {signature!r} input {self._input_name!r} is {spec.dtype.name}; "
                             "expected uint8 images or serialized strings")
        outputs = set(self._fn.structured_outputs)
        missing = [k for k in OUTPUT_KEYS if k not in outputs]
        if missing:
            raise ValueError(f"signature {signature!r} lacks outputs {missing}; has {sorted(outputs)}")
        if box_coordinates == "auto":
            normalized = exported_normalized(self.model_dir)
            if normalized is None:
                normalized = "image_info" not in outputs
            box_coordinates = "normalized" if normalized else "input_pixels"
        if box_coordinates == "input_pixels" and "image_info" not in outputs:
            raise ValueError(f"signature {signature!r} has no image_info output, so boxes in model-input "
                             "pixels cannot be mapped back; export with output_normalized_coordinates "
                             "or pass box_coordinates='normalized'")
        self.box_coordinates = box_coordinates
        logger.info("Model %s: signature %s (%s input), boxes in %s", self.model_dir, signature,
                    self.input_type, box_coordinates)

    @property
    def needs_decoded_images(self) -> bool:
        return self.input_type == "image_tensor"

    def _inputs(self, batch: Sequence[Example]) -> tf.Tensor:
        if self.input_type == "image_tensor":
            if any(ex.image is None for ex in batch):
                raise ValueError("image_tensor signature needs decoded images (read_examples(decode=True))")
            return tf.constant(np.stack([ex.image for ex in batch]))
        if self.input_type == "tf_example":
            return tf.constant([ex.serialized for ex in batch])
        return tf.constant([ex.encoded for ex in batch])

    def detect(self, batch: Sequence[Example]) -> list[Detections]:
        """Detections for each example of a batch whose images share one size.

        Raises:
            ImageDecodeError: the model could not decode an image; names its shard, record and file.
        """
        if not batch:
            return []
        items = list(batch)
        if self.fixed_batch:
            if len(items) > self.fixed_batch:
                half = self.fixed_batch
                return self.detect(items[:half]) + self.detect(items[half:])
            items += [items[-1]] * (self.fixed_batch - len(items))
        try:
            raw = self._fn(**{self._input_name: self._inputs(items)})
        except tf.errors.InvalidArgumentError:
            if self.input_type != "image_tensor":  # the model decodes: name the record it could not
                check_images(batch)
            raise
        out = {k: v.numpy() for k, v in raw.items()}
        results = []
        for i, ex in enumerate(batch):
            n = int(np.asarray(out["num_detections"][i]).reshape(-1)[0])
            boxes = to_original_pixels(out["detection_boxes"][i][:n], ex.height, ex.width,
                                       out["image_info"][i] if "image_info" in out else None,
                                       normalized=self.box_coordinates == "normalized")
            scores = np.asarray(out["detection_scores"][i][:n], np.float64)
            classes = np.rint(np.asarray(out["detection_classes"][i][:n], np.float64)).astype(np.int64)
            keep = (boxes[:, 2] > 0) & (boxes[:, 3] > 0)
            results.append(Detections(boxes[keep], scores[keep], classes[keep]))
        return results
