import dataclasses
from pathlib import Path

import pytest

from components.samples import LAYOUTS, SampleOptions, generate
from tests.components.samples.helpers import all_files


@pytest.mark.parametrize("layout", LAYOUTS)
def test_same_arguments_give_byte_identical_files(tmp_path, layout):
    a = generate(tmp_path / "a", layout, num_images=12, width=80, height=60, seed=11)
    b = generate(tmp_path / "b", layout, num_images=12, width=80, height=60, seed=11,
                 options=SampleOptions(workers=2))
    files_a, files_b = all_files(tmp_path / "a"), all_files(tmp_path / "b")
    assert files_a == files_b and len(files_a) >= 12
    assert dataclasses.replace(a, root="") == dataclasses.replace(b, root="")
    assert a.num_images == 12 and len(a.images) == 12 and a.layout == layout
    assert a.classes == ("rectangle", "ellipse", "triangle") and a.label_ids == (1, 2, 3)
    for image in a.images:
        assert (Path(a.root) / image.path).is_file()
        for box in image.boxes:
            assert box.width > 0 and box.height > 0
            assert 0 <= box.x and box.x + box.width <= 80 and 0 <= box.y and box.y + box.height <= 60
            assert box.label_name == a.labels[box.label_id]


def test_another_seed_gives_other_images(tmp_path):
    a = generate(tmp_path / "a", "coco", num_images=3, width=64, height=48, seed=1)
    b = generate(tmp_path / "b", "coco", num_images=3, width=64, height=48, seed=2)
    assert all_files(Path(a.root)) != all_files(Path(b.root))


def test_writes_only_under_the_output_folder(tmp_path):
    generate(tmp_path / "deep" / "out", "unity-simulation", num_images=6, width=32, height=32)
    assert [p.name for p in tmp_path.iterdir()] == ["deep"]
    assert [p.name for p in (tmp_path / "deep").iterdir()] == ["out"]


def test_refuses_a_non_empty_output_folder(tmp_path):
    (tmp_path / "old.txt").write_text("x")
    with pytest.raises(ValueError, match="not an empty folder"):
        generate(tmp_path, "coco", num_images=1)
    with pytest.raises(ValueError, match="not an empty folder"):
        generate(tmp_path / "old.txt", "coco", num_images=1)


@pytest.mark.parametrize("kwargs, message", [
    ({"layout": "voc"}, "layout 'voc'"),
    ({"num_images": 0}, "num_images 0"),
    ({"width": 8}, "width 8"),
    ({"height": 10000}, "height 10000"),
    ({"seed": -1}, "seed -1"),
    ({"output": "gs://bucket/x"}, "expected a local folder"),
])
def test_bad_arguments_raise_value_errors_naming_them(tmp_path, kwargs, message):
    arguments = {"output": tmp_path / "o", "layout": "coco", **kwargs}
    with pytest.raises(ValueError, match=message):
        generate(arguments.pop("output"), arguments.pop("layout"), **arguments)
    assert not (tmp_path / "o").exists()
