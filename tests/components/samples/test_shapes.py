import numpy as np
import pytest

from components.samples.shapes import CLASSES, MAX_SIZE, MIN_VISIBLE, draw_scene, shape_mask


def scene(index: int, width: int = 200, height: int = 150, count: int = 4, background: str = "mixed"):
    return draw_scene(np.random.default_rng([7, index]), width, height, count, background)


def test_same_generator_state_gives_the_same_scene():
    a, b = scene(3), scene(3)
    assert np.array_equal(a.rgb, b.rgb) and np.array_equal(a.instances, b.instances)
    assert a.objects == b.objects
    assert not np.array_equal(a.rgb, scene(4).rgb)


@pytest.mark.parametrize("background", ["gradient", "texture", "noise", "mixed"])
def test_boxes_are_tight_around_each_objects_visible_pixels(background):
    for index in range(10):
        s = scene(index, background=background)
        assert s.rgb.shape == (150, 200, 3) and s.rgb.dtype == np.uint8
        assert 1 <= len(s.objects) <= 4
        for obj in s.objects:
            ys, xs = np.nonzero(s.instances == obj.instance_id)
            assert (obj.x, obj.y) == (xs.min(), ys.min())
            assert (obj.width, obj.height) == (xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)
            assert 0 <= obj.x and obj.x + obj.width <= 200 and 0 <= obj.y and obj.y + obj.height <= 150
            assert max(obj.width, obj.height) <= MAX_SIZE * 150 * 1.3 + 1
            assert 0 <= obj.class_index < len(CLASSES)


def test_objects_are_large_and_stay_mostly_visible():
    sides = []
    for index in range(30):
        s = scene(index, width=320, height=240)
        for obj in s.objects:
            sides.append(max(obj.width, obj.height) / 240)
            shown = int((s.instances == obj.instance_id).sum())
            assert obj.drawn_pixels >= shown >= MIN_VISIBLE * obj.drawn_pixels
    assert min(sides) >= 0.1 and max(sides) <= 0.6
    assert np.median(sides) > 0.25


def test_shapes_differ_from_the_background_they_cover():
    s = scene(2, background="noise")
    for obj in s.objects:
        inside = s.rgb[s.instances == obj.instance_id].astype(float)
        border = s.rgb[max(obj.y - 3, 0):obj.y + obj.height + 3, max(obj.x - 3, 0):obj.x + obj.width + 3]
        ring = border[(s.instances[max(obj.y - 3, 0):obj.y + obj.height + 3,
                                   max(obj.x - 3, 0):obj.x + obj.width + 3]) == 0].astype(float)
        if len(ring):
            assert np.linalg.norm(inside.mean(axis=0) - ring.mean(axis=0)) > 30


def test_zero_objects_draw_a_true_negative():
    s = scene(0, count=0)
    assert s.objects == () and not s.instances.any()


@pytest.mark.parametrize("class_index", range(len(CLASSES)))
@pytest.mark.parametrize("turn", range(4))
def test_shape_masks_touch_every_edge_of_their_box(class_index, turn):
    mask = shape_mask(class_index, 37, 23, variant=0.3, turn=turn)
    assert mask.shape == (23, 37)
    assert mask[0].any() and mask[-1].any() and mask[:, 0].any() and mask[:, -1].any()
    fill = mask.mean()
    expected = {"rectangle": 1.0, "ellipse": np.pi / 4, "triangle": 0.5}[CLASSES[class_index]]
    assert abs(fill - expected) < 0.1


def test_unknown_background_is_rejected():
    with pytest.raises(ValueError, match="background 'plaid'"):
        scene(0, background="plaid")
