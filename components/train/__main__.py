r"""Train RetinaNet on convert output, here or on Vertex AI.

Locally (CPU, or the GPUs this machine has)::

    python -m components.train --local --preset local --train-data 'GEN/train/*.tfrecord' \
        --eval-data 'GEN/eval/*.tfrecord' --label-map GEN/label_map.pbtxt --model-dir ./model

On Vertex AI (a CustomJob running the train image)::

    python -m components.train --project P --region us-central1 --accelerator-type NVIDIA_L4 \
        --accelerator-count 1 --train-data 'gs://B/out/gen-RUN/train/*.tfrecord' \
        --eval-data 'gs://B/out/gen-RUN/eval/*.tfrecord' --label-map gs://B/out/label_map.pbtxt \
        --model-dir gs://B/runs/r1

GEN is the generation of a conversion OUT that ``OUT/manifest.json`` names (``OUT/gen-<run>``):
``python -c "from components.common import manifest; print(manifest.generation_uri('OUT'))"``.
Pre-flight failures exit with status 2 before any training, naming the flag to fix.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from typing import Sequence

from components.common.images import image_for
from components.train.job_spec import Vertex
from components.train.settings import SettingsError, add_arguments, from_namespace

logger = logging.getLogger("components.train")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m components.train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--local", action="store_true", help="train on this machine instead of Vertex AI")
    add_arguments(parser)
    vertex = parser.add_argument_group("Vertex AI (without --local)")
    for f in dataclasses.fields(Vertex):
        if f.name == "labels":
            continue
        default = None if f.default is dataclasses.MISSING else f.default
        if f.type == "bool":
            vertex.add_argument("--" + f.name.replace("_", "-"), action="store_true")
        else:
            vertex.add_argument("--" + f.name.replace("_", "-"), type=int if f.type == "int" else str,
                                default=default, help=f"(default: {default!r})" if default not in (None, "") else None)
    vertex.add_argument("--gcp-resources", default="", help="file for the CustomJob handle (resumes if it names one)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from components.common.logs import configure
    from components.train import launcher

    args = build_parser().parse_args(argv)
    configure()
    try:
        settings = from_namespace(args)
        vertex = None
        if not args.local:
            values = {f.name: getattr(args, f.name) for f in dataclasses.fields(Vertex) if f.name != "labels"}
            values = {k: "" if v is None else v for k, v in values.items()}
            # On the user's machine the images come from the registry set there (containers/build.sh).
            values["trainer_image"] = values["trainer_image"] or image_for("train")
            values["trainer_tpu_image"] = values["trainer_tpu_image"] or image_for("train-tpu")
            vertex = Vertex(**values)
        layout, metrics = launcher.launch(settings, vertex, args.gcp_resources)
    except SettingsError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except RuntimeError as err:
        logger.error("%s", err)
        return 1
    print(json.dumps({"saved_model": layout.saved_model_dir, "model_dir": layout.model_dir, "metrics": metrics},
                     indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
