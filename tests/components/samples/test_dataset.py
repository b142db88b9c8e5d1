import re

import pytest

from components.samples.dataset import Ids, SampleBox, SampleDataset, SampleImage, SampleOptions, frame_numbers

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def test_ids_are_seeded_lowercase_uuids():
    first = [Ids(3, 1).uuid() for _ in range(2)]
    assert first[0] == first[1] and UUID.match(first[0])
    ids = Ids(3, 1)
    assert len({ids.uuid() for _ in range(50)}) == 50
    assert Ids(3, 2).uuid() != first[0] and Ids(4, 1).uuid() != first[0]


def test_frame_numbers_start_above_zero_and_have_gaps():
    frames = frame_numbers(Ids(0, 1), 40)
    assert len(frames) == 40 and frames[0] >= 2
    steps = {b - a for a, b in zip(frames, frames[1:])}
    assert min(steps) >= 1 and max(steps) > 1
    assert frame_numbers(Ids(0, 1), 0) == []


@pytest.mark.parametrize("field, value, message", [
    ("background", "plaid", "background 'plaid'"),
    ("image_format", "gif", "image_format 'gif'"),
    ("label_ids", (1, 2), "label_ids"),
    ("label_ids", (1, 1, 2), "label_ids"),
    ("label_ids", (1, -2, 3), "label_ids"),
    ("empty_fraction", 1.5, "empty_fraction"),
    ("captures_per_file", 0, "captures_per_file"),
    ("run_execution_id", "a/b", "run_execution_id"),
    ("project_id", "", "project_id"),
    ("app_param_ids", (), "app_param_ids"),
    ("app_param_ids", ("a", "a"), "app_param_ids"),
    ("instances_per_app_param", 0, "instances_per_app_param"),
    ("workers", 0, "workers"),
])
def test_options_reject_bad_values_naming_the_field(field, value, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        SampleOptions(**{field: value})


def test_options_accept_non_contiguous_and_zero_based_label_ids():
    assert SampleOptions(label_ids=[0, 7, 3]).label_ids == (0, 7, 3)


def test_dataset_helpers():
    box = SampleBox(2, "ellipse", 1, 2, 3, 4, 1)
    dataset = SampleDataset(root="/r", layout="coco", classes=("rectangle", "ellipse", "triangle"),
                            label_ids=(1, 2, 3), num_images=2, width=8, height=8, seed=0,
                            images=(SampleImage("a.png", 8, 8, (box,)), SampleImage("b.png", 8, 8, ())))
    assert dataset.labels == {1: "rectangle", 2: "ellipse", 3: "triangle"}
    assert dataset.num_objects == 1
    assert dataset.boxes_by_path() == {"a.png": (box,), "b.png": ()}
