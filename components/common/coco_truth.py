"""COCO detection ground truth of detection records (formats.md 5.1): the one builder.

The convert step writes it as ``eval_coco.json``, which Model Garden's evaluator scores the trainer
against; the evaluate step builds it from the eval records it reads. Both describe each record as a
``RecordTruth`` (its values as stored: float32 normalized boxes and areas), so the same records give
the same dict. ``image/source_id`` is the COCO image id and must be unique: pycocotools counts an
image id listed twice twice.

    truth = GroundTruth(labels)            # strict: a repeated id raises ImageIdError
    image_id = truth.add(record)           # per record, in any order
    coco = truth.dataset()                 # images sorted by file name
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

logger = logging.getLogger(__name__)

MAX_IMAGE_ID = 2 ** 53  # ids stay exact in float64 and JSON


class ImageIdError(ValueError):
    """A record's ``image/source_id`` is not a unique positive integer below ``MAX_IMAGE_ID``."""


@dataclass(frozen=True)
class RecordTruth:
    """One record's ground truth as stored; ``where`` (its shard file) goes into messages."""

    source_id: str
    file_name: str
    width: int
    height: int
    boxes: Sequence[Sequence[float]]  # normalized [ymin, xmin, ymax, xmax]
    labels: Sequence[int]
    texts: Sequence[str] = ()
    areas: Sequence[float] = ()  # image/object/area; when not one per box, w * h of the pixel box
    is_crowd: Sequence[int] = ()  # when not one per box, all 0
    where: str = ""


def pixel_box(box: Sequence[float], width: int, height: int) -> list[float]:
    """Normalized ``[ymin, xmin, ymax, xmax]`` -> COCO ``[x, y, w, h]`` in pixels."""
    ymin, xmin, ymax, xmax = (float(v) for v in box)
    x0, x1, y0, y1 = xmin * width, xmax * width, ymin * height, ymax * height
    return [x0, y0, x1 - x0, y1 - y0]


class GroundTruth:
    """COCO ground truth accumulated record by record.

    Args:
        labels: ``{id: name}``; a label outside it is added under its ``class/text`` with a warning.
        private_ids: give a record whose id is missing, not numeric or repeated a private id above
            ``MAX_IMAGE_ID`` (counted in ``fallback_ids``) instead of raising ``ImageIdError``.
    """

    def __init__(self, labels: Mapping[int, str], *, private_ids: bool = False) -> None:
        self.labels = dict(labels)
        self.private_ids = private_ids
        self.fallback_ids = 0
        self._images: dict[int, tuple[dict, list[dict]]] = {}
        self._next_private = MAX_IMAGE_ID

    def __len__(self) -> int:
        return len(self._images)

    def _image_id(self, record: RecordTruth) -> int:
        try:
            value = int(record.source_id)
        except ValueError:
            value = 0
        if 0 < value < MAX_IMAGE_ID and value not in self._images:
            return value
        where = f" in {record.where}" if record.where else ""
        if value in self._images:
            problem = f"repeats the image/source_id {value} of {self._images[value][0]['file_name']!r}"
        else:
            problem = f"has image/source_id {record.source_id!r}; expected a positive integer below {MAX_IMAGE_ID}"
        if not self.private_ids:
            raise ImageIdError(f"record {record.file_name!r}{where} {problem}: COCO image ids must be "
                               "unique, or pycocotools counts the image twice")
        if not self.fallback_ids:
            logger.warning("Record %r%s %s: given a private image id (and so is any further one)",
                           record.file_name, where, problem)
        self.fallback_ids += 1
        self._next_private += 1
        return self._next_private - 1

    def add(self, record: RecordTruth) -> int:
        """Adds one record's image and objects; returns its COCO image id."""
        image_id = self._image_id(record)
        count = len(record.labels)
        areas = list(record.areas) if len(record.areas) == count else None
        crowd = list(record.is_crowd) if len(record.is_crowd) == count else [0] * count
        objects = []
        for i, (box, label) in enumerate(zip(record.boxes, record.labels)):
            label = int(label)
            if label not in self.labels:
                text = record.texts[i] if i < len(record.texts) else ""
                self.labels[label] = text or f"class {label}"
                logger.warning("Label %d (%s) of %s is not in the label map; evaluated under that name",
                               label, self.labels[label], record.file_name)
            bbox = pixel_box(box, record.width, record.height)
            objects.append({"image_id": image_id, "category_id": label, "bbox": bbox,
                            "area": float(areas[i]) if areas is not None else bbox[2] * bbox[3],
                            "iscrowd": int(crowd[i])})
        image = {"id": image_id, "file_name": record.file_name, "width": int(record.width),
                 "height": int(record.height)}
        self._images[image_id] = (image, objects)
        return image_id

    def dataset(self) -> dict:
        """The COCO dict: images by file name (then id), annotations numbered from 1 in that order."""
        images, annotations = [], []
        for image, objects in sorted(self._images.values(), key=lambda entry: (entry[0]["file_name"],
                                                                                entry[0]["id"])):
            images.append(image)
            annotations += [{"id": len(annotations) + n, **o} for n, o in enumerate(objects, start=1)]
        categories = [{"id": i, "name": n, "supercategory": "object"} for i, n in sorted(self.labels.items())]
        return {"info": {"description": "synthdet eval split"}, "images": images, "annotations": annotations,
                "categories": categories}


def coco_ground_truth(records: Iterable[RecordTruth], labels: Mapping[int, str], *,
                      private_ids: bool = False) -> dict:
    """The COCO ground-truth dict of the records (see ``GroundTruth``).

    Raises:
        ImageIdError: unless ``private_ids``, a record repeats an image id or has none.
    """
    truth = GroundTruth(labels, private_ids=private_ids)
    for record in records:
        truth.add(record)
    return truth.dataset()
