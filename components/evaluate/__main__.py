"""Command line: evaluate a detector, or preview a set of TFRecords.

    python -m components.evaluate --model EXPORT --eval-data OUT \\
        --label-map OUT/label_map.pbtxt --output DIR [--min-map 0.5]
    python -m components.evaluate preview --data OUT [--label-map FILE] \\
        [--stats OUT/stats.json] --output preview.html

OUT, the convert step's output folder, stands for the shards its ``manifest.json`` publishes (the
eval split for evaluate, both splits for preview); globs, folders and files of shards are read as given.
Paths may be local or gs://. Exit status: 0 done (and the gate passed), 1 the model is below
``--min-map``, 2 a usage or input error.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys

from components.common.logs import configure
from components.evaluate.metrics import SUMMARY_NAMES
from components.evaluate.choices import BOX_COORDINATES, SIGNATURES

logger = logging.getLogger("components.evaluate")


def evaluate_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m components.evaluate",
        description="Run an exported detector on eval TFRecords and score it with COCO metrics "
                    "(pycocotools); write metrics.json and report.html. "
                    "`python -m components.evaluate preview --help` previews a set of records instead.")
    p.add_argument("--model", required=True, help="export folder of the train step (saved_model.pb in it "
                                                  "or in saved_model/)")
    p.add_argument("--eval-data", required=True, nargs="+", metavar="GLOB",
                   help="TFRecord glob(s), folder(s) or file(s) (quote globs), or the convert output folder "
                        "(its manifest.json names the eval shards)")
    p.add_argument("--label-map", help="label_map.pbtxt or label_map.csv (default: names from the records)")
    p.add_argument("--output", required=True, help="folder for metrics.json and report.html")
    p.add_argument("--min-map", type=float, default=0.0,
                   help="quality gate: least value of --gate-metric to pass (default 0: no gate)")
    p.add_argument("--gate-metric", default="AP50", choices=SUMMARY_NAMES, help="metric of the gate (default AP50)")
    p.add_argument("--batch-size", type=int, default=8, help="images per model call (default 8)")
    p.add_argument("--signature", default="auto", choices=SIGNATURES,
                   help="default: serving_tf_example when the model has it, else serving_default")
    p.add_argument("--box-coordinates", default="auto", choices=BOX_COORDINATES,
                   help="model output boxes: input_pixels (Model Garden), normalized, or auto "
                        "(params.yaml of the export)")
    p.add_argument("--num-report-images", type=int, default=12, help="random eval images drawn in the report")
    p.add_argument("--num-hardest-images", type=int, default=6,
                   help="eval images with the most missed objects and false detections drawn in the "
                        "report (default 6)")
    p.add_argument("--score-threshold", type=float, default=0.3, help="least score of a drawn prediction")
    p.add_argument("--max-examples", type=int, default=0, help="evaluate only the first N records (0: all)")
    return p


def preview_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m components.evaluate preview",
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


def published_eval(patterns: list[str]) -> tuple[str, ...]:
    """Each convert output folder (one with ``manifest.json``) replaced by its published eval split,
    ``OUT/gen-<run>/eval``; other patterns as given."""
    from components.common import manifest, uris

    return tuple(uris.join(manifest.generation_uri(p), "eval")
                 if not set(p) & set("*?[") and uris.is_file(uris.join(p, manifest.MANIFEST)) else p
                 for p in patterns)


def _evaluate(argv: list[str]) -> int:
    args = evaluate_parser().parse_args(argv)
    from components.evaluate.evaluation import Settings, evaluate, summary_lines, write_outputs

    settings = Settings(
        model=args.model, eval_data=published_eval(args.eval_data), label_map=args.label_map, min_map=args.min_map,
        gate_metric=args.gate_metric, batch_size=args.batch_size, signature=args.signature,
        box_coordinates=args.box_coordinates, num_report_images=args.num_report_images,
        num_hardest_images=args.num_hardest_images, score_threshold=args.score_threshold, max_examples=args.max_examples)
    result = evaluate(settings)
    paths = write_outputs(result, args.output)
    print("\n".join([*summary_lines(result), f"metrics: {paths['metrics_json']}", f"report: {paths['report']}"]))
    return 0 if result.gate.passed else 1


def _preview(argv: list[str]) -> int:
    args = preview_parser().parse_args(argv)
    from components.preview.preview import write_preview

    summary = write_preview(args.data, args.output, args.label_map, args.stats,
                            max_records=args.max_records, num_images=args.num_images)
    problems = sum(summary.problems.values())
    print(f"{summary.records} records previewed, {problems} problem(s) found; report: {args.output}")
    return 0


def main(argv: list[str] | None = None) -> int:
    configure()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")  # TensorFlow's start-up notes, not ours
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] == "preview":
            return _preview(argv[1:])
        return _evaluate(argv)
    except (ValueError, FileNotFoundError) as err:
        logger.error("%s", err)
        return 2


if __name__ == "__main__":
    sys.exit(main())
