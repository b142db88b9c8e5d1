import tensorflow as tf

from components.common import example_keys
from components.convert.examples import encode
from components.convert.frames import Box, Frame
from components.evaluate import records
from tests.components.convert.helpers import png_bytes

# The table of formats.md 5.1: key and value type.
CONTRACT = {
    "image/encoded": "bytes", "image/format": "bytes", "image/height": "int64", "image/width": "int64",
    "image/filename": "bytes", "image/source_id": "bytes", "image/key/sha256": "bytes",
    "image/object/bbox/xmin": "float", "image/object/bbox/xmax": "float",
    "image/object/bbox/ymin": "float", "image/object/bbox/ymax": "float",
    "image/object/class/label": "int64", "image/object/class/text": "bytes",
    "image/object/area": "float", "image/object/is_crowd": "int64", "image/object/difficult": "int64",
}
LISTS = {"bytes": "bytes_list", "int64": "int64_list", "float": "float_list"}
DTYPES = {"bytes": tf.string, "int64": tf.int64, "float": tf.float32}


def test_the_constants_are_the_contract_table():
    assert example_keys.KINDS == CONTRACT
    assert list(example_keys.KINDS) == list(CONTRACT)
    assert example_keys.BOX == ("image/object/bbox/ymin", "image/object/bbox/xmin",
                                "image/object/bbox/ymax", "image/object/bbox/xmax")


def test_the_writer_writes_exactly_the_contract_keys_with_their_types():
    frame = Frame("RGB1/rgb_7.png", (Box(10, 5, 20, 10, "cube"),), "c.json")
    encoded = encode("RGB1/rgb_7.png", frame, png_bytes(100, 50), {"cube": 1})
    payload = b"".join(encoded.chunks)[12:-4]  # TFRecord framing: length and its CRC, data, CRC
    features = tf.train.Example.FromString(payload).features.feature
    assert set(features) == set(CONTRACT)
    assert {key: features[key].WhichOneof("kind") for key in features} == {
        key: LISTS[kind] for key, kind in CONTRACT.items()}


def test_the_reader_reads_the_same_names_with_the_same_types():
    read = set(CONTRACT) - {"image/key/sha256", "image/object/difficult"}  # no decoder reads these
    assert set(records._FEATURES) == read == set(example_keys.READ)
    assert {key: spec.dtype for key, spec in records._FEATURES.items()} == {
        key: DTYPES[CONTRACT[key]] for key in read}
    per_object = {key for key in read if key.startswith("image/object/")}
    assert {key for key, spec in records._FEATURES.items()
            if isinstance(spec, tf.io.VarLenFeature)} == per_object
