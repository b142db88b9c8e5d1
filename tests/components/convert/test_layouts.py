"""Dataset layouts as their tools publish them, planned and parsed from real files."""
import json
import os
import posixpath

import pytest

from components.common import uris
from components.convert.discover import detection_files, locate_images
from components.convert.frames import Box, Frame, Skip
from components.convert.plan import make_plan, parse_unit, read_json
from tests.components.convert.builders import legacy_dataset
from tests.components.convert.helpers import jpeg_bytes

POLYGON = [[10.0, 10.0, 40.0, 10.0, 40.0, 30.0]]
RLE = {"counts": [5, 10, 20], "size": [48, 64]}
CATEGORIES = [{"supercategory": "person", "id": 1, "name": "person"},
              {"supercategory": "animal", "id": 18, "name": "dog"}]


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data if isinstance(data, bytes) else json.dumps(data))


def image(image_id):
    return {"license": 1, "file_name": f"{image_id:012d}.jpg", "coco_url": "", "height": 48, "width": 64,
            "date_captured": "2013-11-14 17:02:52", "id": image_id}


def annotation(ann_id, image_id, category, bbox, crowd=0):
    return {"id": ann_id, "image_id": image_id, "category_id": category, "bbox": bbox, "area": 321.5,
            "iscrowd": crowd, "segmentation": RLE if crowd else POLYGON}


def coco_2017(root):
    """The published layout: annotations/ beside train2017/ and val2017/."""
    for split, ids in (("train2017", (139, 285)), ("val2017", (632,))):
        for i in ids:
            write(f"{root}/{split}/{i:012d}.jpg", jpeg_bytes(64, 48))
    info = {"description": "COCO 2017 Dataset", "version": "1.0", "year": 2017}
    write(f"{root}/annotations/instances_train2017.json", {
        "info": info, "licenses": [{"id": 1, "name": "x", "url": ""}], "categories": CATEGORIES,
        "images": [image(139), image(285)],
        "annotations": [annotation(1, 139, 1, [1.0, 2.0, 30.0, 40.0]),
                        annotation(2, 139, 18, [5.0, 6.0, 20.0, 10.0], crowd=1)]})
    write(f"{root}/annotations/instances_val2017.json", {
        "info": info, "categories": CATEGORIES, "images": [image(632)],
        "annotations": [annotation(3, 632, 18, [0.0, 0.0, 10.0, 10.0])]})
    write(f"{root}/annotations/person_keypoints_train2017.json", {
        "info": info, "categories": [dict(CATEGORIES[0], keypoints=["nose"], skeleton=[[1, 1]])],
        "images": [image(139), image(285)],
        "annotations": [dict(annotation(1, 139, 1, [1.0, 2.0, 30.0, 40.0]), keypoints=[3, 4, 2], num_keypoints=1)]})
    write(f"{root}/annotations/captions_train2017.json", {
        "info": info, "images": [image(139)], "annotations": [{"id": 9, "image_id": 139, "caption": "a dog"}]})


def parsed(plan):
    out = []
    for index, path in plan.units:
        for item in parse_unit(plan.datasets[index], path, read_json(uris.join(plan.source, path))):
            root = plan.datasets[index].ref.root
            out.append((f"{root}/{item.path}" if root else item.path, item))
    return out


def test_coco_as_published_reads_instances_once_with_images_beside_annotations(tmp_path):
    coco_2017(str(tmp_path / "coco"))
    plan = make_plan(str(tmp_path))
    assert [(d.ref.root, d.ref.image_prefix) for d in plan.datasets] == [("coco", "train2017"), ("coco", "val2017")]
    assert [f for _, f in plan.units] == ["coco/annotations/instances_train2017.json",
                                          "coco/annotations/instances_val2017.json"]
    assert plan.labels == {1: "person", 18: "dog"} and plan.problems == ()
    frames = dict(parsed(plan))
    assert sorted(frames) == ["coco/train2017/000000000139.jpg", "coco/train2017/000000000285.jpg",
                              "coco/val2017/000000000632.jpg"]
    first = frames["coco/train2017/000000000139.jpg"]
    assert first.boxes == (Box(1, 2, 30, 40, "person", area=321.5), Box(5, 6, 20, 10, "dog", is_crowd=1, area=321.5))
    assert first.stated_size == (64, 48) and first.group is None and first.sensor is None
    assert frames["coco/train2017/000000000285.jpg"].boxes == ()  # a negative
    assert all(os.path.isfile(tmp_path / key) for key in frames)
    # What the DirectRunner mode is chosen by: every image in the listing, counted and weighed.
    images = [p for p in tmp_path.rglob("*") if p.suffix in (".jpg", ".png")]
    assert (plan.image_files, plan.image_bytes) == (len(images), sum(p.stat().st_size for p in images))
    assert plan.image_bytes > 0


