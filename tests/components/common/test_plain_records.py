"""The plain-Python record reader against TensorFlow's, on the convert step's real output."""
import os

import numpy as np
import pytest

from components.common import manifest, plain_records
from components.evaluate import records
from tests.conftest import EMULATOR_BUCKET, upload_tree


def by_name(examples):
    return {ex.filename: ex for ex in examples}


def assert_same(plain, reference):
    assert set(plain) == set(reference)
    for name, ex in plain.items():
        ref = reference[name]
        assert (ex.encoded, ex.serialized, ex.width, ex.height, ex.source_id, ex.image_format, ex.texts) == \
            (ref.encoded, ref.serialized, ref.width, ref.height, ref.source_id, ref.image_format, ref.texts)
        np.testing.assert_array_equal(ex.boxes, ref.boxes)
        np.testing.assert_array_equal(ex.labels, ref.labels)
        np.testing.assert_array_equal(ex.areas, ref.areas)
        np.testing.assert_array_equal(ex.is_crowd, ref.is_crowd)


def published(out) -> str:
    """The generation folder that the convert output's manifest.json names."""
    return manifest.generation_uri(str(out))


def test_plain_reader_gives_what_tensorflow_gives(converted):
    out, stats = converted
    pattern = os.path.join(published(out), "*", "*.tfrecord")
    plain = by_name(plain_records.read_examples(pattern))
    assert len(plain) == stats["examples"]["train"] + stats["examples"]["eval"]
    assert_same(plain, by_name(records.read_examples(pattern)))


def test_folders_globs_and_files(converted):
    out, stats = converted
    gen = published(out)
    eval_files = plain_records.match_files(os.path.join(gen, "eval"))
    assert eval_files == [s["uri"] for s in manifest.shards(str(out), "eval")]
    assert eval_files and all("/eval/eval-" in f for f in eval_files)
    assert plain_records.match_files([os.path.join(gen, "*", "*.tfrecord")]) == \
        plain_records.match_files([os.path.join(gen, "eval"), os.path.join(gen, "train")])
    assert plain_records.match_files(eval_files[0]) == eval_files[:1]
    assert len(list(plain_records.read_examples(os.path.join(gen, "eval")))) == stats["examples"]["eval"]
    assert len(list(plain_records.read_examples(os.path.join(gen, "*", "*.tfrecord"), limit=3))) == 3
    with pytest.raises(ValueError, match="no TFRecord files match"):
        plain_records.match_files(str(out / "nothing" / "*.tfrecord"))


def test_a_damaged_shard_is_named(converted, tmp_path):
    out, _ = converted
    shard = manifest.shards(str(out), "eval")[0]["uri"]
    data = bytearray(open(shard, "rb").read())
    data[len(data) // 2] ^= 0xFF
    broken = tmp_path / "eval-00000-of-00001.tfrecord"
    broken.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"unreadable record in .*eval-00000-of-00001.tfrecord: .*corrupt"):
        list(plain_records.read_examples(str(broken)))


def test_records_in_a_bucket(converted, gcs_emulator):
    out, _ = converted
    remote_out = f"gs://{EMULATOR_BUCKET}/plain-records"
    upload_tree(str(out), remote_out)
    remote_gen = manifest.generation_uri(remote_out)
    assert remote_gen == f"{remote_out}/{os.path.basename(published(out))}"
    remote = by_name(plain_records.read_examples(f"{remote_gen}/*/*.tfrecord"))
    assert_same(remote, by_name(plain_records.read_examples(os.path.join(published(out), "*", "*.tfrecord"))))
    files = plain_records.match_files(f"{remote_gen}/eval")
    assert files == [s["uri"] for s in manifest.shards(remote_out, "eval")]
    assert files and all(f.startswith(f"{remote_gen}/eval/eval-") for f in files)


def test_many_shards_are_read_in_turns_of_a_bounded_group(tmp_path):
    from components.convert.examples import encode
    from components.convert.frames import Box, Frame
    from tests.components.convert.helpers import png_bytes

    image = png_bytes(8, 8)
    shards = plain_records.MAX_OPEN + 4
    for s in range(shards):
        with open(tmp_path / f"train-{s:05d}-of-{shards:05d}.tfrecord", "wb") as f:
            for r in range(2):
                key = f"s{s:02d}r{r}.png"
                f.writelines(encode(key, Frame(key, (Box(1, 1, 4, 4, "cube"),), "t"), image, {"cube": 1}).chunks)
    names = [ex.filename for ex in plain_records.read_examples(str(tmp_path))]
    assert sorted(names) == sorted(f"s{s:02d}r{r}.png" for s in range(shards) for r in range(2))
    group = plain_records.MAX_OPEN
    assert names[:group] == [f"s{s:02d}r0.png" for s in range(group)]  # one record from each shard in turn
    assert names[2 * group:2 * group + 4] == [f"s{s:02d}r0.png" for s in range(group, shards)]
