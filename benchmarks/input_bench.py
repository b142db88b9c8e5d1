"""Images per second the trainer's input pipeline delivers per CPU core: TFRecord read, PNG decode,
Model Garden's RetinaNet parser (random horizontal flip, random scale 0.8-1.2, crop/pad to the padded
input size, anchor labels), batching, exactly as ``components.train`` configures it.

    python benchmarks/input_bench.py [--cores 1,2] [--batches 10] [--batch 16] [--image-size 960,1280]

Records: ``--distinct`` 1280x960 PNGs (about 2.8 MB, as in convert_bench.py) encoded by the convert
step's encoder, read again and again. Each ``--cores`` count runs in a child process pinned to that many
cores (``os.sched_setaffinity``), so the figure for 1 is images/s per core. Then, for the step rates
below (published training figures, scaled to this input size), the vCPUs one GPU needs to be kept fed.
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

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

# Training images/s per GPU that the input pipeline must match. Source: detectron2's model zoo
# (https://github.com/facebookresearch/detectron2/blob/main/MODEL_ZOO.md, RetinaNet R50 1x): 0.200 s/iter
# with 16 images per iteration on 8 V100 (float32; COCO images resized to a short side of 800, mostly
# 800x1067, 0.85 MP), i.e. 10 images/s per V100. Scaled by pixels to 1024x1280 (1.31 MP), and by NVIDIA's
# published ResNet-50 training throughput ratios (https://developer.nvidia.com/deep-learning-performance-
# training-inference) for the other GPUs. Estimates from published figures, not measurements.
V100_IMAGES_PER_S = 16 / 0.200 / 8 * (800 * 1067) / (1024 * 1280)
GPU_SPEED_VS_V100 = {"T4": 0.35, "P100": 0.6, "L4": 0.6, "V100": 1.0, "A100": 2.5, "H100": 4.5}


def make_records(path: str, distinct: int) -> None:
    """One TFRecord file of ``distinct`` examples written by the convert step's encoder."""
    from convert_bench import draw

    from components.convert.examples import encode
    from components.convert.frames import Box, Frame

    with open(path, "wb") as out:
        for i in range(distinct):
            data, values = draw(i)
            key = f"RGB0/rgb_{i}.png"
            boxes = tuple(Box(v["x"], v["y"], v["width"], v["height"], "box") for v in values)
            out.writelines(encode(key, Frame(key, boxes, "bench"), data, {"box": 1}).chunks)


def measure(records: str, batch: int, image_size: str, batches: int, warmup: int) -> dict:
    """Batches/s of the trainer's train input on the cores this process may use."""
    import tensorflow as tf
    from official.core import task_factory

    from components.train.model_garden import build_params, runtime_for
    from components.train.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.create("seed", train_data=records, eval_data=records, label_map=records,
                                   model_dir=tmp, train_batch_size=batch, image_size=image_size,
                                   init_checkpoint="none", precision="float32")
        params = build_params(settings, runtime_for(settings, 0), 2, None)
        params.task.train_data.is_training = True
        task = task_factory.get_task(params.task, logging_dir=tmp)
        dataset = task.build_inputs(params.task.train_data)
        it = iter(dataset)
        for _ in range(warmup):
            next(it)
        cpu0, start = os.times(), time.monotonic()
        for _ in range(batches):
            images, _ = next(it)
        seconds = time.monotonic() - start
        cpu1 = os.times()
    cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    return {"cores": len(os.sched_getaffinity(0)), "shape": list(images.shape), "dtype": images.dtype.name,
            "images_per_s": round(batches * batch / seconds, 1), "cpu_s_per_image": round(cpu / (batches * batch), 4),
            "tf_version": tf.__version__}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cores", default="1,2", help="core counts to pin each child to")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--image-size", default="960,1280", help="height,width (padded up to multiples of 128)")
    ap.add_argument("--batches", type=int, default=10, help="timed batches")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--distinct", type=int, default=20)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.batch, args.image_size, args.batches, args.warmup)))
        return 0
    available = sorted(os.sched_getaffinity(0))
    rows = []
    with tempfile.TemporaryDirectory(prefix="input-bench-") as tmp:
        records = os.path.join(tmp, "train-00000-of-00001.tfrecord")
        make_records(records, args.distinct)
        for cores in (int(c) for c in args.cores.split(",") if c):
            if cores > len(available):
                continue
            pinned = ",".join(str(c) for c in available[:cores])
            cmd = ["taskset", "-c", pinned, sys.executable, os.path.abspath(__file__), "--child", records,
                   "--batch", str(args.batch), "--image-size", args.image_size, "--batches", str(args.batches),
                   "--warmup", str(args.warmup)]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                sys.stderr.write(proc.stderr[-3000:])
                return 1
            rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            print(json.dumps(rows[-1]), flush=True)
    # Per core from CPU time: on shared cores the wall rate understates what a core of its own delivers.
    per_core = 1 / min(r["cpu_s_per_image"] for r in rows)
    observed = ", ".join(f"{r['cores']} core(s) {r['images_per_s']}/s" for r in rows)
    print(f"\ninput pipeline: {1000 / per_core:.0f} ms of CPU per image, so {per_core:.1f} images/s per core "
          f"(observed wall rates: {observed}; "
          f"load average {os.getloadavg()[0]:.1f})")
    print(f"vCPUs one GPU needs to be fed at {args.image_size} (estimated step rates: see the source in this script):")
    for gpu, ratio in GPU_SPEED_VS_V100.items():
        rate = V100_IMAGES_PER_S * ratio
        print(f"  {gpu:<5} ~{rate:5.1f} images/s -> {math.ceil(rate / per_core)} vCPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