def test_keypoints_are_read_where_no_instances_lie_beside_them(tmp_path):
    coco_2017(str(tmp_path / "coco"))
    os.remove(tmp_path / "coco/annotations/instances_train2017.json")
    plan = make_plan(str(tmp_path))
    assert [f for _, f in plan.units] == ["coco/annotations/instances_val2017.json",
                                          "coco/annotations/person_keypoints_train2017.json"]
    frames = dict(parsed(plan))
    assert frames["coco/train2017/000000000139.jpg"].boxes == (Box(1, 2, 30, 40, "person", area=321.5),)


def test_only_detection_files_are_read():
    files = ("a/instances_train2017.json", "a/person_keypoints_train2017.json", "a/captions_train2017.json",
             "a/panoptic_val2017.json", "a/person_keypoints_val2017.json", "b/stuff_train2017.json")
    kept, left = detection_files(files)
    assert kept == ["a/instances_train2017.json", "a/person_keypoints_val2017.json", "b/stuff_train2017.json"]
    assert [f for f, _ in left] == ["a/person_keypoints_train2017.json", "a/captions_train2017.json",
                                    "a/panoptic_val2017.json"]


def test_an_image_in_two_files_is_read_once(tmp_path):
    coco_2017(str(tmp_path / "coco"))
    doc = json.loads((tmp_path / "coco/annotations/instances_train2017.json").read_text())
    doc["images"] = doc["images"][:1]
    write(str(tmp_path / "coco/annotations/more_train2017.json"), doc)
    out = parsed(make_plan(str(tmp_path)))
    keys = [k for k, item in out if isinstance(item, Frame)]
    assert sorted(keys) == sorted(set(keys)) and len(keys) == 3
    (repeat,) = [item for _, item in out if isinstance(item, Skip)]
    assert repeat.reason == "repeated_image" and repeat.path == "train2017/000000000139.jpg"


def test_image_folder_is_found_from_the_file_names():
    names = ["000000000139.jpg", "000000000285.jpg"]
    beside = {"d/annotations/x.json", "d/images/000000000139.jpg", "d/images/000000000285.jpg"}
    assert locate_images("d/annotations/x.json", names, beside) == ("d", "images")
    nested = {"d/images/train2017/000000000139.jpg", "d/images/train2017/000000000285.jpg"}
    assert locate_images("d/annotations/instances_train2017.json", names, nested) == ("d", "images/train2017")
    elsewhere = {"d/photos/set1/000000000139.jpg", "d/photos/set1/000000000285.jpg"}
    assert locate_images("d/labels/all.json", names, elsewhere) == ("d", "photos/set1")
    assert locate_images("ann.json", names, {"000000000139.jpg", "000000000285.jpg"}) == ("", "")
    far = {"pics/2017/000000000139.jpg", "pics/2017/000000000285.jpg", "x/y/labels/ann.json"}
    assert locate_images("x/y/labels/ann.json", names, far) == ("", "pics/2017")


def moved_legacy(root, json_dir, image_dir):
    """A legacy dataset whose JSON lies in ``json_dir`` and whose RGB0/ lies in ``image_dir``."""
    good = legacy_dataset(str(root), 4)
    os.makedirs(root / json_dir, exist_ok=True)
    for name in os.listdir(root / "Dataset0"):
        os.rename(root / "Dataset0" / name, root / json_dir / name)
    os.rmdir(root / "Dataset0")
    if image_dir:
        os.makedirs(root / image_dir, exist_ok=True)
        os.rename(root / "RGB0", root / image_dir / "RGB0")
    return good


@pytest.mark.parametrize("json_dir, image_dir, root", [
    (".", "", ""),  # every file in one folder
    ("data", "", ""),  # the JSON moved to data/, the images where Unity wrote them
    ("data", "data", "data"),  # everything in data/
    ("out/json", "out", "out"),
])
def test_perception_captures_outside_a_dataset_folder(tmp_path, json_dir, image_dir, root):
    good = moved_legacy(tmp_path, json_dir, image_dir)
    plan = make_plan(str(tmp_path))
    assert [(d.ref.format, d.ref.root) for d in plan.datasets] == [("perception", root)]
    assert plan.labels == {1: "cube", 2: "ball"}
    frames = [key for key, item in parsed(plan) if isinstance(item, Frame)]
    assert frames == [posixpath.join(root, g) for g in good]
    assert all(os.path.isfile(tmp_path / key) for key in frames)


