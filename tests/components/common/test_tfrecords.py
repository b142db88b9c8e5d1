import io

import pytest
import tensorflow as tf

from components.common.tfrecords import RecordError, iter_records, parse_example


def tf_example() -> tf.train.Example:
    return tf.train.Example(features=tf.train.Features(feature={
        "image/encoded": tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"\x89PNG" + bytes(range(256))])),
        "image/object/class/text": tf.train.Feature(bytes_list=tf.train.BytesList(value=["caf\u00e9".encode(), b""])),
        "image/object/bbox/xmin": tf.train.Feature(float_list=tf.train.FloatList(value=[0.25, 0.5, 1.0])),
        "image/object/class/label": tf.train.Feature(int64_list=tf.train.Int64List(value=[1, 300, -2, 2 ** 40])),
        "image/object/area": tf.train.Feature(float_list=tf.train.FloatList(value=[])),
        "empty": tf.train.Feature(),
    }))


def test_examples_written_by_tensorflow_parse_to_the_same_values():
    features = parse_example(tf_example().SerializeToString())
    assert features == {
        "image/encoded": [b"\x89PNG" + bytes(range(256))],
        "image/object/class/text": ["caf\u00e9".encode(), b""],
        "image/object/bbox/xmin": [0.25, 0.5, 1.0],
        "image/object/class/label": [1, 300, -2, 2 ** 40],
        "image/object/area": [],
        "empty": [],
    }


def test_records_written_by_tensorflow_read_back_with_crcs_checked(tmp_path):
    path = str(tmp_path / "a.tfrecord")
    payloads = [tf_example().SerializeToString(), b"", b"x" * 70000]
    with tf.io.TFRecordWriter(path) as writer:
        for p in payloads:
            writer.write(p)
    with open(path, "rb") as f:
        assert list(iter_records(f, path)) == payloads


def test_damage_is_named_with_the_file_and_offset(tmp_path):
    path = tmp_path / "a.tfrecord"
    with tf.io.TFRecordWriter(str(path)) as writer:
        writer.write(b"first")
        writer.write(b"second")
    data = bytearray(path.read_bytes())
    data[21 + 14] ^= 0xFF  # a byte of the second record's data (the first record takes 21 bytes)
    with pytest.raises(RecordError, match=r"a.tfrecord: corrupt record data at byte 21"):
        list(iter_records(io.BytesIO(bytes(data)), "a.tfrecord"))
    with pytest.raises(RecordError, match="truncated record at byte 21"):
        list(iter_records(io.BytesIO(path.read_bytes()[:-3]), "a.tfrecord"))
    with pytest.raises(RecordError):
        parse_example(b"\x0a\xff\xff")
