"""Load an exported detector with a serving image's TensorFlow version, and call it once.

    python serve_check.py --saved-model EXPORT/saved_model --height 120 --width 160 [--out result.json]

Needs only TensorFlow and numpy: run it in a virtualenv with the serving image's TF, e.g.
``pip install tensorflow-cpu==2.15.1 numpy==1.26.4`` for tf2-cpu.2-15. It loads the SavedModel, calls
``serving_default`` with a deterministic uint8 batch (seeded gradient-plus-noise images of the given
size), checks the detection outputs and prints a JSON summary (also written to ``--out``). Boxes count as normalized
when the export's params.yaml says ``output_normalized_coordinates: true``; they must then lie in
[0, 1]. Exit status: 0 ok, 2 load failed, 3 call failed, 4 outputs not as expected.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from typing import Any, Sequence

import numpy as np
import tensorflow as tf

REQUIRED = ("detection_boxes", "detection_scores", "detection_classes", "num_detections")


class CheckFailed(Exception):
    """A failed step: ``status`` is the exit status, the message says what and where."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def images(batch: int, height: int, width: int, seed: int = 0) -> np.ndarray:
    """``[batch, height, width, 3]`` uint8: a y/x gradient with seeded noise, different per image."""
    rng = np.random.RandomState(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    base = np.stack([255 * y / max(height - 1, 1), 255 * x / max(width - 1, 1), np.full_like(y, 128)], -1)
    noise = rng.uniform(-40, 40, size=(batch, height, width, 3))
    return np.clip(base[None] + noise, 0, 255).astype(np.uint8)


def declared_normalized(saved_model: str) -> bool | None:
    """``output_normalized_coordinates`` from params.yaml in or above the SavedModel, if present."""
    for folder in (saved_model, os.path.dirname(os.path.abspath(saved_model.rstrip("/")))):
        path = os.path.join(folder, "params.yaml")
        if os.path.exists(path):
            with open(path) as f:
                found = re.search(r"^\s*output_normalized_coordinates:\s*(\S+)", f.read(), re.M)
            return bool(found) and found.group(1).lower() == "true"
    return None


def check(saved_model: str, height: int, width: int, batch: int = 2) -> dict[str, Any]:
    """Load, call and check; raises ``CheckFailed`` on failure."""
    try:
        loaded = tf.saved_model.load(saved_model)
        fn = loaded.signatures["serving_default"]
    except Exception as err:  # any load failure is the finding
        message = f"loading {saved_model} with TF {tf.__version__} failed: {type(err).__name__}: {err}"
        raise CheckFailed(2, message) from err
    try:
        (name, spec), = fn.structured_input_signature[1].items()
        out = {k: v.numpy() for k, v in fn(**{name: tf.constant(images(batch, height, width), spec.dtype)}).items()}
    except Exception as err:
        inputs = fn.structured_input_signature[1]
        raise CheckFailed(3, f"calling serving_default (inputs {inputs}) failed: {type(err).__name__}: {err}") from err
    missing = [k for k in REQUIRED if k not in out]
    if missing:
        raise CheckFailed(4, f"serving_default lacks outputs {missing}; it has {sorted(out)}")
    boxes = out["detection_boxes"]
    n = boxes.shape[1] if boxes.ndim == 3 else -1
    expected = {"detection_boxes": (batch, n, 4), "detection_scores": (batch, n),
                "detection_classes": (batch, n), "num_detections": (batch,)}
    problems = [f"{k} has shape {out[k].shape}, expected {s}" for k, s in expected.items() if out[k].shape != s]
    if problems:
        raise CheckFailed(4, "; ".join(problems))
    normalized, in_unit = declared_normalized(saved_model), bool(np.all((boxes >= 0) & (boxes <= 1)))
    if normalized and not in_unit:
        raise CheckFailed(4, f"params.yaml says normalized boxes, but they span [{boxes.min()}, {boxes.max()}]")
    first = int(out["num_detections"][0])
    return {
        "tf_version": tf.__version__,
        "signatures": sorted(loaded.signatures.keys()),
        "input": {"name": name, "batch": batch, "height": height, "width": width},
        "outputs": {k: list(v.shape) for k, v in sorted(out.items())},
        "boxes_normalized": in_unit if normalized is None else normalized,
        "num_detections": [int(v) for v in out["num_detections"]],
        "first_boxes": boxes[0, :min(first, 5)].astype(np.float64).round(6).tolist(),
        "first_scores": out["detection_scores"][0, :min(first, 5)].astype(np.float64).round(6).tolist(),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--saved-model", required=True, help="folder with saved_model.pb")
    parser.add_argument("--height", type=int, required=True, help="height of the test images")
    parser.add_argument("--width", type=int, required=True, help="width of the test images")
    parser.add_argument("--batch", type=int, default=2, help="images per call (default 2)")
    parser.add_argument("--out", default=None, help="also write the JSON summary here")
    args = parser.parse_args(argv)
    try:
        summary = check(args.saved_model, args.height, args.width, args.batch)
    except CheckFailed as err:
        print(f"serve_check: {err}", file=sys.stderr)
        return err.status
    text = "{\n" + ",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in summary.items()) + "\n}"
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