KEYPOINT_ID = "8b3ef246-daa7-4dd5-a0e8-a943f6e7f8c2"


def test_keypoint_labeler_beside_the_box_labeler(tmp_path):
    legacy_dataset(str(tmp_path), 2)
    definitions_path = tmp_path / "Dataset0" / "annotation_definitions.json"
    definitions = json.loads(definitions_path.read_text())
    definitions["annotation_definitions"].insert(0, {
        "id": KEYPOINT_ID, "name": "keypoints", "description": "", "format": "json",
        "spec": [{"label_id": 1, "label_name": "person", "template_id": "t", "template_name": "coco",
                  "key_points": [{"label": "nose", "index": 0, "color": [1, 0, 0, 1]}],
                  "skeleton": [{"label1": "nose", "label2": "nose", "joint1": 0, "joint2": 0}]}]})
    definitions_path.write_text(json.dumps(definitions))
    for name in ("captures_000.json", "captures_001.json"):
        path = tmp_path / "Dataset0" / name
        doc = json.loads(path.read_text())
        for capture in doc["captures"]:
            capture["annotations"].insert(0, {"id": "k", "annotation_definition": KEYPOINT_ID, "values": [
                {"label_id": 1, "instance_id": 5, "template_guid": "t", "pose": "unset",
                 "keypoints": [{"index": 0, "x": 12.5, "y": 7.0, "state": 2}]}]})
        path.write_text(json.dumps(doc))
    plan = make_plan(str(tmp_path))
    assert plan.labels == {1: "cube", 2: "ball"}
    frames = [item for _, item in parsed(plan)]
    assert [f.boxes for f in frames] == [(Box(2, 3, 10, 12, "cube"),), (Box(2, 3, 10, 12, "ball"),)]
    assert all(f.dropped == () for f in frames)


SOLO_BOX = "type.unity.com/unity.solo.BoundingBox2DAnnotation"


def solo_preview(root, definitions=False):
    """SOLO as the Perception 0.x previews wrote it: snake_case label fields in the box values."""
    write(f"{root}/metadata.json", {"perceptionVersion": "0.10.0-preview.1"})
    if definitions:
        write(f"{root}/annotation_definitions.json", {"annotationDefinitions": [
            {"@type": SOLO_BOX, "id": "bounding box", "spec": [{"label_id": 1, "label_name": "crate"},
                                                                {"label_id": 3, "label_name": "drum"}]}]})
    for sequence, labels in ((0, [(1, "crate")]), (1, [(3, "drum"), (1, "crate")])):
        write(f"{root}/sequence.{sequence}/step0.camera.png", jpeg_bytes(64, 48))
        values = [{"instance_id": n, "label_id": i, "label_name": name, "origin": [n, 2.0], "dimension": [10.0, 8.0]}
                  for n, (i, name) in enumerate(labels)]
        write(f"{root}/sequence.{sequence}/step0.frame_data.json", {"frame": sequence, "sequence": sequence, "step": 0,
              "captures": [{"@type": "type.unity.com/unity.solo.RGBCamera", "id": "camera",
                            "filename": "step0.camera.png", "dimension": [64.0, 48.0],
                            "annotations": [{"@type": SOLO_BOX, "id": "bounding box", "values": values}]}]})


@pytest.mark.parametrize("definitions", [False, True])
def test_solo_preview_with_snake_case_values(tmp_path, definitions):
    solo_preview(str(tmp_path / "solo"), definitions)
    plan = make_plan(str(tmp_path))
    assert plan.problems == () and plan.labels == {1: "crate", 3: "drum"}
    frames = dict(parsed(plan))
    assert frames["solo/sequence.1/step0.camera.png"].boxes == (Box(0, 2, 10, 8, "drum"), Box(1, 2, 10, 8, "crate"))
    assert frames["solo/sequence.1/step0.camera.png"].group == "solo/sequence.1"
    assert frames["solo/sequence.0/step0.camera.png"].boxes == (Box(0, 2, 10, 8, "crate"),)


def test_solo_without_definitions_or_boxes_is_named(tmp_path):
    solo_preview(str(tmp_path / "solo"))
    for sequence in (0, 1):
        path = tmp_path / f"solo/sequence.{sequence}/step0.frame_data.json"
        doc = json.loads(path.read_text())
        doc["captures"][0]["annotations"] = []
        path.write_text(json.dumps(doc))
    legacy_dataset(str(tmp_path / "other"), 2)
    plan = make_plan(str(tmp_path))
    assert [(p.path, p.reason) for p in plan.problems] == [("solo", "no_definitions")]
    assert "no BoundingBox2DAnnotation" in plan.problems[0].detail
