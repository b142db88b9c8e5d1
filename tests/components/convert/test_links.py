"""Symbolic links in a local dataset: inside it they work, out of it they are unsafe paths."""
import json
import os

from components.common import uris
from components.convert.frames import Frame, Skip
from components.convert.plan import make_plan, parse_unit, read_json
from tests.components.convert.builders import legacy_dataset
from tests.components.convert.helpers import png_bytes


def parsed(plan):
    out = []
    for index, path in plan.units:
        out += parse_unit(plan.datasets[index], path, read_json(uris.join(plan.source, path)))
    return out


def test_links_that_leave_the_dataset_are_rejected(tmp_path):
    src, outside = tmp_path / "src", tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.png").write_bytes(png_bytes(9, 9))
    (outside / "folder").mkdir()
    (outside / "folder" / "rgb_4.png").write_bytes(png_bytes(9, 9))
    legacy_dataset(str(src), 4)
    rgb = src / "RGB0"
    os.remove(rgb / "rgb_3.png")
    os.symlink(outside / "secret.png", rgb / "rgb_3.png")  # a file link out
    os.remove(rgb / "rgb_5.png")
    os.symlink(rgb / "rgb_6.png", rgb / "rgb_5.png")  # a link inside: fine
    os.symlink(outside / "folder", src / "Linked")  # a folder link out, named by a capture
    captures = json.loads((src / "Dataset0" / "captures_001.json").read_text())
    captures["captures"][1]["filename"] = "Linked/rgb_4.png"
    (src / "Dataset0" / "captures_001.json").write_text(json.dumps(captures))
    (outside / "captures_009.json").write_text(json.dumps(captures))
    os.symlink(outside / "captures_009.json", src / "Dataset0" / "captures_009.json")

    plan = make_plan(str(src))
    assert [p for p in plan.problems if p.reason == "unsafe_path"] == [
        Skip("Dataset0/captures_009.json", "unsafe_path",
             f"Dataset0/captures_009.json is a link to {os.path.realpath(outside / 'captures_009.json')}, "
             "outside the dataset; not read")]
    assert [f for _, f in plan.units] == ["Dataset0/captures_000.json", "Dataset0/captures_001.json"]
    out = {item.path: item for item in parsed(plan)}
    assert isinstance(out["RGB0/rgb_4.png"], Frame) and isinstance(out["RGB0/rgb_5.png"], Frame)
    for name in ("RGB0/rgb_3.png", "Linked/rgb_4.png"):
        assert out[name].reason == "unsafe_path" and "outside the dataset" in out[name].detail
    assert len(out) == 4


def test_a_linked_source_folder_is_its_own_root(tmp_path):
    legacy_dataset(str(tmp_path / "real"), 2)
    os.symlink(tmp_path / "real", tmp_path / "alias")
    plan = make_plan(str(tmp_path / "alias"))
    assert all(isinstance(item, Frame) for item in parsed(plan)) and len(parsed(plan)) == 2
