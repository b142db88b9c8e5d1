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


def png_chunk(kind: bytes, body: bytes, crc: int | None = None) -> bytes:
    import struct
    import zlib

    crc = zlib.crc32(kind + body) if crc is None else crc
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def png_of(width: int, height: int, idat: bytes, ihdr_crc: int | None = None) -> bytes:
    import struct

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr, ihdr_crc) + png_chunk(b"IDAT", idat)
            + png_chunk(b"IEND", b""))


def test_a_well_formed_png_walks_from_ihdr_to_iend():
    import zlib

    assert image_info(png_of(4, 3, zlib.compress(bytes(3 * 13)))) == ImageInfo("png", 4, 3)


@pytest.mark.parametrize("make, message", [
    # A header declaring 100000x100000 pixels in about 60 bytes.
    (lambda: png_of(100000, 100000, b"\x78\x9c\x03\x00"), "100000x100000, beyond"),
    (lambda: png_of(20000, 20000, b"\x78\x9c\x03\x00"), "beyond the 32768-pixel side or 134,217,728-pixel"),
    # Within the limits, but 4 bytes of data cannot hold 3000x3000 pixels at any deflate ratio.
    (lambda: png_of(3000, 3000, b"\x78\x9c\x03\x00"), "4 bytes of image data cannot hold 3000x3000"),
    (lambda: png_of(4, 3, b"x" * 40, ihdr_crc=0), "bad CRC in the IHDR chunk at byte 8"),
    # A valid header, then garbage where the chunks should be.
    (lambda: png_bytes(64, 48)[:33] + bytes(range(256)) * 4, "corrupt PNG: no chunk type at byte 33"),
    (lambda: png_bytes(64, 48)[:33] + png_chunk(b"IEND", b""), "no IDAT chunk"),
    (lambda: png_bytes(64, 48)[:-30], "truncated PNG: no IEND chunk .the 'IDAT' chunk"),
])
def test_implausible_or_corrupt_pngs_are_named(make, message):
    with pytest.raises(ImageError, match=message):
        image_info(make())


def test_flipped_bytes_in_png_image_data_fail_its_crc():
    data = bytearray(png_bytes(64, 48))
    data[60] ^= 0xFF
    with pytest.raises(ImageError, match="bad CRC in the IDAT chunk"):
        image_info(bytes(data))


def test_jpeg_checks_size_and_needs_a_scan():
    data = jpeg_bytes(80, 60)
    sof = data.index(b"\xff\xc0")
    huge = data[:sof + 5] + (40000).to_bytes(2, "big") + data[sof + 7:]
    with pytest.raises(ImageError, match="JPEG header says 80x40000"):
        image_info(huge)
    scan = data.index(b"\xff\xda")
    with pytest.raises(ImageError, match="no start of scan"):
        image_info(data[:scan] + b"\xff\xd9")
    with pytest.raises(ImageError, match="expected a marker"):
        image_info(data[:sof + 19] + b"garbage" * 10 + b"\xff\xd9")
