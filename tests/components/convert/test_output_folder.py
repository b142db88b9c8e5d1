"""--output may not be the source, hold it, or lie inside it unless it is the converter's own folder."""
import hashlib
import json
import os

import pytest

from components.convert.options import Settings, check_output_place, output_inside_source
from components.convert.pipeline import convert
from components.samples import generate


def coco_in_train(root: str) -> str:
    """A COCO set whose images sit in ``train/`` (as many downloaded sets have them)."""
    dataset = generate(root, "coco", num_images=6, width=64, height=48, seed=1)
    src = str(dataset.root)
    os.rename(os.path.join(src, "images"), os.path.join(src, "train"))
    path = os.path.join(src, "annotations.json")
    doc = json.load(open(path))
    for image in doc["images"]:
        image["file_name"] = "train/" + image["file_name"]
    json.dump(doc, open(path, "w"))
    return src


def snapshot(root: str) -> dict[str, str]:
    out = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            out[os.path.relpath(path, root)] = hashlib.sha256(open(path, "rb").read()).hexdigest()
    return out


def test_output_equal_to_or_holding_the_source_is_refused_before_anything_is_written(tmp_path):
    src = coco_in_train(str(tmp_path / "coco"))
    before = snapshot(str(tmp_path))
    for output in (src, src + "/", str(tmp_path), os.path.join(src, "train", "..")):
        with pytest.raises(ValueError, match="--output.*--source"):
            convert(src, output, fmt="coco")
    assert snapshot(str(tmp_path)) == before


def test_a_symlinked_output_is_compared_by_its_real_path(tmp_path):
    src = coco_in_train(str(tmp_path / "coco"))
    os.symlink(src, str(tmp_path / "alias"))
    with pytest.raises(ValueError, match="--output.*--source"):
        Settings(source=src, output=str(tmp_path / "alias"))


def test_an_output_inside_the_source_holding_dataset_files_is_refused(tmp_path):
    src = coco_in_train(str(tmp_path / "coco"))
    before = snapshot(src)
    with pytest.raises(ValueError, match=r"--output .* inside --source .*sample_0000\d\.png"):
        convert(src, os.path.join(src, "train"), fmt="coco")
    assert snapshot(src) == before


def test_the_default_output_inside_the_source_works_and_can_be_rerun(tmp_path):
    src = coco_in_train(str(tmp_path / "coco"))
    first = convert(src, fmt="coco", eval_pct=50)
    second = convert(src, fmt="coco", eval_pct=50)
    assert first["examples"] == second["examples"] and sum(first["examples"].values()) == 6
    assert os.path.isfile(os.path.join(src, "output", "stats.json"))
    assert len(os.listdir(os.path.join(src, "train"))) == 6


def test_an_empty_or_new_folder_inside_the_source_is_fine(tmp_path):
    src = coco_in_train(str(tmp_path / "coco"))
    os.makedirs(os.path.join(src, "converted"))
    stats = convert(src, os.path.join(src, "converted"), fmt="coco")
    assert sum(stats["examples"].values()) == 6


@pytest.mark.parametrize("output", ["gs://b/run", "gs://b/run/", "gs://b//run", "gs://b", "gs://b/"])
def test_gcs_outputs_equal_to_or_above_the_source_are_refused(output):
    with pytest.raises(ValueError, match="--output.*--source"):
        check_output_place("gs://b/run", output)


def test_gcs_outputs_beside_or_below_the_source_pass_the_settings_check():
    check_output_place("gs://b/run", "gs://b/run2")
    check_output_place("gs://b/run", "gs://other/run")
    check_output_place("gs://b/run", "gs://b/run/output")
    assert output_inside_source("gs://b/run", "gs://b/run/output")
    assert not output_inside_source("gs://b/run", "gs://b/run2/output")
    assert Settings(source="gs://b/run").output_uri == "gs://b/run/output"
    with pytest.raises(ValueError, match="--output"):
        Settings(source="gs://b/run/data", output="gs://b/run")
