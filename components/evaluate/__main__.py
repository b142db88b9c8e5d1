"""Command line: evaluate a detector (``preview``, the dataset preview, is ``python -m components.preview``).

    python -m components.evaluate --model EXPORT --eval-data OUT \\
        --label-map OUT/label_map.pbtxt --output DIR [--min-map 0.5]

OUT, the convert step's output folder, stands for the shards its ``manifest.json`` publishes (the
eval split); globs, folders and files of shards are read as given.
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
                    "`python -m components.preview --help` previews a set of records instead.")
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


def main(argv: list[str] | None = None) -> int:
    configure()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")  # TensorFlow's start-up notes, not ours
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] == "preview":
            from components.preview.cli import run

            return run(argv[1:], prog="python -m components.evaluate preview")
        return _evaluate(argv)
    except (ValueError, FileNotFoundError) as err:
        logger.error("%s", err)
        return 2


if __name__ == "__main__":
    sys.exit(main())
