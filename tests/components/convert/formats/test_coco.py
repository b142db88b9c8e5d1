from components.convert.formats.coco import (categories, is_coco, is_unity_real, parse_coco,
                                             parse_unity_real, real_labels)
from components.convert.frames import Box, Frame


def test_coco_frames_with_non_contiguous_categories_and_crowd():
    doc = {"images": [{"id": 10, "file_name": "a.jpg", "width": 640, "height": 480},
                      {"id": 11, "file_name": "sub\\b.jpg", "width": 10, "height": 10},
                      {"id": 12, "file_name": "/abs.jpg"}],
           "annotations": [{"id": 1, "image_id": 10, "category_id": 90, "bbox": [1, 2, 3, 4], "area": 7.5, "iscrowd": 1},
                           {"id": 2, "image_id": 10, "category_id": 5, "bbox": [1, 2, 3, 4]},
                           {"id": 3, "image_id": 10, "category_id": 90, "bbox": [1, 2, 3]}],
           "categories": [{"id": 90, "name": "toothbrush"}, {"id": 1, "name": "person"}]}
    assert is_coco(doc) and not is_unity_real(doc)
    labels = categories(doc, "ann.json")
    assert labels == {90: "toothbrush", 1: "person"}
    a, b, c = parse_coco(doc, "ann.json", "images", labels)
    assert a == Frame("images/a.jpg", (Box(1, 2, 3, 4, "toothbrush", is_crowd=1, area=7.5),), "ann.json",
                      stated_size=(640, 480), dropped=("unknown_label", "bad_box"))
    assert b.path == "images/sub/b.jpg" and b.boxes == ()
    assert c.reason == "unsafe_path"


def test_unity_real_layout():
    doc = [{"file_name": "IMG_0001.JPG", "annotations": [{"label_id": 2, "bbox": [10, 20, 30, 40]},
                                                          {"label_id": 99, "bbox": [1, 1, 1, 1]}]}]
    defs = {"annotation_definitions": [{"id": "x", "spec": [{"label_id": 1, "label_name": "a"},
                                                             {"label_id": 2, "label_name": "b"}]}]}
    assert is_unity_real(doc) and not is_coco(doc)
    labels = real_labels(defs, "annotation_definitions.json")
    (frame,) = parse_unity_real(doc, "annotations.json", "images", labels)
    assert frame == Frame("images/IMG_0001.JPG", (Box(10, 20, 30, 40, "b"),), "annotations.json",
                          dropped=("unknown_label",))
