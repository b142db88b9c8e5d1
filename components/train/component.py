"""KFP component ``train``: convert output -> trained RetinaNet, exported as a SavedModel.

With ``mode="local"`` the trainer runs in a child process of the component (CPU, or the GPUs it sees);
with ``mode="vertex"`` the component submits a Vertex AI CustomJob running the same trainer in the train image,
writes ``gcp_resources`` so cancelling the pipeline cancels the job, and waits for it.
Parameters keep the seed's names. The training flags default to "unset" (0, or -1 for
``warmup_learning_rate``/``warmup_steps`` where 0 is a value, or "" for strings): an unset parameter
takes the preset's value (``seed``: batch 16, 960,1280, nasfpn, 75000 steps, ...; ``local``: ResNet-18 at
half width, 192x256, batch 8, Adam, 400 steps), and any value given, even one equal to a preset's, is used.

Inputs (the convert step's outputs):
    train_data, eval_data: folders of ``*.tfrecord`` shards.
    label_map: ``label_map.pbtxt``.
    examples: the whole convert output folder (``stats.json`` and ``eval_coco.json`` are read there).
Outputs:
    model: the exported SavedModel directory (signatures serving_default: uint8 images,
        serving_tf_example: serialized tf.Example); label_map.pbtxt sits in its parent folder.
    checkpoints: the model dir (checkpoints, params.yaml, summaries, eval_metrics.json).
    metrics: the last evaluation's COCO AP, AP50, AP75, ... and the final step.
    gcp_resources: the CustomJob handle (no resources for local runs).
"""
from kfp import dsl
from kfp.dsl import Artifact, Dataset, Input, Metrics, Model, Output, OutputPath

from components.common.images import image_for
from components.common.kfp_command import exec_python


@exec_python
@dsl.component(base_image=image_for("train"), install_kfp_package=False)
def train(
    train_data: Input[Dataset],
    eval_data: Input[Dataset],
    label_map: Input[Artifact],
    examples: Input[Dataset],
    model: Output[Model],
    checkpoints: Output[Artifact],
    metrics: Output[Metrics],
    gcp_resources: OutputPath(str),
    mode: str = "vertex",
    preset: str = "seed",
    model_dir: str = "",
    resume: bool = False,
    train_batch_size: int = 0,
    num_eval_images: int = 0,
    train_steps_per_eval: int = 0,
    max_steps: int = 0,
    num_classes: int = 0,
    warmup_learning_rate: float = -1.0,
    warmup_steps: int = -1,
    initial_learning_rate: float = 0.0,
    image_size: str = "",
    fpn_type: str = "",
    aug_scale_min: float = 0.0,
    aug_scale_max: float = 0.0,
    resnet_depth: int = 0,
    init_checkpoint: str = "",
    eval_batch_size: int = 0,
    precision: str = "",
    params_override: str = "",
    accelerator_type: str = "",
    accelerator_count: int = 0,
    tpu_topology: str = "",
    replica_count: int = 1,
    project: str = "",
    region: str = "",
    machine_type: str = "",
    trainer_image: str = "",
    trainer_tpu_image: str = "",
    service_account: str = "",
    base_output_dir: str = "",
    tensorboard: str = "",
    timeout_s: int = 604800,
):
    """Train RetinaNet (TensorFlow Model Garden) on the convert step's TFRecords."""
    from components.train.task import run_task

    run_task(**{k: v for k, v in locals().items() if k != "run_task"})
