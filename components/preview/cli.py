"""The preview's command line, shared by ``python -m components.preview`` and the older spelling
``python -m components.evaluate preview``.

    python -m components.preview --data OUT [--label-map FILE] [--stats OUT/stats.json] --output preview.html

OUT, the convert step's output folder, stands for the shards its ``manifest.json`` publishes (both
splits); globs, folders and files of shards are read as given. Paths may be local or gs://. Exit
status: 0 written, 2 a usage or input error.
"""
from __future__ import annotations

import argparse
import logging
from typing import Sequence

logger = logging.getLogger("components.preview")


def build_parser(prog: str = "python -m components.preview") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog,
        description="Preview detection TFRecords as one HTML page: sample images with boxes, class "
                    "histogram, image and box sizes, problems found, and the converter's skip reasons.")
    p.add_argument("--data", required=True, nargs="+", metavar="GLOB",
                   help="TFRecord glob(s), folder(s) or file(s) (quote globs), or the convert output folder "
                        "(its manifest.json names the shards)")
    p.add_argument("--label-map", help="label_map.pbtxt or label_map.csv (names classes, checks class/text)")
    p.add_argument("--stats", help="stats.json of the convert step (counts, skip reasons)")
    p.add_argument("--output", required=True, help="the HTML file to write")
    p.add_argument("--max-records", type=int, default=2000, help="read at most N records (default 2000; 0: all)")
    p.add_argument("--num-images", type=int, default=24, help="images in the sample grid (default 24)")
    return p


def run(argv: Sequence[str], prog: str = "python -m components.preview") -> int:
    """Parse ``argv``, write the page and print one line about it. Input errors are logged: exit 2."""
    from components.preview.preview import write_preview

    args = build_parser(prog).parse_args(list(argv))
    try:
        summary = write_preview(args.data, args.output, args.label_map, args.stats,
                                max_records=args.max_records, num_images=args.num_images)
    except (ValueError, FileNotFoundError) as err:
        logger.error("%s", err)
        return 2
    problems = sum(summary.problems.values())
    print(f"{summary.records} records previewed, {problems} problem(s) found; report: {args.output}")
    return 0
