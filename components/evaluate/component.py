"""KFP components ``evaluate`` (COCO metrics, quality gate, HTML report) and ``preview`` (dataset preview).

Both run in the evaluate image (TensorFlow, pycocotools, matplotlib, Pillow).

evaluate:
    Inputs: model (the train step's export folder: saved_model.pb in it or in saved_model/),
        eval_data (a folder of eval TFRecords, or its ``file_pattern`` metadata), label_map (pbtxt/csv).
    Outputs: metrics (AP, AP50, AP75, APs/m/l, AR1/10/100, ARs/m/l, AP per class), report (HTML:
        metric table, AP per class, precision-recall curves, the hardest and a random sample of
        eval images with ground truth and predictions), metrics_json (the same numbers, per-class counts and PR curves, as JSON),
        passed (``gate_metric`` >= ``min_map``; min_map 0 passes every model), gate_value.

preview (the convert step writes the same page as its own ``preview`` output; this component
previews any converted folder, e.g. one made outside the pipeline):
    Inputs: examples (the convert step's output folder: train/, eval/, label_map.pbtxt, stats.json).
    Outputs: report (HTML: sample images with boxes, class histogram, image and box sizes, skip
        reasons, problems found in the records).
"""
from typing import NamedTuple

from kfp import dsl
from kfp.dsl import HTML, Artifact, Dataset, Input, Metrics, Model, Output

from components.common.images import image_for
from components.common.kfp_command import exec_python


@exec_python
@dsl.component(base_image=image_for("evaluate"), install_kfp_package=False)
def evaluate(
    model: Input[Model],
    eval_data: Input[Dataset],
    label_map: Input[Artifact],
    metrics: Output[Metrics],
    report: Output[HTML],
    metrics_json: Output[Artifact],
    min_map: float = 0.0,
    gate_metric: str = "AP50",
    batch_size: int = 8,
    signature: str = "auto",
    box_coordinates: str = "auto",
    num_report_images: int = 12,
    score_threshold: float = 0.3,
    max_examples: int = 0,
) -> NamedTuple("Outputs", [("passed", bool), ("gate_value", float)]):
    """Score an exported detector on eval TFRecords with COCO metrics and report on it."""
    from components.evaluate.task import run_evaluate

    return run_evaluate(**{k: v for k, v in locals().items() if k != "run_evaluate"})


@exec_python
@dsl.component(base_image=image_for("evaluate"), install_kfp_package=False)
def preview(examples: Input[Dataset], report: Output[HTML], max_records: int = 2000, num_images: int = 24):
    """Preview converted TFRecords: what the trainer will see."""
    from components.evaluate.task import run_preview

    run_preview(examples, report, max_records, num_images)
