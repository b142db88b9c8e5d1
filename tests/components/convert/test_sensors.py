"""Multi-sensor rigs: which captures are examples, which are left out, and under which name."""
import json
import os

import pytest

from components.common import uris
from components.convert.__main__ import parser, settings_from
from components.convert.frames import Frame, Skip
from components.convert.pipeline import convert
from components.convert.plan import NoDatasetError, make_plan, parse_unit, read_json
from components.convert.task import settings_for_task
from tests.components.convert.builders import BOX_ID, legacy_dataset
from tests.components.convert.helpers import png_bytes


def two_cameras(root, frames=6):
    """A legacy rig: camera "front" has the box labeler, camera "side" only segmentation, plus a lidar."""
    legacy_dataset(str(root), frames)
    os.makedirs(root / "RGB1")
    for name in sorted(os.listdir(root / "Dataset0")):
        if not name.startswith("captures_"):
            continue
        path = root / "Dataset0" / name
        doc = json.loads(path.read_text())
        rig = []
        for capture in doc["captures"]:
            capture.update(sequence_id="seq-" + capture["id"], step=0)
            capture["sensor"] = {"sensor_id": "front", "ego_id": "ego", "modality": "camera"}
            side = dict(capture, id=capture["id"] + "-side", filename=capture["filename"].replace("RGB0", "RGB1"),
                        sensor={"sensor_id": "side", "ego_id": "ego", "modality": "camera"},
                        annotations=[a for a in capture["annotations"] if a["annotation_definition"] != BOX_ID])
            (root / side["filename"]).write_bytes(png_bytes(32, 24))
            lidar = dict(capture, id=capture["id"] + "-lidar", filename="Lidar/points.pcd", annotations=[],
                         sensor={"sensor_id": "lidar", "ego_id": "ego", "modality": "lidar"})
            rig += [capture, side, lidar]
        doc["captures"] = rig
        path.write_text(json.dumps(doc))


def parsed(plan):
    out = []
    for index, path in plan.units:
        out += parse_unit(plan.datasets[index], path, read_json(uris.join(plan.source, path)))
    return out


def test_a_camera_without_boxes_is_left_out_not_rejected(tmp_path):
    two_cameras(tmp_path)
    out = parsed(make_plan(str(tmp_path)))
    frames = [i for i in out if isinstance(i, Frame)]
    assert [f.sensor for f in frames] == ["front"] * 6
    assert frames[0].group == "seq-0:0" and frames[0].path == "RGB0/rgb_3.png"
    skips = sorted((s.reason, s.detail) for s in out if isinstance(s, Skip))
    assert skips == [("sensor_without_boxes", "lidar")] * 6 + [("sensor_without_boxes", "side")] * 6


def test_sensor_selects_the_cameras_read(tmp_path):
    two_cameras(tmp_path)
    out = parsed(make_plan(str(tmp_path), sensors=("side",)))
    assert not any(isinstance(i, Frame) for i in out)
    reasons = sorted((s.reason, s.detail) for s in out)
    assert reasons[:6] == [("no_box_annotation", f"Dataset0/captures_00{n // 3}.json captures[{n % 3 * 3 + 1}] "
                                                 "has no 2D bounding-box annotation") for n in range(6)]
    assert reasons[6:] == [("sensor_not_selected", "front")] * 6 + [("sensor_not_selected", "lidar")] * 6
    front = parsed(make_plan(str(tmp_path), sensors=("front",)))
    assert [i.sensor for i in front if isinstance(i, Frame)] == ["front"] * 6


def test_a_two_camera_rig_converts_with_the_boxed_camera(tmp_path):
    two_cameras(tmp_path, frames=8)
    stats = convert(str(tmp_path), eval_pct=25)
    assert stats["ok"]
    assert stats["examples"]["train"] + stats["examples"]["eval"] == 8
    assert stats["images_rejected"] == 0 and stats["skipped"] == {}
    assert stats["sensors"] == {"front": {"examples": 8, "skipped": 0},
                                "lidar": {"examples": 0, "skipped": 8, "reason": "sensor_without_boxes"},
                                "side": {"examples": 0, "skipped": 8, "reason": "sensor_without_boxes"}}


def test_sensor_option_reaches_the_conversion(tmp_path):
    two_cameras(tmp_path, frames=4)
    stats = convert(str(tmp_path), eval_pct=25, sensor=("front",))
    assert stats["ok"] and stats["examples"]["train"] + stats["examples"]["eval"] == 4
    assert stats["sensors"]["side"] == {"examples": 0, "skipped": 4, "reason": "sensor_not_selected"}


def test_sensor_option_reaches_the_settings():
    args, extra = parser().parse_known_args(["--source", "src", "--sensor", "front", "--sensor", "side"])
    assert settings_from(args, extra).sensor == ("front", "side")
    args, extra = parser().parse_known_args(["--source", "src"])
    assert settings_from(args, extra).sensor == ()
    task = settings_for_task("src", "out", 20.0, "auto", 0.05, "DirectRunner", "", "", "", "", 0, 0, "", "", [],
                             sensor="front,side")
    assert task.sensor == ("front", "side")


def test_a_sensor_no_dataset_declares_fails_the_plan(tmp_path):
    two_cameras(tmp_path)
    assert make_plan(str(tmp_path), sensors=("rear",)).datasets  # nothing declares sensors: read and see
    (tmp_path / "Dataset0" / "sensors.json").write_text(json.dumps({"version": "0.0.1", "sensors": [
        {"id": "front", "ego_id": "ego", "modality": "camera"}, {"id": "side", "ego_id": "ego", "modality": "camera"},
        {"id": "lidar", "ego_id": "ego", "modality": "lidar"}]}))
    with pytest.raises(NoDatasetError, match="--sensor rear: no dataset .* its sensors are front, lidar, side"):
        make_plan(str(tmp_path), sensors=("rear",))
    assert make_plan(str(tmp_path), sensors=("rear", "side")).datasets
