import hashlib
import math

import pytest
import tensorflow as tf

from components.convert.examples import clip_box, encode, native_scale
from components.convert.frames import Box, Frame
from components.convert.images import ImageError
from components.convert.split import source_id
from tests.components.convert.helpers import jpeg_bytes, png_bytes


def parse(encoded, tmp_path):
    path = tmp_path / "one.tfrecord"
    path.write_bytes(b"".join(encoded.chunks))
    # TFRecordDataset checks both CRCs of every record.
    records = list(tf.data.TFRecordDataset(str(path)))
    assert len(records) == 1
    return tf.train.Example.FromString(records[0].numpy()).features.feature


def test_record_has_the_contract_keys_and_values(tmp_path):
    data = png_bytes(100, 50)
    frame = Frame("RGB1/rgb_7.png", (Box(10, 5, 20, 10, "cube"), Box(90, 40, 30, 30, "ball")), "c.json")
    encoded = encode("inst:0/RGB1/rgb_7.png", frame, data, {"cube": 1, "ball": 3})
    f = parse(encoded, tmp_path)
    assert f["image/encoded"].bytes_list.value[0] == data
    assert f["image/format"].bytes_list.value == [b"png"]
    assert (f["image/width"].int64_list.value, f["image/height"].int64_list.value) == ([100], [50])
    assert f["image/filename"].bytes_list.value == [b"inst:0/RGB1/rgb_7.png"]
    assert f["image/source_id"].bytes_list.value == [str(source_id("inst:0/RGB1/rgb_7.png")).encode()]
    assert f["image/object/class/label"].int64_list.value == [1, 3]
    assert f["image/object/class/text"].bytes_list.value == [b"cube", b"ball"]
    # The second box is clipped to the image: x 90..100, y 40..50.
    assert f["image/object/bbox/xmin"].float_list.value == pytest.approx([0.1, 0.9])
    assert f["image/object/bbox/xmax"].float_list.value == pytest.approx([0.3, 1.0])
    assert f["image/object/bbox/ymin"].float_list.value == pytest.approx([0.1, 0.8])
    assert f["image/object/bbox/ymax"].float_list.value == pytest.approx([0.3, 1.0])
    assert f["image/object/area"].float_list.value == pytest.approx([200, 100])
    assert f["image/object/is_crowd"].int64_list.value == [0, 0]
    assert f["image/key/sha256"].bytes_list.value == [b""]  # written only with --image-sha256
    assert encoded.size == sum(len(c) for c in encoded.chunks)


def test_a_record_is_the_image_bytes_between_two_joined_chunks(tmp_path):
    # A 200x200 noise PNG is over 64 KiB: it stays one chunk, the very object read, and every small
    # field before and after it is joined, so writing and checking a record costs three calls.
    data = png_bytes(200, 200)
    frame = Frame("k", tuple(Box(i, i, 5, 5, "a") for i in range(40)), "c.json")
    encoded = encode("k", frame, data, {"a": 1})
    assert len(encoded.chunks) == 3 and encoded.chunks[1] is data
    assert len(parse(encoded, tmp_path)["image/object/bbox/xmin"].float_list.value) == 40


def test_negative_example_has_empty_lists(tmp_path):
    f = parse(encode("a.jpg", Frame("a.jpg", (), "c.json"), jpeg_bytes(), {}), tmp_path)
    assert f["image/format"].bytes_list.value == [b"jpeg"]
    assert list(f["image/object/bbox/xmin"].float_list.value) == []
    assert list(f["image/object/class/label"].int64_list.value) == []


def test_unusable_boxes_are_dropped_with_reasons():
    boxes = (Box(-50, -50, 10, 10, "a"), Box(1, 1, 0, 5, "a"), Box(math.nan, 1, 5, 5, "a"),
             Box(1, 1, 5, 5, "unknown"), Box(1, 1, 5, 5, "a"))
    encoded = encode("k", Frame("k", boxes, "c.json", dropped=("bad_box",)), png_bytes(), {"a": 1})
    assert [o.label for o in encoded.objects] == [1]
    assert sorted(encoded.dropped) == ["bad_box", "empty_box", "empty_box", "empty_box", "unknown_label"]


