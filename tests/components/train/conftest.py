"""Datasets for the train tests: hand-drawn records (fast), and the sample generator + convert step."""
from __future__ import annotations

import os

import pytest

from tests.components.train.shapes import write_dataset


@pytest.fixture(scope="session")
def records(tmp_path_factory) -> str:
    """A small convert-style output folder (24 train, 8 eval images of 64x64)."""
    out = str(tmp_path_factory.mktemp("records"))
    write_dataset(out, num_train=24, num_eval=8, width=64, height=64)
    return out


@pytest.fixture(scope="session")
def converted(tmp_path_factory) -> str:
    """The sample generator's Unity Simulation layout, converted by the convert step (local DirectRunner):
    the output folder, with manifest.json naming its gen-<run>/ shards."""
    from components.convert.pipeline import convert
    from components.samples import generate

    root = tmp_path_factory.mktemp("sample")
    dataset = generate(str(root / "src"), "unity-simulation", num_images=48, width=160, height=120, seed=3)
    out = str(root / "out")
    stats = convert(str(dataset.root), out)
    assert stats["examples"]["eval"] >= 4 and stats["num_classes"] == 4
    return out


def settings_for(folder: str, model_dir: str, **changes):
    """Settings over a convert-style folder."""
    from components.train.settings import Settings

    values = dict(train_data=os.path.join(folder, "train", "*.tfrecord"),
                  eval_data=os.path.join(folder, "eval", "*.tfrecord"),
                  label_map=os.path.join(folder, "label_map.pbtxt"), model_dir=model_dir)
    values.update(changes)
    preset = values.pop("preset", "seed")
    return Settings.create(preset, **values)


@pytest.fixture(scope="session")
def trained(converted, tmp_path_factory):
    """One short local run through the CLI: 4 steps at 128x128, evaluating every 2, then the export.

    Returns the CLI's printed summary (saved_model, model_dir, metrics) plus ``data``, the published
    generation that ``out/manifest.json`` names (``out/gen-<run>``, with train/, eval/, label_map.pbtxt and
    eval_coco.json: what the convert component's artifacts point at), and ``out``, the convert output folder.
    """
    import contextlib
    import io
    import json

    from components.common import manifest
    from components.train.__main__ import main

    data = manifest.generation_uri(converted)
    model_dir = str(tmp_path_factory.mktemp("trained") / "model")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["--local", "--preset", "local", "--train-data", os.path.join(data, "train", "*.tfrecord"),
                     "--eval-data", os.path.join(data, "eval", "*.tfrecord"),
                     "--label-map", os.path.join(data, "label_map.pbtxt"), "--model-dir", model_dir,
                     "--max-steps", "4", "--train-steps-per-eval", "2", "--warmup-steps", "1",
                     "--image-size", "128,128"])
    assert code == 0
    summary = json.loads(out.getvalue())
    summary["data"], summary["out"] = data, converted
    return summary
