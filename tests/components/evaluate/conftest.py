"""Session fixtures: eval records of two image sizes and real SavedModels that detect them."""
from __future__ import annotations

import pytest

from tests.components.evaluate import builders


@pytest.fixture(scope="session")
def eval_set(tmp_path_factory):
    """(folder with eval/ shards and label_map.pbtxt, the images written)."""
    root = tmp_path_factory.mktemp("converted")
    images = builders.eval_set(str(root / "eval"))
    builders.label_map_file(str(root / "label_map.pbtxt"))
    return root, images


@pytest.fixture(scope="session")
def exported(tmp_path_factory):
    """A Model Garden-like export with serving_default and serving_tf_example, boxes in input pixels."""
    return builders.save_detector(str(tmp_path_factory.mktemp("export")))


@pytest.fixture(scope="session")
def exported_images_only(tmp_path_factory):
    """An export with only serving_default (image_tensor) and normalized boxes, per its params.yaml."""
    return builders.save_detector(str(tmp_path_factory.mktemp("export_norm")), tf_example=False, normalized=True)


@pytest.fixture(scope="session")
def converted(tmp_path_factory):
    """The convert step's real output for a small legacy Perception dataset (one image missing,
    one without boxes), made with the in-memory DirectRunner."""
    from components.convert.pipeline import convert
    from tests.components.convert.builders import legacy_dataset

    root = tmp_path_factory.mktemp("convert")
    legacy_dataset(str(root / "ds"), 12, missing=(3,), no_box=(5,))
    stats = convert(str(root / "ds"), str(root / "out"), eval_pct=25.0, max_bad_fraction=0.5,
                    beam_args=["--direct_running_mode=in_memory", "--direct_num_workers=1"])
    return root / "out", stats
