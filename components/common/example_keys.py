"""The ``tf.train.Example`` feature keys of a detection record (formats.md 5.1), in one place.

The convert step writes them (``components/convert/examples.py``); evaluate and the preview read
them (``components/evaluate/records.py``, ``components/common/example.py``). Model Garden's ``TfExampleDecoder``
reads the same names, so they are part of the record contract, not a choice of this project.
"""
from __future__ import annotations

ENCODED = "image/encoded"
FORMAT = "image/format"
HEIGHT = "image/height"
WIDTH = "image/width"
FILENAME = "image/filename"
SOURCE_ID = "image/source_id"
SHA256 = "image/key/sha256"
XMIN = "image/object/bbox/xmin"
XMAX = "image/object/bbox/xmax"
YMIN = "image/object/bbox/ymin"
YMAX = "image/object/bbox/ymax"
LABEL = "image/object/class/label"
TEXT = "image/object/class/text"
AREA = "image/object/area"
IS_CROWD = "image/object/is_crowd"
DIFFICULT = "image/object/difficult"

BYTES, INT64, FLOAT = "bytes", "int64", "float"

# Every key a record carries, in the order of the contract table, with its value type.
KINDS: dict[str, str] = {
    ENCODED: BYTES, FORMAT: BYTES, HEIGHT: INT64, WIDTH: INT64, FILENAME: BYTES, SOURCE_ID: BYTES,
    SHA256: BYTES, XMIN: FLOAT, XMAX: FLOAT, YMIN: FLOAT, YMAX: FLOAT, LABEL: INT64, TEXT: BYTES,
    AREA: FLOAT, IS_CROWD: INT64, DIFFICULT: INT64,
}
# One value per image; the rest are lists with one value per object.
PER_IMAGE = (ENCODED, FORMAT, HEIGHT, WIDTH, FILENAME, SOURCE_ID, SHA256)
# Boxes as Model Garden stacks them: [ymin, xmin, ymax, xmax].
BOX = (YMIN, XMIN, YMAX, XMAX)
# What evaluate reads; no decoder reads the image hash or ``difficult``.
READ = tuple(key for key in KINDS if key not in (SHA256, DIFFICULT))
