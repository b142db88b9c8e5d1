import glob
import json
import os

import pytest
import tensorflow as tf

from components.common import uris
from components.convert.options import Settings
from components.convert.pipeline import ConversionError, convert, run
from components.convert.plan import NoDatasetError
from tests.components.convert.builders import legacy_dataset
from tests.conftest import EMULATOR_BUCKET, upload_tree


def read_records(pattern: str) -> dict[bytes, tf.train.Example]:
    files = sorted(glob.glob(pattern)) if not pattern.startswith("gs://") else None
    out = {}
    for raw in tf.data.TFRecordDataset(files):
        ex = tf.train.Example.FromString(raw.numpy())
        out[ex.features.feature["image/filename"].bytes_list.value[0]] = ex
    return out


def test_bad_inputs_are_skipped_counted_and_reported(tmp_path):
    src = str(tmp_path / "ds")
    good = legacy_dataset(src, 40, corrupt=(1,), missing=(2,), unsafe=(3,), no_box=(4,), bad_json=True)
    stats = convert(src, eval_pct=25, max_bad_fraction=0.5)
    assert stats["ok"]
    # The truncated captures file, of unknown size, is one of three annotation files.
    assert stats["lost_annotation_files"] == 1 and stats["annotation_files"] == 3
    assert stats["images_rejected"] == 4 and stats["images_listed"] == 40
    assert stats["bad_fraction"] == pytest.approx(1 / 3 + 2 / 3 * 4 / 40, abs=1e-6)
    assert stats["skipped"] == {"bad_image": 1, "bad_json": 1, "missing_image": 1, "no_box_annotation": 1,
                                "unsafe_path": 1}
    assert stats["skipped_examples"]["bad_image"] == ["RGB0/rgb_4.png"]
    assert stats["examples"]["train"] + stats["examples"]["eval"] == len(good) == 36
    assert 3 <= stats["examples"]["eval"] <= 16
    assert stats["labels"] == {"1": "cube", "2": "ball"} and stats["num_classes"] == 3
    out = os.path.join(src, "output")
    records = read_records(os.path.join(out, "gen-*", "*", "*.tfrecord"))
    assert sorted(k.decode() for k in records) == sorted(good)
    errors = [json.loads(line) for line in open(os.path.join(out, "errors.jsonl"))]
    bad_json = [e for e in errors if e["reason"] == "bad_json"][0]
    assert bad_json["file"] == "Dataset0/captures_002.json" and "truncated" in bad_json["detail"]
    coco = json.load(open(os.path.join(out, "eval_coco.json")))
    assert len(coco["images"]) == stats["examples"]["eval"]
    assert {c["id"] for c in coco["categories"]} == {1, 2}
    assert open(os.path.join(out, "label_map.pbtxt")).read().startswith("item {\n  id: 1\n  name: 'cube'\n}")


def test_reruns_give_identical_records_and_replace_old_shards(tmp_path):
    src = str(tmp_path / "ds")
    legacy_dataset(src, 20)
    out = str(tmp_path / "out")
    convert(src, out, eval_pct=20)
    first = {k: v.SerializeToString() for k, v in read_records(os.path.join(out, "gen-*", "*", "*.tfrecord")).items()}
    old_generation = glob.glob(os.path.join(out, "gen-*"))
    stale = os.path.join(out, "train", "train-00007-of-00009.tfrecord")  # the earlier layout's place
    os.makedirs(os.path.dirname(stale))
    open(stale, "wb").write(b"old")
    convert(src, out, eval_pct=20)
    assert not os.path.exists(stale) and not any(os.path.exists(g) for g in old_generation)
    second = {k: v.SerializeToString() for k, v in read_records(os.path.join(out, "gen-*", "*", "*.tfrecord")).items()}
    assert first == second
    assert not glob.glob(os.path.join(out, ".tmp-*"))


def test_too_many_bad_images_publishes_nothing(tmp_path):
    src = str(tmp_path / "ds")
    legacy_dataset(src, 10, corrupt=(0, 1, 2))
    out = str(tmp_path / "out")
    with pytest.raises(ConversionError, match=r"30\.0% of images were rejected"):
        convert(src, out, max_bad_fraction=0.05)
    # Nothing was published, and the stats say why.
    assert not glob.glob(os.path.join(out, "**", "*.tfrecord"), recursive=True)
    assert not os.path.exists(os.path.join(out, "manifest.json"))
    stats = json.load(open(glob.glob(os.path.join(out, ".failed-*", "stats.json"))[0]))
    assert stats["ok"] is False and stats["skipped"] == {"bad_image": 3}


def test_errors_jsonl_lists_the_first_problems_per_reason_and_stats_count_all(tmp_path):
    src = str(tmp_path / "ds")
    legacy_dataset(src, 12, corrupt=(0, 1, 2, 3, 4), missing=(5, 6, 7))
    stats = run(Settings(source=src, max_bad_fraction=1.0, max_listed_errors=2))
    assert stats["skipped"] == {"bad_image": 5, "missing_image": 3}
    assert stats["errors_listed"] == 4 and stats["bad_fraction"] == pytest.approx(8 / 12)
    errors = [json.loads(line) for line in open(os.path.join(src, "output", "errors.jsonl"))]
    assert [(e["reason"], e["file"]) for e in errors] == [
        ("bad_image", "RGB0/rgb_3.png"), ("bad_image", "RGB0/rgb_4.png"),
        ("missing_image", "RGB0/rgb_10.png"), ("missing_image", "RGB0/rgb_8.png")]


def test_nothing_convertible_says_what_was_looked_for(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(NoDatasetError, match=r"looked for Perception datasets \(captures_NNN.json in any folder\)"):
        convert(str(tmp_path))
    with pytest.raises(NoDatasetError, match="does not exist"):
        convert(str(tmp_path / "nope"))


def test_gcs_source_and_output_on_the_emulator(tmp_path, gcs_emulator):
    local = str(tmp_path / "ds")
    good = legacy_dataset(local, 15, corrupt=(5,))
    src = f"gs://{EMULATOR_BUCKET}/pipeline-test/run"
    upload_tree(local, src)
    # Worker processes (not threads) must reach the emulator too.
    stats = convert(src, max_bad_fraction=0.1,
                    beam_args=["--direct_running_mode=multi_processing", "--direct_num_workers=2"])
    assert stats["examples"]["train"] + stats["examples"]["eval"] == len(good)
    out = uris.join(src, "output")
    names = list(uris.iter_files(out))
    assert "stats.json" in names and "label_map.pbtxt" in names and "eval_coco.json" in names
    shards = [n for n in names if n.endswith(".tfrecord")]
    generation = json.loads(uris.read_text(uris.join(out, "manifest.json")))["generation"]
    assert shards and all(n.startswith((f"{generation}/train/train-", f"{generation}/eval/eval-")) for n in shards)
    assert not any(n.startswith(".tmp-") for n in names)
    local_copy = tmp_path / "copy"
    for n in shards:
        (local_copy / n).parent.mkdir(parents=True, exist_ok=True)
        (local_copy / n).write_bytes(uris.read_bytes(uris.join(out, n)))
    records = read_records(str(local_copy / generation / "*" / "*.tfrecord"))
    assert sorted(k.decode() for k in records) == sorted(good)
