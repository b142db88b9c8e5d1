import os
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from components.evaluate.records import ImageDecodeError, group_batches, match_files, read_examples
from tests.components.evaluate import builders
from tests.components.evaluate.builders import Shape


def test_reads_every_key_of_the_contract(tmp_path):
    path = builders.write_records(str(tmp_path / "eval-00000-of-00001.tfrecord"), [
        builders.example(200, 100, [Shape(1, 10, 20, 60, 70), Shape(3, 0, 0, 200, 100)], 42, "RGB0/a b.png"),
        builders.example(64, 48, [], 7, "RGB0/empty.jpg", fmt="JPEG")])
    first, second = list(read_examples(path))
    assert (first.source_id, first.filename, first.width, first.height, first.image_format) == (
        "42", "RGB0/a b.png", 200, 100, "png")
    assert first.labels.tolist() == [1, 3] and first.texts == ("rectangle", "triangle")
    np.testing.assert_allclose(first.pixel_boxes(), [[10, 20, 50, 50], [0, 0, 200, 100]], atol=1e-4)
    np.testing.assert_allclose(first.pixel_areas(), [2500, 20000])
    assert first.is_crowd.tolist() == [0, 0] and first.file == path
    assert first.image is None and first.encoded[:4] == b"\x89PNG"
    assert tf.train.Example.FromString(first.serialized).features.feature["image/source_id"].bytes_list.value == [b"42"]
    assert (second.num_objects, second.image_format, second.pixel_boxes().shape) == (0, "jpeg", (0, 4))


def test_decodes_images_when_asked(tmp_path):
    record = builders.example(30, 20, [Shape(2, 0, 0, 5, 5)], 1, "a")
    path = builders.write_records(str(tmp_path / "r.tfrecord"), [record])
    (ex,) = read_examples(path, decode=True)
    assert ex.image.shape == (20, 30, 3) and ex.image.dtype == np.uint8
    assert ex.image[0, 0].tolist() == [0, 255, 0] and ex.image[10, 10].tolist() == [40, 40, 40]


def test_size_comes_from_the_image_header_when_the_record_lacks_it(tmp_path):
    serialized = builders.example(30, 20, [Shape(1, 0, 0, 15, 10)], 1, "a")
    example = tf.train.Example.FromString(serialized)
    del example.features.feature["image/height"]
    del example.features.feature["image/width"]
    path = builders.write_records(str(tmp_path / "r.tfrecord"), [example.SerializeToString()])
    (ex,) = read_examples(path)
    assert (ex.width, ex.height) == (30, 20)
    np.testing.assert_allclose(ex.pixel_boxes(), [[0, 0, 15, 10]], atol=1e-4)


def test_shards_are_read_in_turn_and_limit_stops_early(tmp_path):
    for shard in range(3):
        builders.write_records(str(tmp_path / f"eval-{shard:05d}-of-00003.tfrecord"),
                               [builders.example(8, 8, [], shard * 10 + i + 1, f"{shard}/{i}") for i in range(3)])
    ids = [ex.source_id for ex in read_examples(str(tmp_path))]
    assert ids == ["1", "11", "21", "2", "12", "22", "3", "13", "23"]
    assert [ex.source_id for ex in read_examples(str(tmp_path / "*.tfrecord"), limit=4)] == ["1", "11", "21", "2"]


def test_match_files_accepts_globs_folders_and_lists(tmp_path):
    a = builders.write_records(str(tmp_path / "train" / "train-00000-of-00001.tfrecord"), [])
    b = builders.write_records(str(tmp_path / "eval" / "eval-00000-of-00001.tfrecord"), [])
    assert match_files(str(tmp_path / "*" / "*.tfrecord")) == [b, a]
    assert match_files([str(tmp_path / "train"), str(tmp_path / "eval"), b]) == [a, b]
    with pytest.raises(ValueError, match="no TFRecord files match .*nothing"):
        match_files(str(tmp_path / "nothing*"))
    os.makedirs(tmp_path / "empty")
    with pytest.raises(ValueError, match=r"empty.*\*\.tfrecord\*"):
        match_files(str(tmp_path / "empty"))