def test_records_are_byte_identical_across_calls():
    frame = Frame("k", (Box(1, 2, 3, 4, "a"),), "c.json")
    data = png_bytes()
    assert b"".join(encode("k", frame, data, {"a": 1}).chunks) == b"".join(encode("k", frame, data, {"a": 1}).chunks)


def test_corrupt_image_raises():
    with pytest.raises(ImageError):
        encode("k", Frame("k", (), "c.json"), b"not an image", {})


def test_clip_box():
    assert clip_box(-5, -5, 10, 10, 100, 100) == (0, 0, 5, 5)
    assert clip_box(95, 95, 10, 10, 100, 100) == (95, 95, 5, 5)
    assert clip_box(100, 0, 10, 10, 100, 100) is None
    assert clip_box(0, 0, -1, 10, 100, 100) is None
    assert clip_box(0, 0, math.inf, 10, 100, 100) is None


def test_boxes_in_native_pixels_are_scaled_to_a_smaller_stored_image(tmp_path):
    # A 1/16 copy (324x216) of a 5184x3456 photo whose box was drawn on the full frame.
    frame = Frame("images/IMG_1.JPG", (Box(1600, 1120, 3200, 1600, "cube"),), "annotations.json",
                  native_size=(5184, 3456))
    encoded = encode("images/IMG_1.JPG", frame, jpeg_bytes(324, 216), {"cube": 1})
    assert encoded.warnings == ("boxes_rescaled_from_native_size",)
    (row,) = encoded.objects
    assert (row.x, row.y, row.width, row.height, row.area) == pytest.approx((100, 70, 200, 100, 20000))
    f = parse(encoded, tmp_path)
    assert f["image/object/bbox/xmax"].float_list.value == pytest.approx([300 / 324])


@pytest.mark.parametrize("stored, native, factors", [
    ((5184, 3456), (5184, 3456), None),
    ((1296, 864), (5184, 3456), (0.25, 0.25)),
    ((864, 1296), (5184, 3456), (0.25, 0.25)),  # portrait copy
    ((100, 50), None, None),
])
def test_native_scale(stored, native, factors):
    frame = Frame("a.jpg", (), "a.json", native_size=native)
    assert native_scale(frame, *stored) == (pytest.approx(factors) if factors else None)


def test_exif_orientation_is_kept_as_stored_and_flagged():
    frame = Frame("a.jpg", (Box(1, 2, 3, 4, "cube"),), "a.json")
    encoded = encode("a.jpg", frame, jpeg_bytes(40, 30, orientation=6), {"cube": 1})
    assert encoded.warnings == ("exif_orientation_ignored",)
    assert (encoded.width, encoded.height) == (40, 30)
    assert [(r.x, r.y, r.width, r.height) for r in encoded.objects] == [(1, 2, 3, 4)]
    assert encode("a.jpg", frame, jpeg_bytes(40, 30, orientation=1), {"cube": 1}).warnings == ()


def test_the_image_hash_is_written_only_on_request(tmp_path):
    frame = Frame("a.png", (Box(1, 2, 3, 4, "cube"),), "a.json")
    data = png_bytes(40, 30)
    with_hash = encode("a.png", frame, data, {"cube": 1}, sha256=True)
    without = encode("a.png", frame, data, {"cube": 1})
    assert parse(without, tmp_path)["image/key/sha256"].bytes_list.value == [b""]
    assert parse(with_hash, tmp_path)["image/key/sha256"].bytes_list.value == [hashlib.sha256(data).hexdigest().encode()]
    assert without.size == with_hash.size - 64
    assert without.objects == with_hash.objects
