"""The synthdet pipeline: Unity Simulation run -> TFRecords -> RetinaNet -> evaluation -> Model Registry.

    python pipeline.py compile [--output-dir compiled]      # pipeline.yaml + one YAML per component
    python pipeline.py demo                                 # the whole pipeline on this machine
    python pipeline.py submit --project P --region R --pipeline-root gs://B/root \\
        --param unity_project_id=... --param run_definition_id=... --param run_execution_id=... \\
        --param bucket=B [--service-account SA] [--dry-run]

Start points: a Unity Simulation run (``run_execution_id`` ...), or a dataset already in a bucket
(``dataset_uri``, the transfer is skipped); ``real_dataset_uri`` adds real photos (COCO or
UnityGroceries-Real), converted with the synthetic label map and evaluated on their own.
"""

import argparse
import logging
import os
import sys

from kfp import compiler, dsl

from components.common.images import image_for
from components.convert.component import convert
from components.evaluate.component import evaluate, preview
from components.train.component import train
from components.train.settings import PRESETS
from components.transfer.component import transfer
from components.workflow.component import pass_dataset_uri, serving_model

# Vertex AI's prebuilt TensorFlow serving image for the exported SavedModel.
UPLOAD_SERVING_IMAGE = "us-docker.pkg.dev/vertex-ai/prediction/tf2-cpu.2-15:latest"


def _upload(trained, project, region, display_name, serving_image):
    """Vertex AI Model Registry upload of the exported SavedModel (Google Cloud Pipeline Components)."""
    from google_cloud_pipeline_components.v1.model import ModelUploadOp

    served = serving_model(model=trained.outputs["model"], serving_image=serving_image)
    served.set_display_name("Describe serving container")
    ModelUploadOp(project=project, location=region, display_name=display_name,
                  unmanaged_container_model=served.outputs["unmanaged_model"]).set_display_name(
        "Upload to Model Registry")


@dsl.pipeline(name="synthdet", description="Unity Simulation synthetic data (and real COCO photos) to a "
              "RetinaNet object detector: transfer, convert (Beam/Dataflow), train (Vertex AI), evaluate.")
def synthdet_pipeline(
    # Where the data comes from: a Unity Simulation run, or dataset_uri to skip the transfer.
    unity_project_id: str = "",
    run_definition_id: str = "",
    run_execution_id: str = "",
    bucket: str = "",
    usim_token_secret: str = "",
    usim_api_url: str = "",
    buckets_root: str = "",
    transfer_poll_interval: float = 30.0,
    dataset_uri: str = "",
    real_dataset_uri: str = "",
    # Conversion.
    eval_pct: float = 20.0,
    dataset_format: str = "auto",
    max_bad_fraction: float = 0.05,
    max_dropped_box_fraction: float = 0.05,
    sensor: str = "",  # comma-separated sensor ids to read; "" = every sensor with 2D boxes
    convert_runner: str = "DataflowRunner",
    project: str = "",
    region: str = "us-central1",
    dataflow_temp_location: str = "",
    dataflow_max_workers: int = 32,
    dataflow_machine_type: str = "n1-standard-4",
    service_account: str = "",
    convert_extra_beam_args: list = [],
    # Training: the seed's flags, same names. Unset (0; -1 for warmup_learning_rate and warmup_steps;
    # "" for strings) takes training_preset's value: the seed's batch 16, 960,1280, nasfpn, 75000 steps...
    train_batch_size: int = 0,
    num_eval_images: int = 0,
    train_steps_per_eval: int = 0,
    max_steps: int = 0,
    warmup_learning_rate: float = -1.0,
    warmup_steps: int = -1,
    initial_learning_rate: float = 0.0,
    image_size: str = "",
    fpn_type: str = "",
    aug_scale_min: float = 0.0,
    aug_scale_max: float = 0.0,
    resnet_depth: int = 0,
    params_override: str = "",
    # Training hardware.
    training_mode: str = "vertex",
    training_preset: str = "seed",
    machine_type: str = "",  # "" = derived from the accelerator
    # Not the seed's P100: batch 16 at 1024x1280 does not fit 16 GB (README, "Measured here").
    accelerator_type: str = "NVIDIA_A100_80GB",
    accelerator_count: int = 1,
    tpu_topology: str = "",
    replica_count: int = 1,
    training_output_dir: str = "",
    tensorboard: str = "",
    # Evaluation and upload.
    min_map: float = 0.5,
    upload_model: bool = True,
    model_display_name: str = "synthdet-retinanet",
    serving_image: str = UPLOAD_SERVING_IMAGE,
):
    with dsl.If(dataset_uri == "", name="from-unity-simulation"):
        moved = transfer(project_id=unity_project_id, run_definition_id=run_definition_id,
                         run_execution_id=run_execution_id, bucket=bucket, token_secret=usim_token_secret,
                         api_url=usim_api_url, buckets_root=buckets_root, poll_interval=transfer_poll_interval,
                         skip_if_present=True)
        moved.set_display_name("Transfer from Unity Simulation").set_retry(num_retries=2)
    with dsl.Else(name="from-bucket"):
        given = pass_dataset_uri(dataset_uri=dataset_uri).set_display_name("Dataset in a bucket")
        given.set_caching_options(False)
    source = dsl.OneOf(moved.outputs["dataset_uri"], given.output)

    # Image names are fixed here, at compile time, and travel in the spec as constants: the Dataflow
    # workers run the convert image (it installs this package), the CustomJob the train image.
    beam = dict(runner=convert_runner, project=project, region=region, temp_location=dataflow_temp_location,
                max_num_workers=dataflow_max_workers, machine_type=dataflow_machine_type,
                service_account=service_account, sdk_container_image=image_for("convert"),
                extra_beam_args=convert_extra_beam_args)
    examples = convert(source=source, eval_pct=eval_pct, dataset_format=dataset_format,
                       max_bad_fraction=max_bad_fraction, max_dropped_box_fraction=max_dropped_box_fraction,
                       sensor=sensor, **beam)
    examples.set_display_name("Convert to TFRecords").set_caching_options(True)

    trained = train(
        train_data=examples.outputs["train_data"], eval_data=examples.outputs["eval_data"],
        label_map=examples.outputs["label_map"], examples=examples.outputs["examples"],
        mode=training_mode, preset=training_preset, train_batch_size=train_batch_size,
        num_eval_images=num_eval_images, train_steps_per_eval=train_steps_per_eval, max_steps=max_steps,
        warmup_learning_rate=warmup_learning_rate, warmup_steps=warmup_steps,
        initial_learning_rate=initial_learning_rate, image_size=image_size, fpn_type=fpn_type,
        aug_scale_min=aug_scale_min, aug_scale_max=aug_scale_max, resnet_depth=resnet_depth,
        params_override=params_override, project=project, region=region, machine_type=machine_type,
        accelerator_type=accelerator_type, accelerator_count=accelerator_count, tpu_topology=tpu_topology,
        replica_count=replica_count, base_output_dir=training_output_dir, service_account=service_account,
        tensorboard=tensorboard, trainer_image=image_for("train"), trainer_tpu_image=image_for("train-tpu"))
    trained.set_display_name("Train RetinaNet")

    scored = evaluate(model=trained.outputs["model"], eval_data=examples.outputs["eval_data"],
                      label_map=examples.outputs["label_map"], min_map=min_map)
    scored.set_display_name("Evaluate on synthetic eval split")

    with dsl.If(real_dataset_uri != "", name="with-real-photos"):
        real = convert(source=real_dataset_uri, eval_pct=100.0,
                       reference_label_map=examples.outputs["label_map"], **beam)
        real.set_display_name("Convert real photos").set_caching_options(True)
        evaluate(model=trained.outputs["model"], eval_data=real.outputs["eval_data"],
                 label_map=examples.outputs["label_map"]).set_display_name("Evaluate on real photos")

    with dsl.If(upload_model == True, name="upload-requested"):  # noqa: E712 (a KFP condition)
        with dsl.If(scored.outputs["passed"] == True, name="model-passed-gate"):  # noqa: E712
            _upload(trained, project, region, model_display_name, serving_image)


