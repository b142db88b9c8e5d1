r"""Train RetinaNet on convert output, here or on Vertex AI.

Locally (CPU, or the GPUs this machine has), on a conversion's output folder OUT::

    python -m components.train --local --preset local --data OUT --model-dir ./model

``--data OUT`` stands for the generation ``OUT/manifest.json`` names (``OUT/gen-<run>``): its
``train/*.tfrecord``, ``eval/*.tfrecord`` and ``label_map.pbtxt``. Records from elsewhere::

    python -m components.train --local --preset local --train-data 'GEN/train/*.tfrecord' \
        --eval-data 'GEN/eval/*.tfrecord' --label-map GEN/label_map.pbtxt --model-dir ./model

On Vertex AI (a CustomJob running the train image)::

    python -m components.train --project P --region us-central1 --accelerator-type NVIDIA_L4 \
        --accelerator-count 1 --train-data 'gs://B/out/gen-RUN/train/*.tfrecord' \
        --eval-data 'gs://B/out/gen-RUN/eval/*.tfrecord' --label-map gs://B/out/label_map.pbtxt \
        --model-dir gs://B/runs/r1

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
DATA_FLAGS = ("train_data", "eval_data", "label_map")


def fill_data(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """``--data OUT`` -> the three data flags (those given win); without it all three are required."""
    if args.data:
        from components.common import manifest, uris

        try:
            generation = manifest.generation_uri(args.data)
        except (FileNotFoundError, manifest.ManifestError) as err:
            parser.error(f"--data {args.data}: {err}; expected the --output folder of a conversion")
        found = {"train_data": uris.join(generation, "train", "*.tfrecord"),
                 "eval_data": uris.join(generation, "eval", "*.tfrecord"),
                 "label_map": uris.join(generation, "label_map.pbtxt")}
        for name, value in found.items():
            if getattr(args, name) is None:
                setattr(args, name, value)
    missing = [f"--{n.replace('_', '-')}" for n in DATA_FLAGS if getattr(args, n) is None]
    if missing:
        parser.error(f"the following arguments are required: {', '.join(missing)} (or --data OUT)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m components.train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--local", action="store_true", help="train on this machine instead of Vertex AI")
    parser.add_argument("--data", metavar="OUT", help="a conversion's output folder (local or gs://): fills in "
                        "--train-data, --eval-data and --label-map from the generation its manifest.json names")
    add_arguments(parser, optional=DATA_FLAGS)
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

    parser = build_parser()
    args = parser.parse_args(argv)
    fill_data(args, parser)
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
