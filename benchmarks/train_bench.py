r"""Training throughput (steps/s, images/s) of the Model Garden RetinaNet trainer, and time to a target mAP.

    python benchmarks/train_bench.py                       # local preset on this machine's CPU (or GPU)
    python benchmarks/train_bench.py --preset seed --batch 8 \
        --accelerator-type NVIDIA_H100_80GB --accelerator-count 1   # the seed's 960,1280 NAS-FPN on one H100
    python benchmarks/train_bench.py --time-to-map 0.8 --max-steps 1200 --eval-every 100

Data: the sample generator's Unity Simulation layout (``--images`` at ``--width`` x ``--height``),
converted by the convert step, or an existing convert output given with ``--data``.

Throughput: the trainer is built exactly as ``components.train.trainer`` builds it (same config,
strategy and precision), one loop of ``--warmup`` steps compiles the step function, then
``--steps`` steps are timed. The same script runs unchanged on a GPU: with no ``--accelerator-type``
it uses every visible GPU (mirrored) in float32; naming the GPU picks its precision (bfloat16 on
A100/L4/H100, float16 on T4/V100).

``--time-to-map``: a full local training run (evaluating every ``--eval-every`` steps) through the
trainer; prints each evaluation's step, seconds and AP50, and the first one at or above the target.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from components.train.settings import Settings  # noqa: E402


def make_data(root: str, images: int, width: int, height: int) -> str:
    from components.convert.pipeline import convert
    from components.samples import generate

    dataset = generate(os.path.join(root, "sample"), "unity-simulation", num_images=images, width=width,
                       height=height, seed=0)
    out = os.path.join(root, "converted")
    convert(str(dataset.root), out)
    return out


def published(data: str) -> str:
    """The generation a convert output's ``manifest.json`` names (``OUT/gen-<run>``); ``data`` itself when it
    has none (an output of the earlier layout, with train/ and eval/ in it)."""
    from components.common import manifest, uris

    return manifest.generation_uri(data) if uris.is_file(uris.join(data, manifest.MANIFEST)) else data


def settings_from(args: argparse.Namespace, data: str, model_dir: str) -> Settings:
    data = published(data)
    given = {"train_batch_size": args.batch, "image_size": args.image_size, "resnet_depth": args.resnet_depth,
             "fpn_type": args.fpn_type, "accelerator_type": args.accelerator_type or None,
             "accelerator_count": args.accelerator_count or None, "max_steps": args.max_steps,
             "train_steps_per_eval": args.eval_every, "init_checkpoint": "none"}
    return Settings.create(args.preset, train_data=os.path.join(data, "train", "*.tfrecord"),
                           eval_data=os.path.join(data, "eval", "*.tfrecord"),
                           label_map=os.path.join(data, "label_map.pbtxt"), model_dir=model_dir,
                           num_eval_images=-1, **given)


def throughput(settings: Settings, warmup: int, steps: int) -> dict:
    import tensorflow as tf
    from official.common import distribute_utils
    from official.core import task_factory, train_utils
    from official.modeling import performance

    from components.train import layout as layout_lib, preflight
    from components.train.model_garden import build_params
    from components.train.trainer import detect_runtime

    runtime = detect_runtime(settings)
    layout = layout_lib.resolve(settings)
    checked = preflight.check(settings, layout, replicas=runtime.replicas)
    params = build_params(settings, runtime, checked.num_classes, None)
    if params.runtime.mixed_precision_dtype:
        performance.set_mixed_precision_policy(params.runtime.mixed_precision_dtype)
    strategy = distribute_utils.get_distribution_strategy(
        distribution_strategy=params.runtime.distribution_strategy, num_gpus=params.runtime.num_gpus,
        tpu_address=params.runtime.tpu)
    with strategy.scope():
        task = task_factory.get_task(params.task, logging_dir=layout.model_dir)
        trainer = train_utils.create_trainer(params, task, train=True, evaluate=False)
    with strategy.scope():
        start = time.monotonic()
        trainer.train(tf.constant(warmup, dtype=tf.int32))
        float(trainer.train_loss.result())
        compile_s = time.monotonic() - start
        start = time.monotonic()
        trainer.train(tf.constant(steps, dtype=tf.int32))
        float(trainer.train_loss.result())  # waits for the device
        seconds = time.monotonic() - start
    devices = [d.device_type for d in tf.config.list_logical_devices()]
    return {"device": "GPU x%d" % devices.count("GPU") if "GPU" in devices else f"CPU x{os.cpu_count()}",
            "strategy": runtime.strategy, "precision": params.runtime.mixed_precision_dtype,
            "input": list(params.task.model.input_size[:2]), "batch": settings.train_batch_size,
            "first_loop_s": round(compile_s, 1), "steps": steps, "seconds": round(seconds, 2),
            "steps_per_s": round(steps / seconds, 2),
            "images_per_s": round(steps * settings.train_batch_size / seconds, 1)}


def time_to_map(settings: Settings, target: float) -> dict:
    from components.train import layout as layout_lib
    from components.train.trainer import train

    started = time.monotonic()
    metrics = train(settings, environ={})
    total = time.monotonic() - started
    history = json.load(open(layout_lib.resolve(settings).history_file))
    reached = next((h for h in history if h.get("AP50", 0.0) >= target), None)
    return {"target_AP50": target, "history": history, "reached": reached, "final": metrics,
            "process_seconds_incl_export": round(total, 1)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="an existing convert output folder (default: generate and convert)")
    parser.add_argument("--images", type=int, default=300)
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--height", type=int, default=240)
    parser.add_argument("--preset", default="local", choices=("local", "seed"))
    parser.add_argument("--batch", type=int, default=None)
    parser.add_argument("--image-size", default=None)
    parser.add_argument("--resnet-depth", type=int, default=None)
    parser.add_argument("--fpn-type", default=None)
    parser.add_argument("--accelerator-type", default="")
    parser.add_argument("--accelerator-count", type=int, default=0)
    parser.add_argument("--warmup", type=int, default=20, help="steps in the compiling first loop")
    parser.add_argument("--steps", type=int, default=100, help="timed steps")
    parser.add_argument("--time-to-map", type=float, default=None, help="train and report when AP50 reaches this")
    parser.add_argument("--max-steps", type=int, default=None)
    parser.add_argument("--eval-every", type=int, default=None)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data or make_data(tmp, args.images, args.width, args.height)
        settings = settings_from(args, data, os.path.join(tmp, "model"))
        if args.time_to_map is not None:
            result = time_to_map(settings, args.time_to_map)
        else:
            result = throughput(settings, args.warmup, args.steps)
    result["load_average"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
