"""Command line: ``python -m components.samples --output DIR --layout LAYOUT [options]``.

Exit status: 0 written, 2 a usage error (bad flag value, output folder not empty).
"""
from __future__ import annotations

import argparse
import logging
import sys

from components.common.logs import configure
from components.samples.dataset import IMAGE_FORMATS, LAYOUTS, SampleOptions
from components.samples.layouts import generate
from components.samples.shapes import BACKGROUNDS, CLASSES

logger = logging.getLogger("components.samples")
_DEFAULTS = SampleOptions()


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m components.samples",
        description="Write a deterministic sample detection dataset of "
                    f"{', '.join(CLASSES)} (label ids 1, 2, 3) in one of the layouts the converter reads. "
                    "The same flags always give byte-identical files.",
        epilog="Example: python -m components.samples --output ./sample --layout unity-simulation --images 200. "
               "For benchmark-sized images: --width 1280 --height 960 --background noise "
               "(about 2-3 MB per PNG).")
    p.add_argument("--output", required=True, help="local folder to create (must not exist or be empty)")
    p.add_argument("--layout", required=True, choices=LAYOUTS, help="folder and file layout to write")
    p.add_argument("--images", "--num-images", dest="num_images", type=int, default=200,
                   help="images a converter should read (default 200)")
    p.add_argument("--width", type=int, default=320, help="image width in pixels (default 320)")
    p.add_argument("--height", type=int, default=240, help="image height in pixels (default 240)")
    p.add_argument("--seed", type=int, default=0, help="random seed, >= 0 (default 0)")
    p.add_argument("--background", default=_DEFAULTS.background, choices=BACKGROUNDS,
                   help="background style; noise makes PNGs about as large as rendered frames (default mixed)")
    p.add_argument("--image-format", default=_DEFAULTS.image_format, choices=IMAGE_FORMATS,
                   help="coco layout only: image encoding (default png; jpeg uses quality 95)")
    p.add_argument("--label-ids", default=",".join(map(str, _DEFAULTS.label_ids)), metavar="ID,ID,ID",
                   help=f"label ids of {', '.join(CLASSES)} (default 1,2,3)")
    p.add_argument("--empty-fraction", type=float, default=_DEFAULTS.empty_fraction,
                   help="share of images without objects (default 0.05)")
    p.add_argument("--captures-per-file", type=int,
                   help="legacy layouts: captures per captures_NNN.json (default: 150, lowered so that "
                        "each dataset gets at least two files)")
    p.add_argument("--workers", type=int, default=1, help="processes drawing images (default 1)")
    sim = p.add_argument_group("unity-simulation ids")
    sim.add_argument("--project-id", default=_DEFAULTS.project_id, help="Unity project id")
    sim.add_argument("--run-definition-id", default=_DEFAULTS.run_definition_id)
    sim.add_argument("--run-execution-id", default=_DEFAULTS.run_execution_id)
    sim.add_argument("--app-param-ids", default=",".join(_DEFAULTS.app_param_ids), metavar="ID,ID,...",
                     help="app-param ids, comma-separated (default: three ids)")
    sim.add_argument("--instances-per-app-param", type=int, default=_DEFAULTS.instances_per_app_param)
    return p


def options_from(args: argparse.Namespace) -> SampleOptions:
    """``SampleOptions`` from parsed flags; raises ValueError naming the flag on a bad value."""
    try:
        label_ids = tuple(int(v) for v in args.label_ids.split(","))
    except ValueError:
        raise ValueError(f"--label-ids {args.label_ids!r}: expected comma-separated integers") from None
    return SampleOptions(
        background=args.background, image_format=args.image_format, label_ids=label_ids,
        empty_fraction=args.empty_fraction, captures_per_file=args.captures_per_file,
        project_id=args.project_id, run_definition_id=args.run_definition_id,
        run_execution_id=args.run_execution_id,
        app_param_ids=tuple(a for a in args.app_param_ids.split(",") if a),
        instances_per_app_param=args.instances_per_app_param, workers=args.workers)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    configure()
    try:
        dataset = generate(args.output, args.layout, num_images=args.num_images, width=args.width,
                           height=args.height, seed=args.seed, options=options_from(args))
    except ValueError as err:
        logger.error("%s", err)
        return 2
    logger.info("point the converter at: %s", dataset.root)
    if dataset.superseded:
        logger.info("superseded attempts it must ignore: %s", ", ".join(dataset.superseded))
    return 0


if __name__ == "__main__":
    sys.exit(main())
