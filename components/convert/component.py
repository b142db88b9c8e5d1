"""KFP component ``convert``: dataset folder -> detection TFRecords (train/, eval/), label map, stats.

Runs Apache Beam on DirectRunner inside the component, or launches a Dataflow job (runner
``DataflowRunner``), writes its handle to ``gcp_resources`` so cancelling the pipeline cancels
the job, and waits for it. The image is the convert image (also the Dataflow worker image).

``reference_label_map`` (optional): another conversion's label map; class ids are taken from it by
name, so real photos converted with the synthetic set's map share its ids.

``sensor`` (optional): comma-separated sensor ids to read; default every sensor with 2D boxes.

Outputs:
    examples: the whole output folder (train/, eval/, label_map.pbtxt, label_map.csv,
        eval_coco.json, stats.json, errors.jsonl).
    train_data, eval_data: the train/ and eval/ folders of ``examples``.
    label_map: ``label_map.pbtxt`` inside ``examples``.
    metrics: example, object and skip counts.
    preview: the dataset preview (HTML) of the records written: samples with boxes, class
        histogram, image and box sizes, problems found, skip reasons.
    gcp_resources: the Dataflow job handle (empty for DirectRunner).
    num_classes (output parameter): highest label id + 1 (Model Garden's meaning, background included).
"""
from typing import NamedTuple

from kfp import dsl
from kfp.dsl import HTML, Artifact, Dataset, Input, Metrics, Output, OutputPath

from components.common.images import image_for
from components.common.kfp_command import exec_python


@exec_python
@dsl.component(base_image=image_for("convert"), install_kfp_package=False)
def convert(
    source: str,
    examples: Output[Dataset],
    train_data: Output[Dataset],
    eval_data: Output[Dataset],
    label_map: Output[Artifact],
    metrics: Output[Metrics],
    preview: Output[HTML],
    gcp_resources: OutputPath(str),
    eval_pct: float = 20.0,
    dataset_format: str = "auto",
    max_bad_fraction: float = 0.05,
    max_dropped_box_fraction: float = 0.05,
    runner: str = "DirectRunner",
    project: str = "",
    region: str = "",
    temp_location: str = "",
    sdk_container_image: str = "",
    num_workers: int = 0,
    max_num_workers: int = 0,
    machine_type: str = "",
    service_account: str = "",
    extra_beam_args: list = [],
    reference_label_map: Input[Artifact] = None,
    sensor: str = "",
) -> NamedTuple("Outputs", [("num_classes", int)]):
    """Convert Unity Perception / SOLO / COCO data at ``source`` (gs:// or local) to TFRecords."""
    from components.convert.task import run_task

    return run_task(**{k: v for k, v in locals().items() if k != "run_task"})