def test_corrupt_and_incomplete_records_raise_value_error(tmp_path):
    good = builders.write_records(str(tmp_path / "good.tfrecord"), [builders.example(8, 8, [], 1, "a")])
    data = Path(good).read_bytes()
    with open(tmp_path / "cut.tfrecord", "wb") as f:
        f.write(data[: len(data) // 2])
    with pytest.raises(ValueError, match="cut.tfrecord"):
        list(read_examples(str(tmp_path / "cut.tfrecord")))
    no_image = tf.train.Example.FromString(builders.example(8, 8, [], 1, "a"))
    del no_image.features.feature["image/encoded"]
    builders.write_records(str(tmp_path / "noimage.tfrecord"), [no_image.SerializeToString()])
    with pytest.raises(ValueError, match="image/encoded"):
        list(read_examples(str(tmp_path / "noimage.tfrecord")))


def test_group_batches_keeps_one_size_per_batch(tmp_path):
    records = [builders.example(w, h, [], i + 1, str(i)) for i, (w, h) in
               enumerate([(10, 10), (20, 10), (10, 10), (10, 10), (20, 10), (10, 10), (30, 30)])]
    path = builders.write_records(str(tmp_path / "r.tfrecord"), records)
    batches = list(group_batches(read_examples(path), batch_size=2))
    assert [[ex.source_id for ex in b] for b in batches] == [["1", "3"], ["2", "5"], ["4", "6"], ["7"]]
    assert all(len({(ex.width, ex.height) for ex in b}) == 1 for b in batches)


def test_group_batches_releases_partial_batches_when_too_many_wait(tmp_path):
    records = [builders.example(10 + i, 10, [], i + 1, str(i)) for i in range(6)]
    path = builders.write_records(str(tmp_path / "r.tfrecord"), records)
    batches = list(group_batches(read_examples(path), batch_size=4, max_pending=3))
    assert sorted(ex.source_id for b in batches for ex in b) == [str(i + 1) for i in range(6)]
    assert len(batches) == 6 and batches[0][0].source_id == "1"
    with pytest.raises(ValueError, match="batch_size"):
        list(group_batches([], 0))


def shard_with_a_bad_image(folder):
    """An eval shard from the convert writer: two good images and, between them, PNG-looking garbage."""
    from components.convert.examples import encode
    from components.convert.frames import Box, Frame
    from components.convert.images import ImageInfo
    from components.convert.split import source_id

    good = builders.image_bytes(200, 100, [Shape(1, 10, 20, 60, 70)])
    garbage = good[:33] + bytes(range(256)) * 4  # the PNG signature and header, then noise
    chunks = []
    for key, data in (("a/good_1.png", good), ("b/bad.png", garbage), ("a/good_2.png", good)):
        frame = Frame(key, (Box(10, 20, 50, 50, "rectangle"),), "c.json")
        chunks += encode(key, frame, data, {"rectangle": 1}, info=ImageInfo("png", 200, 100)).chunks
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "eval-00000-of-00001.tfrecord")
    Path(path).write_bytes(b"".join(chunks))
    return path, f"{path} record 1 (image/filename 'b/bad.png', image/source_id '{source_id('b/bad.png')}')"


def test_an_image_that_does_not_decode_is_named_by_shard_record_and_file(tmp_path):
    path, named = shard_with_a_bad_image(str(tmp_path / "eval"))
    assert [ex.filename for ex in read_examples(path)] == ["a/good_1.png", "b/bad.png", "a/good_2.png"]
    with pytest.raises(ImageDecodeError) as err:
        list(read_examples(path, decode=True))
    assert str(err.value).startswith(named + ": image/encoded does not decode: ")
    assert isinstance(err.value, ValueError)