def compile_pipeline(package_path: str) -> str:
    """Compile the pipeline to KFP IR YAML; returns the path."""
    compiler.Compiler().compile(synthdet_pipeline, package_path)
    return package_path


COMPONENTS = {"transfer": transfer, "convert": convert, "preview": preview, "train": train,
              "evaluate": evaluate}


def compile_all(output_dir: str) -> list[str]:
    """pipeline.yaml plus components/<name>.yaml (loadable with kfp.components.load_component_from_file)."""
    os.makedirs(os.path.join(output_dir, "components"), exist_ok=True)
    written = [compile_pipeline(os.path.join(output_dir, "pipeline.yaml"))]
    for name, component in COMPONENTS.items():
        path = os.path.join(output_dir, "components", f"{name}.yaml")
        compiler.Compiler().compile(component, path)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    from components.common.logs import configure

    configure()
    parser = argparse.ArgumentParser(prog="python pipeline.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("compile", help="write pipeline.yaml and one YAML per component")
    c.add_argument("--output-dir", default="compiled")
    d = sub.add_parser("demo", help="run the whole pipeline locally on the generated sample")
    d.add_argument("--workdir", default="demo_output")
    d.add_argument("--images", type=int, default=300, help="sample images (default 300)")
    d.add_argument("--max-steps", type=int, default=PRESETS["local"]["max_steps"],
                   help="training steps (default: the local preset's, %(default)s)")
    s = sub.add_parser("submit", help="submit the compiled pipeline to Vertex AI Pipelines")
    s.add_argument("--project", required=True)
    s.add_argument("--region", required=True)
    s.add_argument("--pipeline-root", required=True, help="gs:// folder for the run's artifacts")
    s.add_argument("--service-account")
    s.add_argument("--template", help="compiled pipeline (default: compile now)")
    s.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    s.add_argument("--display-name", default="synthdet")
    s.add_argument("--no-cache", action="store_true", help="disable caching for every task")
    s.add_argument("--dry-run", action="store_true", help="print what would be submitted, submit nothing")
    args = parser.parse_args(argv)
    log = logging.getLogger("pipeline")
    if args.command == "compile":
        for path in compile_all(args.output_dir):
            print(path)
        return 0
    if args.command == "demo":
        from components.workflow.demo import run_demo, summary

        print(summary(run_demo(args.workdir, compile_pipeline, images=args.images, max_steps=args.max_steps)))
        return 0
    from components.workflow.submit import describe, make_submission, submit
    from components.workflow.validate import validate_parameters

    if args.template:
        template = args.template
    else:
        os.makedirs("compiled", exist_ok=True)
        template = compile_pipeline(os.path.join("compiled", "pipeline.yaml"))
    try:
        job = make_submission(template, args.project, args.region, args.pipeline_root, args.param,
                              args.service_account, args.display_name, False if args.no_cache else None,
                              validate=validate_parameters)
    except ValueError as err:
        log.error("%s", err)
        return 2
    if args.dry_run:
        print(describe(job))
        return 0
    print(submit(job))
    return 0


if __name__ == "__main__":
    sys.exit(main())
