"""The plain-Python record reader against TensorFlow's, on the convert step's real output."""
import numpy as np
import pytest

from components.evaluate import plain_records, records
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


def test_plain_reader_gives_what_tensorflow_gives(converted):
    out, stats = converted
    pattern = str(out / "*" / "*.tfrecord")
    plain = by_name(plain_records.read_examples(pattern))
    assert len(plain) == stats["examples"]["train"] + stats["examples"]["eval"]
    assert_same(plain, by_name(records.read_examples(pattern)))


def test_folders_globs_and_files(converted):
    out, stats = converted
    eval_files = plain_records.match_files(str(out / "eval"))
    assert eval_files and all("/eval/eval-" in f for f in eval_files)
    assert plain_records.match_files([str(out / "*" / "*.tfrecord")]) == \
        plain_records.match_files([str(out / "eval"), str(out / "train")])
    assert plain_records.match_files(eval_files[0]) == eval_files[:1]
    assert len(list(plain_records.read_examples(str(out / "eval")))) == stats["examples"]["eval"]
    assert len(list(plain_records.read_examples(str(out / "*" / "*.tfrecord"), limit=3))) == 3
    with pytest.raises(ValueError, match="no TFRecord files match"):
        plain_records.match_files(str(out / "nothing" / "*.tfrecord"))


def test_a_damaged_shard_is_named(converted, tmp_path):
    out, _ = converted
    shard = plain_records.match_files(str(out / "eval"))[0]
    data = bytearray(open(shard, "rb").read())
    data[len(data) // 2] ^= 0xFF
    broken = tmp_path / "eval-00000-of-00001.tfrecord"
    broken.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"unreadable record in .*eval-00000-of-00001.tfrecord: .*corrupt"):
        list(plain_records.read_examples(str(broken)))


def test_records_in_a_bucket(converted, gcs_emulator):
    out, _ = converted
    upload_tree(str(out), f"gs://{EMULATOR_BUCKET}/plain-records")
    remote = by_name(plain_records.read_examples(f"gs://{EMULATOR_BUCKET}/plain-records/*/*.tfrecord"))
    assert_same(remote, by_name(plain_records.read_examples(str(out / "*" / "*.tfrecord"))))
    files = plain_records.match_files(f"gs://{EMULATOR_BUCKET}/plain-records/eval")
    assert files and all(f.startswith(f"gs://{EMULATOR_BUCKET}/plain-records/eval/eval-") for f in files)


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
