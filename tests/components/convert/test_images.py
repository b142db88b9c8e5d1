import pytest

from components.convert.images import ImageError, ImageInfo, exif_orientation, image_info
from tests.components.convert.helpers import jpeg_bytes, png_bytes


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
def test_png_size_from_header(mode):
    assert image_info(png_bytes(123, 45, mode)) == ImageInfo("png", 123, 45)


@pytest.mark.parametrize("progressive", [False, True])
def test_jpeg_size_from_sof(progressive):
    assert image_info(jpeg_bytes(200, 97, progressive)) == ImageInfo("jpeg", 200, 97)


@pytest.mark.parametrize("orientation", [None, 1, 3, 6, 8])
def test_jpeg_exif_orientation_is_read_without_decoding(orientation):
    info = image_info(jpeg_bytes(80, 60, orientation=orientation))
    assert (info.width, info.height, info.orientation) == (80, 60, orientation or 1)


def test_kind_comes_from_magic_bytes_not_names():
    # A JPEG is a JPEG whatever the file is called; the function sees bytes only.
    assert image_info(jpeg_bytes()).format == "jpeg"


@pytest.mark.parametrize("data, message", [
    (b"", "empty"),
    (b"GIF89a........", "not a PNG or JPEG"),
    (png_bytes()[:20], "truncated PNG"),
    (png_bytes()[:-20], "truncated PNG: no IEND"),
    (jpeg_bytes()[:-50], "truncated JPEG"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", "truncated JPEG"),
])
def test_bad_images_raise_with_reason(data, message):
    with pytest.raises(ImageError, match=message):
        image_info(data)


def test_exif_orientation_in_big_endian_tiff():
    # "MM", magic 42, IFD0 at 8, one entry: tag 0x0112, SHORT, count 1, value 8
    tiff = b"MM\x00\x2a\x00\x00\x00\x08" + b"\x00\x01" + b"\x01\x12\x00\x03\x00\x00\x00\x01\x00\x08\x00\x00"
    assert exif_orientation(tiff) == 8
    assert exif_orientation(tiff[:12]) == 1  # truncated: unknown, so upright
    assert exif_orientation(b"junk") == 1
