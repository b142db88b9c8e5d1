"""Malformed JSON of every kind names the file and a reason; nothing escapes the readers."""
import json

import pytest

from components.convert.discover import DatasetRef
from components.convert.frames import FormatError, Frame, Skip
from components.convert.plan import DatasetPlan, make_plan, parse_unit, read_json
from tests.components.convert.builders import BOX_ID, legacy_dataset

BOX = "type.unity.com/unity.solo.BoundingBox2DAnnotation"
CAMERA = "type.unity.com/unity.solo.RGBCamera"
LABELS = {1: "cube"}


def legacy_capture(**fields):
    return {"filename": "RGB/a.png", "sensor": {"modality": "camera"},
            "annotations": [{"annotation_definition": BOX_ID, "values": []}], **fields}


def legacy_values(*values):
    return {"captures": [legacy_capture(annotations=[{"annotation_definition": BOX_ID, "values": list(values)}])]}


def solo_capture(**fields):
    return {"@type": CAMERA, "id": "camera", "filename": "step0.camera.png",
            "annotations": [{"@type": BOX, "id": "bounding box", "values": []}], **fields}


def solo_values(*values):
    return {"captures": [solo_capture(annotations=[{"@type": BOX, "id": "bounding box", "values": list(values)}])]}


def coco_doc(images=None, annotations=None, **extra):
    return {"images": [{"id": 1, "file_name": "a.jpg"}] if images is None else images,
            "annotations": [] if annotations is None else annotations, "categories": [{"id": 1, "name": "cube"}],
            **extra}


def box(**fields):
    return {"label_id": 1, "x": 1, "y": 2, "width": 3, "height": 4, **fields}


def solo_box(**fields):
    return {"labelId": 1, "origin": [1, 2], "dimension": [3, 4], **fields}


