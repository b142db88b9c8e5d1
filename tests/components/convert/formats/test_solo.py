import pytest

from components.convert.formats.solo import box_definition, parse_frame
from components.convert.frames import Box, FormatError, Frame, Skip

BOX = "type.unity.com/unity.solo.BoundingBox2DAnnotation"
CAMERA = "type.unity.com/unity.solo.RGBCamera"


def test_box_definition_by_type():
    doc = {"annotationDefinitions": [
        {"@type": "type.unity.com/unity.solo.SemanticSegmentationAnnotation", "id": "seg"},
        {"@type": BOX, "id": "bounding box", "spec": [{"label_id": 1, "label_name": "cube"}]}]}
    assert box_definition(doc, "a.json") == ("bounding box", {1: "cube"})
    with pytest.raises(FormatError, match="no BoundingBox2DAnnotation"):
        box_definition({"annotationDefinitions": []}, "a.json")


def test_frame_captures_resolve_against_the_sequence_folder():
    doc = {"frame": 3, "sequence": 2, "step": 0, "captures": [
        {"@type": CAMERA, "id": "camera", "filename": "step0.camera.png", "dimension": [640.0, 480.0],
         "annotations": [
             {"@type": "type.unity.com/unity.solo.SemanticSegmentationAnnotation", "id": "seg"},
             {"@type": BOX, "id": "bounding box", "values": [
                 {"instanceId": 1, "labelId": 1, "labelName": "cube", "origin": [10.0, 20.0], "dimension": [5.0, 6.0]},
                 {"instanceId": 2, "labelId": 7, "labelName": "?", "origin": [1, 1], "dimension": [1, 1]},
                 {"instanceId": 3, "labelId": 1, "origin": [1], "dimension": [1, 1]}]}]},
        {"@type": CAMERA, "id": "second", "filename": None, "annotations": []},
        {"@type": CAMERA, "id": "third", "filename": "step0.third.png", "annotations": []},
        {"@type": "type.unity.com/unity.solo.Lidar", "id": "lidar", "filename": "x.bin"}]}
    out = list(parse_frame(doc, "sequence.2/step0.frame_data.json", "sequence.2", "bounding box", {1: "cube"}))
    assert out[0] == Frame("sequence.2/step0.camera.png", (Box(10, 20, 5, 6, "cube"),),
                           "sequence.2/step0.frame_data.json", stated_size=(640, 480),
                           dropped=("unknown_label", "bad_box"), group="sequence.2", sensor="camera")
    # a second camera without the box labeler, and a lidar: neither examples nor rejects
    assert out[1:] == [Skip("sequence.2/step0.third.png", "sensor_without_boxes", "third"),
                       Skip("sequence.2/x.bin", "sensor_without_boxes", "lidar")]


def test_unsafe_solo_filename_is_skipped():
    doc = {"captures": [{"@type": CAMERA, "filename": "../../etc/passwd", "annotations": []}]}
    (skip,) = parse_frame(doc, "f.json", "sequence.0", "bounding box", {})
    assert skip.reason == "unsafe_path"


def test_declared_sensors_of_sensor_definitions():
    from components.convert.formats.perception import declared_sensors as legacy_sensors
    from components.convert.formats.solo import declared_sensors

    doc = {"sensorDefinitions": [{"@type": CAMERA, "id": "camera"}, {"id": 7}, {"id": [1]}, "x"]}
    assert declared_sensors(doc) == {"camera", "7"} and declared_sensors({"sensorDefinitions": 3}) == set()
    assert legacy_sensors({"sensors": [{"id": "a"}, {"id": True}, None]}) == {"a"} and legacy_sensors([]) == set()
