"""Command line: ``python -m components.convert --source SRC [--output OUT] [options] [Beam options]``.

Unknown ``--flags`` are passed on to Beam unchanged, after the ones built from the flags below.
Exit status: 0 done, 1 the conversion failed (nothing published), 2 a usage or input error.
"""
from __future__ import annotations

import argparse
import logging
import sys

from components.common.logs import configure
from components.convert.discover import FORMATS
from components.convert.options import DIRECT_MODES, RUNNERS, Settings

logger = logging.getLogger("components.convert")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m components.convert",
        description="Convert Unity Perception (legacy or SOLO), COCO or UnityGroceries-Real data into "
                    "TFRecords for object detection (train/ and eval/), a label map, a COCO file of the "
                    "eval split and stats.json, with Apache Beam.",
        epilog="Any other --flag is passed to Beam (e.g. --experiments, --worker_zone).")
    p.add_argument("--source", required=True, help="dataset folder or run execution: local path or gs://")
    p.add_argument("--output", help="output folder (default: SOURCE/output); replaced whole on success")
    p.add_argument("--format", default="auto", choices=FORMATS, help="input format (default: detect)")
    p.add_argument("--eval-pct", type=float, default=20.0, help="share of images for eval, %% (default 20)")
    p.add_argument("--max-bad-fraction", type=float, default=0.05,
                   help="fail if more than this fraction of images is rejected (default 0.05). An "
                        "annotation file lost whole counts by the images it held, or, when that is "
                        "unknown, as its share of the annotation files (1 of N files = 1/N of the data); "
                        "stats.json: bad_fraction, images_rejected, images_in_lost_files, "
                        "share_lost_by_file_count. Duplicates and sensors left out do not count")
    p.add_argument("--max-dropped-box-fraction", type=float, default=0.05,
                   help="fail if more than this fraction of the boxes read is dropped (unknown label, bad "
                        "or empty box); a run that drops every box always fails (default 0.05)")
    p.add_argument("--max-listed-errors", type=int, default=1000,
                   help="errors.jsonl lists at most this many problems per reason; stats.json counts "
                        "every one (default 1000)")
    p.add_argument("--image-sha256", action=argparse.BooleanOptionalAction, default=False,
                   help="write image/key/sha256 (default: left empty; neither Model Garden's nor the "
                        "Object Detection API's decoder reads it, and hashing costs about as much CPU "
                        "as reading the image)")
    p.add_argument("--label-map", help="reference label_map.pbtxt (e.g. of the synthetic data): class ids "
                                       "by name; boxes of other classes are dropped and counted")
    p.add_argument("--box-definition-id", help="annotation definition id of the 2D box labeler to use "
                                               "when a dataset has several")
    p.add_argument("--sensor", action="append", default=[], metavar="ID",
                   help="read only this sensor's captures (repeat for several; default: every sensor "
                        "with 2D boxes); the others are counted as sensor_not_selected")
    p.add_argument("--runner", default="DirectRunner", choices=RUNNERS)
    local = p.add_argument_group("DirectRunner")
    local.add_argument("--direct-num-workers", type=int, default=0, help="worker count, 0 = all cores (default)")
    local.add_argument("--direct-running-mode", default="auto", choices=DIRECT_MODES,
                       help="auto (default): in-process below 1,000 images, a process per core above")
    cloud = p.add_argument_group("DataflowRunner")
    for flag, text in [("project", "Google Cloud project"), ("region", "Dataflow region, e.g. us-central1"),
                       ("temp-location", "gs:// folder for temporary files"),
                       ("staging-location", "gs:// folder for staged files (default: temp location)"),
                       ("sdk-container-image", "worker image with this package installed (containers/convert)"),
                       ("setup-file", "setup.py to stage instead of a worker image"),
                       ("autoscaling-algorithm", "THROUGHPUT_BASED or NONE"),
                       ("machine-type", "worker machine type, e.g. n1-standard-4"),
                       ("service-account", "worker service account e-mail"),
                       ("network", "VPC network"), ("subnetwork", "VPC subnetwork"),
                       ("job-name", "Dataflow job name ([a-z][-a-z0-9]*)"),
                       ("gcp-resources", "file to write the job handle to (KFP gcp_resources)")]:
        cloud.add_argument(f"--{flag}", help=text)
    cloud.add_argument("--num-workers", type=int)
    cloud.add_argument("--max-num-workers", type=int)
    cloud.add_argument("--no-use-public-ips", action="store_true")
    cloud.add_argument("--label", action="append", default=[], metavar="KEY=VALUE", help="job label (repeat)")
    return p


def settings_from(args: argparse.Namespace, extra: list[str]) -> Settings:
    labels = {}
    for item in args.label:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--label {item!r}: expected KEY=VALUE")
        labels[key] = value
    return Settings(
        source=args.source, output=args.output, format=args.format, eval_pct=args.eval_pct,
        max_bad_fraction=args.max_bad_fraction, max_listed_errors=args.max_listed_errors,
        max_dropped_box_fraction=args.max_dropped_box_fraction,
        image_sha256=args.image_sha256,
        box_definition_id=args.box_definition_id,
        sensor=tuple(args.sensor),
        label_map=args.label_map,
        runner=args.runner, direct_num_workers=args.direct_num_workers,
        direct_running_mode=args.direct_running_mode, project=args.project, region=args.region,
        temp_location=args.temp_location, staging_location=args.staging_location,
        sdk_container_image=args.sdk_container_image, setup_file=args.setup_file,
        num_workers=args.num_workers, max_num_workers=args.max_num_workers,
        autoscaling_algorithm=args.autoscaling_algorithm, machine_type=args.machine_type,
        service_account=args.service_account, network=args.network, subnetwork=args.subnetwork,
        no_use_public_ips=args.no_use_public_ips, job_name=args.job_name, labels=labels,
        extra_beam_args=tuple(extra))


def main(argv: list[str] | None = None) -> int:
    configure()
    args, extra = parser().parse_known_args(argv)
    from components.convert.stats import format_summary
    from components.convert.pipeline import ConversionError, run

    try:
        settings = settings_from(args, extra)
        stats = run(settings, gcp_resources_path=args.gcp_resources)
    except ConversionError as err:
        logger.error("%s", err)
        return 1
    except (ValueError, FileNotFoundError) as err:
        logger.error("%s", err)
        return 2
    print(format_summary(stats, settings.output_uri))
    return 0


if __name__ == "__main__":
    sys.exit(main())
