import pytest

from components.convert.formats.perception import BOX_DEFINITION_ID, box_definition, parse_captures
from components.convert.frames import Box, FormatError, Frame, Skip

SPEC = [{"label_id": 1, "label_name": "cube"}, {"label_id": 4, "label_name": "ball"}]


def definitions(*items):
    return {"version": "0.0.1", "annotation_definitions": list(items)}


def test_box_definition_found_by_id_or_name_not_position():
    seg = {"id": "seg", "name": "semantic segmentation", "format": "PNG", "spec": []}
    box3d = {"id": "b3", "name": "bounding box 3D", "format": "json", "spec": []}
    by_id = {"id": BOX_DEFINITION_ID.upper(), "name": "whatever", "format": "json", "spec": SPEC}
    assert box_definition(definitions(seg, box3d, by_id), "d.json") == (BOX_DEFINITION_ID.upper(), {1: "cube", 4: "ball"})
    by_name = {"id": "bounding box", "name": "2D Bounding Box", "format": "json", "spec": SPEC}
    assert box_definition(definitions(seg, by_name), "d.json")[0] == "bounding box"


def test_box_definition_errors_name_the_file():
    with pytest.raises(FormatError, match=r"d\.json: no 2D bounding-box"):
        box_definition(definitions({"id": "b3", "name": "bounding box 3D", "spec": []}), "d.json")
    two = definitions({"id": "a", "name": "bounding box", "spec": SPEC}, {"id": "b", "name": "2d bounding box", "spec": SPEC})
    with pytest.raises(FormatError, match="several"):
        box_definition(two, "d.json")
    assert box_definition(two, "d.json", definition_id="b")[0] == "b"
    with pytest.raises(FormatError, match="annotation_definitions"):
        box_definition({"version": "0.0.1"}, "d.json")


def capture(filename, *annotations, modality="camera"):
    return {"id": "c", "filename": filename, "format": "PNG", "sensor": {"modality": modality},
            "annotations": list(annotations)}


def test_captures_use_the_box_annotation_wherever_it_is():
    seg = {"annotation_definition": "seg", "filename": "Seg/s_1.png"}
    box = {"annotation_definition": "bbox", "values": [
        {"label_id": 4, "label_name": "ball", "x": 1.0, "y": 2.0, "width": 3.0, "height": 4.0},
        {"label_id": 9, "label_name": "ghost", "x": 1, "y": 2, "width": 3, "height": 4},
        {"label_id": 1, "x": "a", "y": 2, "width": 3, "height": 4}]}
    doc = {"version": "0.0.1", "captures": [
        capture("RGB/rgb_1.png", seg, box),
        capture("RGB/rgb_2.png", seg),
        capture("RGB/rgb_3.png", {"annotation_definition": "bbox", "values": []}),
        capture("../escape.png", box),
        capture("lidar.bin", box, modality="lidar"),
    ]}
    out = list(parse_captures(doc, "captures_000.json", "bbox", {1: "cube", 4: "ball"}))
    assert out[0] == Frame("RGB/rgb_1.png", (Box(1, 2, 3, 4, "ball"),), "captures_000.json",
                           dropped=("unknown_label", "bad_box"))
    assert isinstance(out[1], Skip) and out[1].reason == "no_box_annotation" and out[1].path == "RGB/rgb_2.png"
    assert out[2] == Frame("RGB/rgb_3.png", (), "captures_000.json")  # a true negative
    assert isinstance(out[3], Skip) and out[3].reason == "unsafe_path"
    # the lidar capture is not an image, nor a reject
    assert out[4] == Skip("lidar.bin", "sensor_without_boxes", "unnamed")
    assert len(out) == 5


def test_definition_ids_compare_as_strings_and_versions_only_warn(caplog):
    doc = {"version": "0.0.2", "captures": [capture("a.png", {"annotation_definition": 3, "values": []})]}
    out = list(parse_captures(doc, "c.json", "3", {}))
    assert out == [Frame("a.png", (), "c.json")]
    assert "0.0.2" in caplog.text
