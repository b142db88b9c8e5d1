"""Layouts ``coco`` (COCO detection JSON) and ``unity-real`` (the UnityGroceries-Real ``v3/`` folder).

    python -m components.samples --output ./coco --layout coco [--image-format jpeg]
    python -m components.samples --output ./real --layout unity-real

Both write ``annotations.json`` and ``images/`` into the output folder, which is the dataset root.
"""
from __future__ import annotations

from components.samples.dataset import BOX_DEFINITION_ID, Ids, SampleDataset
from components.samples.job import Job
from components.samples.shapes import CLASSES

REAL_SPLITS = (("train", 0.6), ("val", 0.2), ("test", 0.2))


def write_coco(job: Job) -> SampleDataset:
    """``annotations.json`` (COCO) plus ``images/sample_NNNNN.{png,jpg}``."""
    jpeg = job.options.image_format == "jpeg"
    extension = "jpg" if jpeg else "png"
    coco_images, annotations, images = [], [], []
    for rendered in job.render("jpeg" if jpeg else "rgb-png", segmentation=False):
        image_id = rendered.index + 1
        name = f"sample_{rendered.index:05d}.{extension}"
        job.write_bytes(job.output / "images" / name, rendered.image)
        coco_images.append({"id": image_id, "file_name": name, "width": job.width, "height": job.height,
                            "license": 1})
        image = job.image(f"images/{name}", rendered.objects)
        for box in image.boxes:
            annotations.append({
                "id": len(annotations) + 1, "image_id": image_id, "category_id": box.label_id,
                "bbox": [float(box.x), float(box.y), float(box.width), float(box.height)],
                "area": float(box.width * box.height), "iscrowd": 0, "segmentation": [],
            })
        images.append(image)
    job.write_json(job.output / "annotations.json", {
        "info": {"description": "synthdet-pipelines sample shapes", "version": "1.0", "year": 2024},
        "licenses": [{"id": 1, "name": "CC0 1.0", "url": "https://creativecommons.org/publicdomain/zero/1.0/"}],
        "images": coco_images,
        "annotations": annotations,
        "categories": [{"id": i, "name": n, "supercategory": "shape"}
                       for i, n in zip(job.options.label_ids, CLASSES)],
    })
    return job.dataset(job.output, images)


def write_unity_real(job: Job) -> SampleDataset:
    """``images/IMG_<nnnn>.JPG``, ``annotations.json`` (a list), definitions and split files."""
    ids = Ids(job.seed, stream=5)
    number = int(ids.integers(100, 2000))
    names = []
    for _ in range(job.num_images):
        names.append(f"IMG_{number:04d}.JPG")
        number += int(ids.integers(1, 3))  # camera counters skip deleted shots
    records, images = [], []
    for rendered in job.render("jpeg", segmentation=False):
        name = names[rendered.index]
        job.write_bytes(job.output / "images" / name, rendered.image)
        image = job.image(f"images/{name}", rendered.objects)
        records.append({"file_name": name, "annotations": [
            {"label_id": b.label_id, "bbox": [float(b.x), float(b.y), float(b.width), float(b.height)]}
            for b in image.boxes]})
        images.append(image)
    job.write_json(job.output / "annotations.json", records)
    job.write_json(job.output / "annotation_definitions.json", {"version": "0.0.1", "annotation_definitions": [
        {"id": BOX_DEFINITION_ID, "name": "bounding box", "description": "Hand-drawn 2D boxes",
         "format": "JSON", "spec": job.label_spec()}]})
    order = ids.permutation(job.num_images)
    start = 0
    for k, (split, share) in enumerate(REAL_SPLITS):
        end = job.num_images if k == len(REAL_SPLITS) - 1 else \
            min(job.num_images, start + int(round(share * job.num_images)))
        indices = sorted(order[start:end])
        (job.output / f"groceries_real_{split}.txt").write_text(" ".join(map(str, indices)) + "\n")
        start = end
    return job.dataset(job.output, images)
