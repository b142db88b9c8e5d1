"""Layout ``solo``: a SOLO dataset (Perception 1.0+) whose root is the output folder.

    python -m components.samples --output ./solo --layout solo

writes ``metadata.json``, the three definition files and ``sequence.N/stepK.frame_data.json`` with
``stepK.camera.png`` and ``stepK.camera.semantic segmentation.png`` beside each.
"""
from __future__ import annotations

from typing import Any

from components.samples.dataset import Ids, SampleDataset
from components.samples.images import SEGMENTATION_COLOURS
from components.samples.job import Job
from components.samples.shapes import CLASSES

SOLO = "type.unity.com/unity.solo."
BOX_TYPE = SOLO + "BoundingBox2DAnnotation"
SEGMENTATION_TYPE = SOLO + "SemanticSegmentationAnnotation"
CAMERA_TYPE = SOLO + "RGBCamera"
COUNT_TYPE = SOLO + "ObjectCountMetric"
SENSOR_ID = "camera"
BOX_ID = "bounding box"
SEGMENTATION_ID = "semantic segmentation"
COUNT_ID = "ObjectCount"
FRAME_MS = 16.6
_MATRIX = [1.7320508, 0.0, 0.0, 0.0, 2.3094011, 0.0, 0.0, 0.0, -1.0006]
_STEPS_PER_SEQUENCE = (1, 3)


def write_solo(job: Job) -> SampleDataset:
    """Write the SOLO dataset; images are grouped into sequences of 1-3 steps."""
    ids = Ids(job.seed, stream=3)
    low, high = _STEPS_PER_SEQUENCE
    places: list[tuple[int, int, int]] = []  # (sequence, step, frame) per image
    sequence, frame = 0, int(ids.integers(2, 12))
    while len(places) < job.num_images:
        for step in range(int(ids.integers(low, high + 1))):
            if len(places) < job.num_images:
                places.append((sequence, step, frame))
                frame += 1
        sequence, frame = sequence + 1, frame + int(ids.integers(1, 4))
    total_sequences = sequence
    images = []
    for rendered in job.render("rgba-png", segmentation=True):
        sequence, step, frame = places[rendered.index]
        folder = f"sequence.{sequence}"
        image_name = f"step{step}.{SENSOR_ID}.png"
        segmentation_name = f"step{step}.{SENSOR_ID}.{SEGMENTATION_ID}.png"
        job.write_bytes(job.output / folder / image_name, rendered.image)
        job.write_bytes(job.output / folder / segmentation_name, rendered.segmentation or b"")
        image = job.image(f"{folder}/{image_name}", rendered.objects)
        job.write_json(job.output / folder / f"step{step}.frame_data.json",
                       _frame(job, sequence, step, frame, image_name, segmentation_name, rendered.objects))
        images.append(image)
    _write_definitions(job, total_sequences)
    return job.dataset(job.output, images)


def _frame(job: Job, sequence: int, step: int, frame: int, image_name: str, segmentation_name: str,
           objects: tuple) -> dict[str, Any]:
    present = sorted({o.class_index for o in objects})
    segmentation = {
        "@type": SEGMENTATION_TYPE, "id": SEGMENTATION_ID, "sensorId": SENSOR_ID,
        "description": "Produces a semantic segmentation RGB mask", "imageFormat": "Png",
        "dimension": [float(job.width), float(job.height)], "filename": segmentation_name,
        "instances": [{"labelName": CLASSES[k], "pixelValue": _rgba(k + 1)} for k in present],
    }
    boxes = {
        "@type": BOX_TYPE, "id": BOX_ID, "sensorId": SENSOR_ID,
        "description": "Produces 2D bounding box annotations for all visible objects that bear a label",
        "values": [{"instanceId": o.instance_id, "labelId": job.label_id(o), "labelName": CLASSES[o.class_index],
                    "origin": [float(o.x), float(o.y)], "dimension": [float(o.width), float(o.height)]}
                   for o in objects],
    }
    counts = [sum(1 for o in objects if o.class_index == k) for k in range(len(CLASSES))]
    return {
        "frame": frame, "sequence": sequence, "step": step, "timestamp": round(step * FRAME_MS, 3),
        "captures": [{
            "@type": CAMERA_TYPE, "id": SENSOR_ID, "description": "Main Camera",
            "position": [0.0, 0.0, 0.0], "rotation": [0.0, 0.0, 0.0, 1.0],
            "velocity": [0.0, 0.0, 0.0], "acceleration": [0.0, 0.0, 0.0],
            "filename": image_name, "imageFormat": "Png", "dimension": [float(job.width), float(job.height)],
            "projection": "Perspective", "matrix": _MATRIX,
            "annotations": [segmentation, boxes],
        }],
        "metrics": [{
            "@type": COUNT_TYPE, "id": COUNT_ID, "sensorId": SENSOR_ID, "annotationId": BOX_ID,
            "description": "Counts of objects for each label in the sensor's view",
            "values": [{"labelId": i, "labelName": n, "count": c}
                       for i, n, c in zip(job.options.label_ids, CLASSES, counts)],
        }],
    }


def _write_definitions(job: Job, total_sequences: int) -> None:
    job.write_json(job.output / "metadata.json", {
        "unityVersion": "2021.3.11f1", "perceptionVersion": "1.0.0-preview.1",
        "renderPipeline": "URP", "simulationStartTime": "2024-01-01T00:00:00.000Z",
        "simulationEndTime": "2024-01-01T00:10:00.000Z", "scenarioRandomSeed": job.seed,
        "scenarioActiveRandomizers": ["BackgroundRandomizer", "ShapePlacementRandomizer", "ColorRandomizer"],
        "totalFrames": job.num_images, "totalSequences": total_sequences, "sensors": [SENSOR_ID],
        "metricCollectors": [COUNT_ID],
        "annotators": [{"name": SEGMENTATION_ID, "type": SEGMENTATION_TYPE}, {"name": BOX_ID, "type": BOX_TYPE}],
    })
    job.write_json(job.output / "annotation_definitions.json", {"annotationDefinitions": [
        {"@type": SEGMENTATION_TYPE, "id": SEGMENTATION_ID,
         "description": "Produces a semantic segmentation RGB mask",
         "spec": [{"label_name": n, "pixel_value": _rgba(k + 1)} for k, n in enumerate(CLASSES)]},
        {"@type": BOX_TYPE, "id": BOX_ID,
         "description": "Produces 2D bounding box annotations for all visible objects that bear a label",
         "spec": job.label_spec()},
    ]})
    job.write_json(job.output / "sensor_definitions.json", {"sensorDefinitions": [
        {"@type": CAMERA_TYPE, "id": SENSOR_ID, "modality": "camera", "description": "Main Camera",
         "firstCaptureFrame": 0, "captureTriggerMode": "Scheduled", "simulationDeltaTime": 0.0166,
         "framesBetweenCaptures": 0, "manualSensorsAffectTiming": False}]})
    job.write_json(job.output / "metric_definitions.json", {"metricDefinitions": [
        {"@type": COUNT_TYPE, "id": COUNT_ID,
         "description": "Counts of objects for each label in the sensor's view", "spec": job.label_spec()}]})


def _rgba(index: int) -> list[int]:
    return [int(v) for v in SEGMENTATION_COLOURS[index]]
