"""Conversion throughput and memory, printed as a table.

    python benchmarks/convert_bench.py [--images 2000] [--distinct 100] [--memory 1000,4000] [--repeats 3]

Builds a legacy Perception dataset in ONE app-param with N images of 1280x960 (PNG of about
2 MB: shapes over a noisy background). To keep set-up short, ``--distinct`` images are drawn and
the rest are hard links to them under their own names; every method reads the same files.

Methods, per core (the machine's cores are shared by all Beam modes):
  a  raw-copy floor: read every image, append its bytes to one file
  b  the seed's method: full PNG decode for the size, tf.train.Example, TFRecordWriter
  c  this project's encoder alone: header-only size, hand-framed record, one file
     (c- the same without the image's SHA-256, as with --no-image-sha256)
  d  the whole Beam pipeline on DirectRunner (default mode, and multi-processing on all cores)
Then peak memory (RSS) of the default pipeline at each --memory size.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from components.convert.options import AUTO_PROCESSES_FROM  # noqa: E402

WIDTH, HEIGHT = 1280, 960
BOX_ID = "f9f22e05-443f-4602-a422-ebe4ea9b55cb"


def draw(seed: int) -> tuple[bytes, list[dict]]:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, 3)
    noise = rng.normal(0, 24, (HEIGHT, WIDTH, 3))
    img = Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8))
    d = ImageDraw.Draw(img)
    values = []
    for _ in range(3):
        w, h = (int(v) for v in rng.integers(100, 400, 2))
        x, y = int(rng.integers(0, WIDTH - w)), int(rng.integers(0, HEIGHT - h))
        d.rectangle([x, y, x + w - 1, y + h - 1], fill=tuple(int(c) for c in rng.integers(0, 256, 3)))
        values.append({"label_id": 1, "label_name": "box", "instance_id": 1, "x": x, "y": y, "width": w, "height": h})
    buf = io.BytesIO()
    img.save(buf, "PNG", compress_level=1)
    return buf.getvalue(), values


def build(root: str, count: int, distinct: int) -> list[str]:
    """Dataset under ``root``/urn:app_params:only/instance:0/attempt:0; returns image paths."""
    base = os.path.join(root, "urn:app_params:only", "instance:0", "attempt:0")
    os.makedirs(os.path.join(base, "Dataset0"), exist_ok=True)
    os.makedirs(os.path.join(base, "RGB0"), exist_ok=True)
    with open(os.path.join(base, "Dataset0", "annotation_definitions.json"), "w") as f:
        json.dump({"version": "0.0.1", "annotation_definitions": [
            {"id": BOX_ID, "name": "bounding box", "format": "json", "spec": [{"label_id": 1, "label_name": "box"}]}]}, f)
    drawn = [draw(i) for i in range(distinct)]
    captures, paths = [], []
    for i in range(count):
        data, values = drawn[i % distinct]
        path = os.path.join(base, "RGB0", f"rgb_{i + 2}.png")
        first = os.path.join(base, "RGB0", f"rgb_{i % distinct + 2}.png")
        if i < distinct:
            with open(path, "wb") as f:
                f.write(data)
        else:
            os.link(first, path)
        paths.append(path)
        captures.append({"id": str(i), "filename": f"RGB0/rgb_{i + 2}.png", "sensor": {"modality": "camera"},
                         "annotations": [{"annotation_definition": BOX_ID, "values": values}]})
    for n in range(0, count, 150):
        with open(os.path.join(base, "Dataset0", f"captures_{n // 150:03d}.json"), "w") as f:
            json.dump({"version": "0.0.1", "captures": captures[n:n + 150]}, f)
    return paths


def raw_copy(paths: list[str], out: str) -> None:
    with open(out, "wb") as dst:
        for p in paths:
            with open(p, "rb") as f:
                dst.write(f.read())


def seed_method(paths: list[str], out: str) -> None:
    import tensorflow as tf

    with tf.io.TFRecordWriter(out) as writer:
        for p in paths:
            with open(p, "rb") as f:
                data = f.read()
            shape = tf.io.decode_png(data).shape  # the seed decoded every image to learn its size
            feature = {
                "image/encoded": tf.train.Feature(bytes_list=tf.train.BytesList(value=[data])),
                "image/height": tf.train.Feature(int64_list=tf.train.Int64List(value=[shape[0]])),
                "image/width": tf.train.Feature(int64_list=tf.train.Int64List(value=[shape[1]])),
                "image/object/bbox/xmin": tf.train.Feature(float_list=tf.train.FloatList(value=[0.1])),
            }
            writer.write(tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString())


def our_encoder(paths: list[str], out: str, root: str, sha256: bool = True) -> None:
    from components.convert.examples import encode
    from components.convert.frames import Box, Frame

    frame_boxes = (Box(1, 1, 100, 100, "box"),)
    with open(out, "wb") as dst:
        for p in paths:
            with open(p, "rb") as f:
                data = f.read()
            key = os.path.relpath(p, root)
            dst.writelines(encode(key, Frame(key, frame_boxes, "bench"), data, {"box": 1}, sha256=sha256).chunks)


def beam_run(root: str, out: str, extra: list[str]) -> dict:
    """The whole conversion in a child process; returns its stats plus wall time and peak RSS."""
    code = ("import json, resource, sys, time; t = time.monotonic();"
            "from components.convert.__main__ import main;"
            f"rc = main(['--source', {root!r}, '--output', {out!r}, '--max-bad-fraction', '0'] + {extra!r});"
            "ru = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss;"
            "print(json.dumps({'rc': rc, 'seconds': time.monotonic() - t, 'max_rss_kb': ru}))")
    os.sync()
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    wall = time.monotonic() - start
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-3000:])
        raise SystemExit(f"conversion failed: {extra}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall"] = wall
    return result


def default_mode(image_files: int) -> str:
    return f"multi_processing, {os.cpu_count()} workers" if image_files >= AUTO_PROCESSES_FROM else "in-process"


def timed(fn, *args) -> float:
    os.sync()  # start every method with no dirty pages left by the one before
    start = time.monotonic()
    fn(*args)
    return time.monotonic() - start


def best_of(repeats: int, paths: list[str], methods: dict, out_dir: str) -> dict[str, float]:
    """Each method's best time over ``repeats`` rounds, the methods taking turns (in a rotating
    order) so that page-cache and writeback swings hit them alike. ``methods``: name -> (fn, extra args);
    each is called as ``fn(paths, out, *extra)``."""
    best: dict[str, float] = {}
    names = list(methods)
    for round_ in range(repeats):
        for name in names[round_ % len(names):] + names[:round_ % len(names)]:
            fn, extra = methods[name]
            out = os.path.join(out_dir, "timed.bin")
            best[name] = min(best.get(name, float("inf")), timed(fn, paths, out, *extra))
            os.sync()
            os.remove(out)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=2000)
    ap.add_argument("--distinct", type=int, default=100)
    ap.add_argument("--memory", default="1000,4000", help="image counts for the peak-memory check ('' = skip)")
    ap.add_argument("--skip-seed", action="store_true", help="skip method b (slow)")
    ap.add_argument("--repeats", type=int, default=3, help="rounds of a and c; the best time of each counts")
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="convert-bench-") as tmp:
        root = os.path.join(tmp, "run")
        t0 = time.monotonic()
        paths = build(root, args.images, min(args.distinct, args.images))
        mb = sum(os.path.getsize(p) for p in paths) / 1e6
        print(f"dataset: {len(paths)} images, {mb / len(paths):.2f} MB each, {mb:.0f} MB in all "
              f"(built in {time.monotonic() - t0:.0f} s); {cores} cores")
        rows = []
        raw_copy(paths[: min(200, len(paths))], os.path.join(tmp, "warm"))  # warm the page cache
        best = best_of(args.repeats, paths, {"a": (raw_copy, ()), "c": (our_encoder, (root,)),
                                             "c-": (our_encoder, (root, False))}, tmp)
        rows.append(("a raw-copy floor", best["a"], 1))
        if not args.skip_seed:
            sample = paths[: min(300, len(paths))]
            t = timed(seed_method, sample, os.path.join(tmp, "b.tfrecord")) * len(paths) / len(sample)
            rows.append((f"b seed method (timed on {len(sample)}, scaled)", t, 1))
        rows.append(("c our encoder", best["c"], 1))
        rows.append(("c- our encoder, --no-image-sha256", best["c-"], 1))
        default = beam_run(root, os.path.join(tmp, "out-d1"), [])
        rows.append((f"d Beam, default (auto: {default_mode(len(paths))})", default["wall"],
                     cores if len(paths) >= AUTO_PROCESSES_FROM else 1))
        for mode in ("multi_threading", "multi_processing"):
            r = beam_run(root, os.path.join(tmp, f"out-{mode}"), ["--direct-num-workers", "0",
                                                                  "--direct-running-mode", mode])
            rows.append((f"d Beam, {mode}, {cores} workers", r["wall"], cores))
        floor = rows[0][1]
        print(f"\n{'method':<44} {'seconds':>8} {'images/s':>9} {'MB/s':>7} {'img/s/core':>10} {'vs a':>6}")
        for name, seconds, used in rows:
            print(f"{name:<44} {seconds:8.2f} {len(paths) / seconds:9.1f} {mb / seconds:7.1f} "
                  f"{len(paths) / seconds / used:10.1f} {floor / seconds:6.2f}")
        by = {r[0][:2]: r[1] for r in rows}
        print(f"\nc time / a time = {by['c '] / floor:.2f} (goal <= 1.3); without the image hash "
              f"{best['c-'] / floor:.2f}")
        if not args.skip_seed:
            print(f"b time / c time = {by['b '] / by['c ']:.1f} (goal >= 8); b time / a time = {by['b '] / floor:.1f}")
        print(f"d default throughput / a = {floor / default['wall']:.2f} (goal >= 0.60, start-up included)")
        sizes = [int(s) for s in args.memory.split(",") if s]
        if sizes:
            print("\npeak memory of the default pipeline (RSS, parent + children):")
        for n in sizes:
            mem_root = os.path.join(tmp, f"mem{n}")
            build(mem_root, n, min(args.distinct, n))
            r = beam_run(mem_root, os.path.join(tmp, f"out-mem{n}"), [])
            print(f"  {n:>6} images: {r['max_rss_kb'] / 1024:7.0f} MiB, {r['wall']:.1f} s")


if __name__ == "__main__":
    main()
