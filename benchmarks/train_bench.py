r"""Training throughput (steps/s, images/s, peak GPU memory) of the Model Garden RetinaNet trainer,
the largest batch per GPU memory class, and time to a target mAP.

    python benchmarks/train_bench.py                       # local preset on this machine's CPU (or GPU)
    python benchmarks/train_bench.py --preset seed --width 1280 --height 960 --matrix
        # on a GPU: the seed's config (ResNet-50 NAS-FPN, 960,1280 padded to 1024,1280, batch 16) and FPN,
        # each in float32 and mixed precision, one child process per row
    python benchmarks/train_bench.py --preset seed --width 1280 --height 960 --fit-batches 1,2,4
        # peak memory at small batches, and the largest batch per memory class (an extrapolation)
    python benchmarks/train_bench.py --preset seed --image-size 256,256 --batch 2 --warmup 1 --steps 2 \
        --images 8 --matrix                               # CPU smoke of the same code paths
    python benchmarks/train_bench.py --time-to-map 0.8 --max-steps 1200 --eval-every 100

Data: the sample generator's Unity Simulation layout (``--images`` at ``--width`` x ``--height``),
converted by the convert step, or an existing convert output given with ``--data``.

Throughput: the trainer is built exactly as ``components.train.trainer`` builds it (same config,
strategy and precision), one loop of ``--warmup`` steps compiles the step function, then
``--steps`` steps are timed. The same script runs unchanged on a GPU: with no ``--accelerator-type``
it uses every visible GPU (mirrored); ``--precision`` picks the dtype (``mixed`` = bfloat16 on GPUs of
compute capability 8.0 and up, A100/L4/H100, float16 below, T4/V100; ``auto`` = the trainer's rule, which
with a named ``--accelerator-type`` follows that GPU). Peak GPU memory is TensorFlow's own count
(``tf.config.experimental.get_memory_info('GPU:0')['peak']``) over the timed steps and the compiling loop;
a batch that does not fit is reported as ``"oom": true``.

``--matrix`` and ``--fit-batches`` run each configuration in a child process of this script, so that
no configuration's memory is counted in another's peak. ``--fit-batches`` fits peak = fixed + per-image x
batch by least squares over the batches measured, and extrapolates the largest batch per GPU memory class
(16 GB P100/V100/T4, 24 GB L4, 40 and 80 GB A100, 80 GB H100) at ``--usable`` of the card (CUDA context and
allocator slack take the rest). It is an extrapolation from small batches, not a run at that batch.

``--time-to-map``: a full local training run (evaluating every ``--eval-every`` steps) through the
trainer; prints each evaluation's step, seconds and AP50, and the first one at or above the target.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from components.train.settings import PRECISIONS, Settings  # noqa: E402

# GPU memory classes (GB as sold: 1e9 bytes) for the largest-batch extrapolation.
MEMORY_CLASSES = (("P100 / V100 / T4", 16), ("L4", 24), ("A100 40GB", 40), ("A100 80GB / H100", 80))


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
             "fpn_type": args.fpn_type, "precision": resolve_precision(args.precision),
             "accelerator_type": args.accelerator_type or None,
             "accelerator_count": args.accelerator_count or None, "max_steps": args.max_steps,
             "train_steps_per_eval": args.eval_every, "init_checkpoint": "none"}
    return Settings.create(args.preset, train_data=os.path.join(data, "train", "*.tfrecord"),
                           eval_data=os.path.join(data, "eval", "*.tfrecord"),
                           label_map=os.path.join(data, "label_map.pbtxt"), model_dir=model_dir,
                           num_eval_images=-1, **given)


def resolve_precision(precision: str | None) -> str | None:
    """``mixed`` -> bfloat16 on a GPU of compute capability 8.0 or more, float16 on an older one, float32
    on CPU; other values pass through (None = the preset's)."""
    if precision != "mixed":
        return precision
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return "float32"
    major = tf.config.experimental.get_device_details(gpus[0]).get("compute_capability", (0, 0))[0]
    return "bfloat16" if major >= 8 else "float16"


def peak_gpu_bytes() -> int | None:
    import tensorflow as tf

    if not tf.config.list_physical_devices("GPU"):
        return None
    return int(tf.config.experimental.get_memory_info("GPU:0")["peak"])


def gpu_name() -> str:
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    return tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU") if gpus else ""


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
    devices = [d.device_type for d in tf.config.list_logical_devices()]
    result = {"device": (f"{gpu_name()} x{devices.count('GPU')}" if "GPU" in devices else f"CPU x{os.cpu_count()}"),
              "strategy": runtime.strategy, "precision": params.runtime.mixed_precision_dtype or "float32",
              "model": f"ResNet-{settings.resnet_depth} {settings.fpn_type}",
              "input": list(params.task.model.input_size[:2]), "batch": settings.train_batch_size}
    try:
        with strategy.scope():
            start = time.monotonic()
            trainer.train(tf.constant(warmup, dtype=tf.int32))
            float(trainer.train_loss.result())
            compile_s = time.monotonic() - start
            start = time.monotonic()
            trainer.train(tf.constant(steps, dtype=tf.int32))
            float(trainer.train_loss.result())  # waits for the device
            seconds = time.monotonic() - start
    except tf.errors.ResourceExhaustedError:
        return {**result, "oom": True, "peak_gpu_gib": _gib(peak_gpu_bytes())}
    return {**result, "oom": False, "first_loop_s": round(compile_s, 1), "steps": steps, "seconds": round(seconds, 2),
            "steps_per_s": round(steps / seconds, 2),
            "images_per_s": round(steps * settings.train_batch_size / seconds, 1),
            "peak_gpu_gib": _gib(peak_gpu_bytes())}


def _gib(value: int | None) -> float | None:
    return None if value is None else round(value / 2 ** 30, 2)


def child_run(argv: list[str], data: str) -> dict:
    """This script's throughput run in a fresh process (its own GPU memory and peak count)."""
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), *argv, "--data", data, "--json-line"],
                          capture_output=True, text=True)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1][:200]}
    return json.loads(lines[-1])


