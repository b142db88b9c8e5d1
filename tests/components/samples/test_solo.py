import json
import re
from pathlib import Path

import pytest

from components.samples import generate
from components.samples.shapes import CLASSES
from tests.components.samples.helpers import check_boxes_against_segmentation, png_header

SOLO = "type.unity.com/unity.solo."


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("solo") / "solo", "solo", num_images=20, width=120, height=90, seed=1)


def frames(root: Path) -> list[tuple[Path, dict]]:
    return [(p, json.loads(p.read_text())) for p in sorted(root.glob("sequence.*/step*.frame_data.json"))]


def test_definition_files(dataset):
    root = Path(dataset.root)
    assert sorted(p.name for p in root.iterdir() if p.is_file()) == [
        "annotation_definitions.json", "metadata.json", "metric_definitions.json", "sensor_definitions.json"]
    definitions = json.loads((root / "annotation_definitions.json").read_text())["annotationDefinitions"]
    box = [d for d in definitions if d["@type"] == SOLO + "BoundingBox2DAnnotation"]
    assert len(box) == 1 and box[0]["id"] == "bounding box"
    assert box[0]["spec"] == [{"label_id": i + 1, "label_name": n} for i, n in enumerate(CLASSES)]
    sensors = json.loads((root / "sensor_definitions.json").read_text())["sensorDefinitions"]
    assert sensors[0]["@type"] == SOLO + "RGBCamera" and sensors[0]["id"] == "camera"
    assert json.loads((root / "metric_definitions.json").read_text())["metricDefinitions"]
    metadata = json.loads((root / "metadata.json").read_text())
    assert metadata["totalFrames"] == 20
    assert metadata["totalSequences"] == len(list(root.glob("sequence.*")))
    assert {"name": "bounding box", "type": SOLO + "BoundingBox2DAnnotation"} in metadata["annotators"]


def test_frames_follow_their_folder_names_and_ground_truth(dataset):
    root = Path(dataset.root)
    truth = dataset.boxes_by_path()
    found = frames(root)
    assert len(found) == 20 and max(int(re.search(r"step(\d+)", p.name).group(1)) for p, _ in found) >= 1
    paths = []
    for path, frame in found:
        sequence = int(path.parent.name.split(".")[1])
        step = int(re.fullmatch(r"step(\d+)\.frame_data\.json", path.name).group(1))
        assert (frame["sequence"], frame["step"]) == (sequence, step) and frame["frame"] > 0
        (capture,) = frame["captures"]
        assert capture["@type"] == SOLO + "RGBCamera" and capture["id"] == "camera"
        assert capture["filename"] == f"step{step}.camera.png" and capture["dimension"] == [120.0, 90.0]
        assert png_header((path.parent / capture["filename"]).read_bytes()) == (120, 90, 6)
        segmentation, boxes = capture["annotations"]
        assert segmentation["@type"] == SOLO + "SemanticSegmentationAnnotation"
        assert segmentation["filename"] == f"step{step}.camera.semantic segmentation.png"
        assert boxes["@type"] == SOLO + "BoundingBox2DAnnotation" and boxes["id"] == "bounding box"
        image = f"{path.parent.name}/{capture['filename']}"
        paths.append(image)
        assert [(v["labelId"], v["labelName"], v["instanceId"], v["origin"], v["dimension"])
                for v in boxes["values"]] == [
            (b.label_id, b.label_name, b.instance_id, [float(b.x), float(b.y)], [float(b.width), float(b.height)])
            for b in truth[image]]
        check_boxes_against_segmentation(
            path.parent / segmentation["filename"],
            [(CLASSES.index(v["labelName"]), *map(int, v["origin"]), *map(int, v["dimension"]))
             for v in boxes["values"]])
    assert sorted(paths) == sorted(truth)


def test_frame_numbers_increase_across_sequences(dataset):
    numbers = [frame["frame"] for _, frame in sorted(
        frames(Path(dataset.root)), key=lambda pf: (pf[1]["sequence"], pf[1]["step"]))]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
