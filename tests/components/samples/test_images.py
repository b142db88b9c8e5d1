import numpy as np
import pytest

from components.samples.images import (SEGMENTATION_COLOURS, RenderSpec, empty_indices, encode_jpeg, render,
                                       render_all)
from tests.components.samples.helpers import decode, jpeg_size, png_header


def spec(encoding: str = "rgba-png", segmentation: bool = True, empty=frozenset()) -> RenderSpec:
    return RenderSpec(96, 64, 5, "mixed", encoding, segmentation, frozenset(empty))


def test_render_is_a_pure_function_of_spec_and_index():
    assert render(spec(), 3) == render(spec(), 3)
    assert render(spec(), 3).image != render(spec(), 4).image


def test_unity_images_are_rgba_pngs_with_a_segmentation_png():
    rendered = render(spec(), 1)
    assert png_header(rendered.image) == (96, 64, 6)
    assert png_header(rendered.segmentation) == (96, 64, 6)
    pixels = decode(rendered.image)
    assert pixels.shape == (64, 96, 4) and (pixels[..., 3] == 255).all()
    colours = {tuple(c) for c in decode(rendered.segmentation).reshape(-1, 4)}
    assert colours <= {tuple(c) for c in SEGMENTATION_COLOURS}
    assert len(colours) == 1 + len({o.class_index for o in rendered.objects})


def test_rgb_png_and_jpeg_encodings():
    png = render(spec("rgb-png", segmentation=False), 0)
    assert png_header(png.image) == (96, 64, 2) and png.segmentation is None
    jpeg = render(spec("jpeg", segmentation=False), 0)
    assert jpeg_size(jpeg.image) == (96, 64)
    # Same scene, so the JPEG stays close to the lossless pixels.
    difference = np.abs(decode(jpeg.image).astype(int) - decode(png.image).astype(int))
    assert difference.mean() < 4
    with pytest.raises(ValueError, match="encoding 'gif'"):
        render(spec("gif"), 0)


def test_jpeg_has_no_exif():
    data = encode_jpeg(np.zeros((8, 8, 3), dtype=np.uint8))
    assert b"Exif" not in data


def test_empty_images_have_no_objects():
    rendered = render(spec(empty={2}), 2)
    assert rendered.objects == ()
    assert set(decode(rendered.segmentation).reshape(-1, 4)[:, 0]) == {0}


def test_empty_indices_are_a_seeded_rounded_share():
    chosen = empty_indices(0, 200, 0.05)
    assert len(chosen) == 10 and all(0 <= i < 200 for i in chosen)
    assert chosen == empty_indices(0, 200, 0.05) != empty_indices(1, 200, 0.05)
    assert empty_indices(0, 6, 0.05) == frozenset()
    assert len(empty_indices(0, 5, 1.0)) == 5


def test_parallel_rendering_gives_the_same_images_in_order():
    serial = list(render_all(spec(), 6, workers=1))
    parallel = list(render_all(spec(), 6, workers=2))
    assert [r.index for r in parallel] == list(range(6))
    assert serial == parallel