def matrix(base: list[str], data: str) -> list[dict]:
    """NAS-FPN and FPN, each in float32 and mixed precision, with the other flags of ``base``."""
    rows = []
    for fpn in ("nasfpn", "fpn"):
        for precision in ("float32", "mixed"):
            row = child_run([*base, "--fpn-type", fpn, "--precision", precision], data)
            rows.append({"fpn": fpn, "asked": precision, **row})
            print(json.dumps(rows[-1]), flush=True)
    return rows


def fit_batches(base: list[str], data: str, batches: list[int], usable: float) -> dict:
    """Peak memory at each batch, the least-squares line through it, and the largest batch per memory class."""
    points = []
    for batch in batches:
        row = child_run([*base, "--batch", str(batch)], data)
        print(json.dumps(row), flush=True)
        if row.get("peak_gpu_gib") is not None and not row.get("oom"):
            points.append((batch, row["peak_gpu_gib"] * 2 ** 30 / 1e9))
    result: dict = {"measured_gb": points}
    if len(points) < 2:
        result["note"] = "needs a GPU and at least two batches that fit"
        return result
    n = len(points)
    mean_b = sum(b for b, _ in points) / n
    mean_m = sum(m for _, m in points) / n
    slope = sum((b - mean_b) * (m - mean_m) for b, m in points) / sum((b - mean_b) ** 2 for b, _ in points)
    fixed = mean_m - slope * mean_b
    result.update(fixed_gb=round(fixed, 2), per_image_gb=round(slope, 3), usable_fraction=usable,
                  note="EXTRAPOLATED from the batches measured, not run at these batches")
    result["largest_batch"] = {f"{name} ({gb} GB)": max(0, math.floor((gb * usable - fixed) / slope)) if slope > 0
                               else None for name, gb in MEMORY_CLASSES}
    return result


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
    parser.add_argument("--precision", default=None, choices=(*PRECISIONS, "mixed"),
                        help="training dtype (default: the preset's); mixed = bfloat16 or float16 by GPU")
    parser.add_argument("--matrix", action="store_true", help="NAS-FPN and FPN x float32 and mixed, one child each")
    parser.add_argument("--fit-batches", default="", help="batches to measure peak memory at, e.g. 1,2,4")
    parser.add_argument("--usable", type=float, default=0.9, help="fraction of a card's memory a batch may use")
    parser.add_argument("--json-line", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--accelerator-type", default="")
    parser.add_argument("--accelerator-count", type=int, default=0)
    parser.add_argument("--warmup", type=int, default=20, help="steps in the compiling first loop")
    parser.add_argument("--steps", type=int, default=100, help="timed steps")
    parser.add_argument("--time-to-map", type=float, default=None, help="train and report when AP50 reaches this")
    parser.add_argument("--max-steps", type=int, default=None)
    parser.add_argument("--eval-every", type=int, default=None)
    args = parser.parse_args(argv)
    argv = list(sys.argv[1:] if argv is None else argv)
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data or make_data(tmp, args.images, args.width, args.height)
        if args.matrix or args.fit_batches:
            base = _without(argv, {"--matrix": 0, "--fit-batches": 1, "--data": 1, "--usable": 1})
            if args.matrix:
                result = {"matrix": matrix(_without(base, {"--fpn-type": 1, "--precision": 1}), data)}
            else:
                batches = [int(b) for b in args.fit_batches.split(",") if b]
                result = fit_batches(_without(base, {"--batch": 1}), data, batches, args.usable)
            result["load_average"] = [round(x, 2) for x in os.getloadavg()]
            print(json.dumps(result, indent=1))
            return 0
        settings = settings_from(args, data, os.path.join(tmp, "model"))
        if args.time_to_map is not None:
            result = time_to_map(settings, args.time_to_map)
        else:
            result = throughput(settings, args.warmup, args.steps)
    result["load_average"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(result) if args.json_line else json.dumps(result, indent=1))
    return 0


def _without(argv: list[str], drop: dict[str, int]) -> list[str]:
    """``argv`` less the flags in ``drop`` (flag -> how many values follow it; ``--flag=value`` too)."""
    out, skip = [], 0
    for item in argv:
        if skip:
            skip -= 1
            continue
        name = item.split("=", 1)[0]
        if name in drop:
            skip = drop[name] if "=" not in item else 0
            continue
        out.append(item)
    return out


if __name__ == "__main__":
    sys.exit(main())
