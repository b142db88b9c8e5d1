"""Deterministic sample datasets: rectangles, ellipses and triangles in the layouts the converter reads.

Run locally (there is no cloud variant; copy the output to a bucket if a cloud run needs it):

    python -m components.samples --output ./sample --layout unity-simulation --images 200
    python -m components.samples --output ./bench --layout perception --images 2000 \\
        --width 1280 --height 960 --background noise --workers 2

From Python:

    from components.samples import generate, SampleOptions
    dataset = generate("./sample", "solo", num_images=24, seed=0)
    dataset.root, dataset.labels, dataset.boxes_by_path()

Layouts: ``unity-simulation`` (a Unity Simulation run execution as transferred to a bucket),
``perception`` (one legacy Perception dataset), ``solo`` (Perception 1.0+), ``coco`` and
``unity-real`` (UnityGroceries-Real). Classes are ``rectangle``, ``ellipse``, ``triangle`` with
label ids 1, 2, 3 unless ``SampleOptions.label_ids`` says otherwise.
"""
from components.samples.dataset import LAYOUTS, SampleBox, SampleDataset, SampleImage, SampleOptions
from components.samples.layouts import generate
from components.samples.shapes import BACKGROUNDS, CLASSES

__all__ = ["BACKGROUNDS", "CLASSES", "LAYOUTS", "SampleBox", "SampleDataset", "SampleImage", "SampleOptions",
           "generate"]