# (format, document, what each yielded item should be: a Skip reason, or "frame:<dropped reasons>")
CASES = [
    ("perception", 5, ["bad_annotation_file"]),
    ("perception", [], ["bad_annotation_file"]),
    ("perception", {"captures": 3}, ["bad_annotation_file"]),
    ("perception", {"captures": None, "version": [1]}, ["bad_annotation_file"]),
    ("perception", {"captures": [1, "x", None, []]}, ["bad_capture"] * 4),
    ("perception", {"captures": [legacy_capture(filename=["a.png"])]}, ["unsafe_path"]),
    ("perception", {"captures": [legacy_capture(filename=None)]}, ["unsafe_path"]),
    ("perception", {"captures": [legacy_capture(annotations=7)]}, ["bad_capture"]),
    ("perception", {"captures": [legacy_capture(annotations="box")]}, ["bad_capture"]),
    ("perception", {"captures": [legacy_capture(annotations=[{"annotation_definition": BOX_ID, "values": 3}])]},
     ["bad_capture"]),
    ("perception", {"captures": [legacy_capture(annotations=[{"annotation_definition": BOX_ID, "values": {}}])]},
     ["bad_capture"]),
    ("perception", {"captures": [legacy_capture(annotations=[{"annotation_definition": [BOX_ID]}, 4, None])]},
     ["sensor_without_boxes"]),
    ("perception", {"captures": [legacy_capture(sensor=[1]), legacy_capture(sensor="cam", step=[0])]},
     ["frame:", "frame:"]),
    ("perception", {"captures": [legacy_capture(sensor={"sensor_id": {"a": 1}, "modality": ["camera"]})]},
     ["sensor_without_boxes"]),
    ("perception", legacy_values(box(label_id=[1]), box(label_id={"a": 1}), box(label_id=None)),
     ["frame:unknown_label,unknown_label,unknown_label"]),
    ("perception", legacy_values(box(x="1"), box(width=None), box(y=[2]), None, 3, "box", box(height=float("nan"))),
     ["frame:bad_box,bad_box,bad_box,bad_box,bad_box,bad_box,bad_box"]),
    ("solo", 5, ["bad_annotation_file"]),
    ("solo", {"captures": {"a": 1}}, ["bad_annotation_file"]),
    ("solo", {"captures": [3, None]}, ["bad_capture", "bad_capture"]),
    ("solo", {"captures": [solo_capture(filename=7)]}, ["unsafe_path"]),
    ("solo", {"captures": [solo_capture(**{"@type": ["x"]})]}, ["sensor_without_boxes"]),
    ("solo", {"captures": [solo_capture(id=[1], annotations=5)]}, ["bad_capture"]),
    ("solo", {"captures": [solo_capture(annotations=[{"@type": BOX, "id": "bounding box", "values": 2}])]},
     ["bad_capture"]),
    ("solo", {"captures": [solo_capture(dimension="640x480", annotations=[{"@type": 3}, {"@type": BOX, "id": [1]}])]},
     ["sensor_without_boxes"]),
    ("solo", solo_values(solo_box(labelId=[1]), solo_box(origin="1,2"), solo_box(dimension=[3, "4"]),
                         solo_box(origin=None), 7),
     ["frame:unknown_label,bad_box,bad_box,bad_box,bad_box"]),
    ("coco", 5, ["bad_annotation_file"]),
    ("coco", {"images": "a.jpg"}, ["bad_annotation_file"]),
    ("coco", coco_doc(annotations=4), ["bad_annotation_file"]),
    ("coco", coco_doc(images=[3, {"id": [1], "file_name": "b.jpg"}, {"id": 2, "file_name": {"a": 1}}]),
     ["bad_image_record", "bad_image_record", "unsafe_path"]),
    ("coco", coco_doc(annotations=[{"image_id": [1]}, {"image_id": 1, "category_id": [1], "bbox": [1, 2, 3, 4]},
                                   {"image_id": 1, "category_id": 1, "bbox": "1 2 3 4"},
                                   {"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, None]}, 5]),
     ["frame:unknown_label,bad_box,bad_box"]),
    ("coco", coco_doc(images=[{"id": 1, "file_name": "a.jpg", "width": "640", "height": [480]}]), ["frame:"]),
    ("unity-real", {"file_name": "a.jpg"}, ["bad_annotation_file"]),
    ("unity-real", [7, {"file_name": 3}, {"file_name": "a.jpg", "annotations": 5}],
     ["bad_image_record", "unsafe_path", "bad_image_record"]),
    ("unity-real", [{"file_name": "a.jpg", "annotations": [3, {"label_id": [1], "bbox": [1, 2, 3, 4]},
                                                           {"label_id": 1, "bbox": {"x": 1}}]}],
     ["frame:bad_box,unknown_label,bad_box"]),
]


def dataset(fmt):
    definition = {"perception": BOX_ID, "solo": "bounding box"}.get(fmt)
    return DatasetPlan(DatasetRef(fmt, "", (), None), definition, LABELS)


def outcome(item):
    if isinstance(item, Frame):
        return "frame:" + ",".join(item.dropped)
    assert isinstance(item, Skip) and item.detail
    return item.reason


@pytest.mark.parametrize("fmt, doc, expected", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_malformed_documents_give_named_reasons(fmt, doc, expected):
    path = "sequence.0/step0.frame_data.json" if fmt == "solo" else "ann.json"
    assert [outcome(item) for item in parse_unit(dataset(fmt), path, doc)] == expected


def test_a_lost_file_says_how_many_images_it_held():
    (skip,) = parse_unit(dataset("coco"), "ann.json", coco_doc(annotations=4))
    assert skip == Skip("ann.json", "bad_annotation_file", "'annotations' is a number, expected a list", 1)
    (skip,) = parse_unit(dataset("perception"), "c.json", {"captures": 3})
    assert skip.images is None and skip.detail == "'captures' is a number, expected a list"


@pytest.mark.parametrize("data, problem", [
    (b"[" * 100000, "nested too deeply"),
    (b'{"a": ' * 50000 + b"1" + b"}" * 50000, "nested too deeply"),
    (b'{"captures": ["caf\xe9"]}', "not UTF-8"),
    (b"\x80\x81 not text", "not UTF-8"),
    (b"\xff\xfe\x00garbage", "invalid JSON"),
    (b'{"captures": [', "truncated"),
    (b"", "truncated"),
])
def test_unreadable_json_is_a_format_error(tmp_path, data, problem):
    path = tmp_path / "captures_000.json"
    path.write_bytes(data)
    with pytest.raises(FormatError, match=problem) as err:
        read_json(str(path))
    assert err.value.source == str(path)


@pytest.mark.parametrize("definitions", [
    b"[" * 100000,
    b'{"annotation_definitions": 5}',
    b'{"annotation_definitions": [{"id": "' + BOX_ID.encode() + b'", "name": "bounding box", "spec": 3}]}',
    b'{"annotation_definitions": [{"id": "' + BOX_ID.encode() + b'", "spec": [{"label_id": [1]}]}]}',
    b'{"annotation_definitions": [{"id": {"a": 1}, "name": ["bounding box"]}]}',
    b'\xff{"annotation_definitions": []}',
])
def test_bad_definitions_lose_their_dataset_only(tmp_path, definitions):
    legacy_dataset(str(tmp_path / "good"), 2)
    legacy_dataset(str(tmp_path / "bad"), 2)
    (tmp_path / "bad" / "Dataset0" / "annotation_definitions.json").write_bytes(definitions)
    (tmp_path / "coco.json").write_text(json.dumps(coco_doc(images=[{"id": 1, "file_name": 3}], categories=7)))
    plan = make_plan(str(tmp_path))
    assert [d.ref.root for d in plan.datasets] == ["good"]
    problems = {p.path: p for p in plan.problems}
    assert problems["bad"].reason == "bad_definitions" and problems["bad"].detail
    assert problems["coco.json"].reason == "bad_definitions" and problems["coco.json"].images == 1
