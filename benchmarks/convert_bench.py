"""Conversion cost per image, near the copy floor; Beam's fixed start-up on its own; peak memory;
the DirectRunner modes at several sizes; and what a million images would cost on Dataflow.

    python benchmarks/convert_bench.py [--images 2000] [--out both|shm|disk] [--repeats 3]
        [--memory 1000,4000] [--modes-at 200,1000,2000] [--skip-seed]

Builds a legacy Perception dataset in ONE app-param with N images of 1280x960 (PNG of about
2.8 MB: shapes over a noisy background). To keep set-up short, ``--distinct`` images are drawn and
the rest are hard links to them under their own names; every method reads the same files (from the
page cache). Outputs go to a tmpfs (/dev/shm) and/or the disk (``--out``): on disk, page-cache
writeback moves the copy floor by up to five times from run to run, so tmpfs is the steady figure.

Methods (wall and CPU per image; CPU = user + sys, children included):
  a  raw-copy floor: read every image, append its bytes to one file
  b  the seed's method: full PNG decode for the size, tf.train.Example, TFRecordWriter
  c  this project's encoder alone: header-only size, hand-framed record, one file (the default,
     no image/key/sha256); c+ the same with --image-sha256
  d  the whole Beam pipeline on DirectRunner in a child process: the default (auto) mode, then each
     local mode. Its fixed start-up (interpreter, Beam import, plan, pipeline start and finalize) is
     the run of ``--startup-images`` images; per image = (run(N) - run(n)) / (N - n). Each run
     follows a raw copy in a child process, and its ratios are to that copy: the kernel's cost of
     filling a tmpfs or the page cache swings two- to threefold from minute to minute here.
Then the peak RSS of the default pipeline (parent, and the largest child) at each ``--memory`` size,
Pillow's lazy header read against components.convert.images.image_info, the DirectRunner modes at
each ``--modes-at`` size, and the Dataflow cost per million images from the measured CPU time.
"""
from __future__ import annotations

import argparse
import io
import json
import math
import os
import pickle
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
from PIL import Image, ImageDraw

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
from components.convert.options import Settings, beam_args  # noqa: E402
from components.convert.plan import make_plan  # noqa: E402

# Dataflow batch list prices, us-central1, from https://cloud.google.com/dataflow/pricing
# ("Dataflow compute resources", batch workers; Persistent Disk; Dataflow Shuffle data processed).
# Check the page before relying on them: prices change, and discounts (CUD, FlexRS) are left out.
PRICE_VCPU_HOUR = 0.056        # USD per vCPU-hour, batch worker
PRICE_MEMORY_GB_HOUR = 0.003557  # USD per GB-hour of worker memory, batch
PRICE_PD_GB_HOUR = 0.000054    # USD per GB-hour of standard Persistent Disk
PRICE_SHUFFLE_GB = 0.011       # USD per GB of Dataflow Shuffle data processed (batch)
# Cloud Storage (https://cloud.google.com/storage/pricing): reading each image is one class B operation.
PRICE_GCS_CLASS_B_PER_10K = 0.004
# The worker the pipeline asks for (pipeline.py dataflow_machine_type) and what it carries.
DATAFLOW_MACHINE = "n1-standard-4"
MACHINE_VCPUS, MACHINE_MEMORY_GB = 4, 15.0
WORKER_DISK_GB = 25  # Dataflow's default boot disk per batch worker when the Shuffle service is used

WIDTH, HEIGHT = 1280, 960
BOX_ID = "f9f22e05-443f-4602-a422-ebe4ea9b55cb"
MODES = ("in_memory", "multi_threading", "multi_processing")


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


def build(root: str, count: int, distinct: int, drawn: list[tuple[bytes, list[dict]]] | None = None) -> list[str]:
    """Dataset under ``root``/urn:app_params:only/instance:0/attempt:0; returns image paths."""
    base = os.path.join(root, "urn:app_params:only", "instance:0", "attempt:0")
    os.makedirs(os.path.join(base, "Dataset0"), exist_ok=True)
    os.makedirs(os.path.join(base, "RGB0"), exist_ok=True)
    with open(os.path.join(base, "Dataset0", "annotation_definitions.json"), "w") as f:
        json.dump({"version": "0.0.1", "annotation_definitions": [
            {"id": BOX_ID, "name": "bounding box", "format": "json", "spec": [{"label_id": 1, "label_name": "box"}]}]}, f)
    drawn = drawn or [draw(i) for i in range(distinct)]
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


def our_encoder(paths: list[str], out: str, root: str, sha256: bool = False) -> None:
    from components.convert.examples import encode
    from components.convert.frames import Box, Frame

    frame_boxes = (Box(1, 1, 100, 100, "box"),)
    with open(out, "wb") as dst:
        for p in paths:
            with open(p, "rb") as f:
                data = f.read()
            key = os.path.relpath(p, root)
            dst.writelines(encode(key, Frame(key, frame_boxes, "bench"), data, {"box": 1}, sha256=sha256).chunks)


@dataclass
class Cost:
    """Wall and CPU seconds of one run."""

    wall: float
    cpu: float

    def per(self, n: int) -> "Cost":
        return Cost(self.wall / n, self.cpu / n)


def _cpu_now() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def timed(fn: Callable, *args) -> Cost:
    os.sync()  # start every method with no dirty pages left by the one before
    cpu, start = _cpu_now(), time.monotonic()
    fn(*args)
    return Cost(time.monotonic() - start, _cpu_now() - cpu)


def best_of(repeats: int, paths: list[str], methods: dict, out_dir: str) -> dict[str, Cost]:
    """Each method's best wall (and best CPU) over ``repeats`` rounds, the methods taking turns in a
    rotating order so that page-cache and writeback swings hit them alike. ``methods``:
    name -> (fn, extra args); each is called as ``fn(paths, out, *extra)``."""
    best: dict[str, Cost] = {}
    names = list(methods)
    for round_ in range(repeats):
        for name in names[round_ % len(names):] + names[:round_ % len(names)]:
            fn, extra = methods[name]
            out = os.path.join(out_dir, "timed.bin")
            c = timed(fn, paths, out, *extra)
            old = best.get(name, Cost(math.inf, math.inf))
            best[name] = Cost(min(old.wall, c.wall), min(old.cpu, c.cpu))
            os.remove(out)
            os.sync()
    return best


_CHILD = """
import json, resource, sys, time
t = time.monotonic()
from components.convert.__main__ import main
imported = time.monotonic() - t
rc = main(sys.argv[1:])
print(json.dumps({"rc": rc, "import_s": imported,
                  "parent_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "child_rss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""

_EMPTY = """
import json, sys, time
t = time.monotonic()
import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.runners.portability.fn_api_runner import fn_runner
import components.convert.pipeline
imported = time.monotonic() - t
t = time.monotonic()
p = beam.Pipeline(runner=fn_runner.FnApiRunner(), options=PipelineOptions(sys.argv[1:]))
_ = p | beam.Create([None]) | beam.Map(lambda x: x)
p.run().wait_until_finish()
print(json.dumps({"import_s": imported, "pipeline_s": time.monotonic() - t}))
"""


_COPY = """
import json, sys
paths = open(sys.argv[1]).read().split("\\n")
with open(sys.argv[2], "wb") as dst:
    for p in paths:
        with open(p, "rb") as f:
            dst.write(f.read())
print(json.dumps({"images": len(paths)}))
"""


def mode_flags(mode: str) -> list[str]:
    """Convert-CLI flags for a DirectRunner mode ("auto" = the default)."""
    if mode == "auto":
        return []
    return ["--direct-running-mode", mode, "--direct-num-workers", "1" if mode == "in_memory" else "0"]


def child(code: str, argv: list[str]) -> tuple[dict, Cost]:
    """Run ``code`` in a fresh interpreter; its last stdout line (JSON) and its wall/CPU, children included."""
    os.sync()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, cwd=REPO)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-3000:])
        raise SystemExit(f"child failed: {argv}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return json.loads(proc.stdout.strip().splitlines()[-1]), Cost(wall, cpu)


def convert(root: str, out: str, mode: str) -> tuple[dict, Cost]:
    """The whole conversion of ``root`` into ``out`` (removed afterwards)."""
    try:
        return child(_CHILD, ["--source", root, "--output", out, "--max-bad-fraction", "0", *mode_flags(mode)])
    finally:
        shutil.rmtree(out, ignore_errors=True)


def auto_mode(root: str) -> str:
    """The mode the converter picks on this machine for the dataset under ``root`` (by its plan's image bytes)."""
    args = beam_args(Settings(source=root), image_bytes=make_plan(root).image_bytes)
    return next(a.split("=", 1)[1] for a in args if a.startswith("--direct_running_mode="))


def header_costs(drawn: list[tuple[bytes, list[dict]]], rounds: int = 5) -> dict[str, tuple[float, float, float]]:
    """ms per image of Pillow's lazy open (size + EXIF orientation; size alone) and of image_info,
    on the PNGs and on JPEGs made from them (EXIF orientation 6). For a PNG, ``getexif`` loads the
    whole image (an eXIf chunk may follow the pixel data)."""
    from components.convert.images import image_info

    pngs = [d for d, _ in drawn]
    jpegs = []
    for d in pngs[:20]:
        buf = io.BytesIO()
        exif = Image.Exif()
        exif[0x0112] = 6
        Image.open(io.BytesIO(d)).save(buf, "JPEG", quality=90, exif=exif.tobytes())
        jpegs.append(buf.getvalue())

    def pillow(data: bytes) -> tuple[int, int, int]:
        with Image.open(io.BytesIO(data)) as im:
            return im.size[0], im.size[1], im.getexif().get(0x0112, 1)

    def pillow_size(data: bytes) -> tuple[int, int, int]:
        with Image.open(io.BytesIO(data)) as im:
            return im.size[0], im.size[1], 1

    def ours(data: bytes) -> tuple[int, int, int]:
        info = image_info(data)
        return info.width, info.height, info.orientation

    result = {}
    for kind, items in (("png", pngs), ("jpeg", jpegs)):
        assert [pillow(d) for d in items] == [ours(d) for d in items]
        per = {}
        for name, fn in (("pillow", pillow), ("pillow_size", pillow_size), ("ours", ours)):
            best = math.inf
            for _ in range(rounds):
                start = time.perf_counter()
                for d in items:
                    fn(d)
                best = min(best, (time.perf_counter() - start) / len(items))
            per[name] = best * 1000
        result[kind] = (per["pillow"], per["pillow_size"], per["ours"])
    return result


def frame_shuffle_bytes() -> int:
    """Bytes one frame takes through the pipeline's reshuffle (pickled; image bytes never go through it)."""
    from components.convert.frames import Box, Frame

    key = "urn:app_params:only/instance:0/attempt:0/RGB0/rgb_12345.png"
    return len(pickle.dumps(Frame(key, tuple(Box(1, 1, 100, 100, "box") for _ in range(3)), "only")))


def dataflow_cost(name: str, cpu_per_image: float, shuffle_bytes: float) -> str:
    """One row of the cost table: vCPU-hours and list price per million images."""
    vcpu_h = cpu_per_image * 1e6 / 3600
    compute = vcpu_h * (PRICE_VCPU_HOUR + MACHINE_MEMORY_GB / MACHINE_VCPUS * PRICE_MEMORY_GB_HOUR
                        + WORKER_DISK_GB / MACHINE_VCPUS * PRICE_PD_GB_HOUR)
    shuffle = shuffle_bytes * 1e6 / 1e9 * PRICE_SHUFFLE_GB
    reads = 1e6 / 1e4 * PRICE_GCS_CLASS_B_PER_10K
    return (f"  {name:<52} {cpu_per_image * 1000:7.1f} ms {vcpu_h:8.1f} {compute:9.2f} {shuffle:8.2f} "
            f"{reads:6.2f} {compute + shuffle + reads:8.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=2000)
    ap.add_argument("--distinct", type=int, default=100)
    ap.add_argument("--out", choices=("both", "shm", "disk"), default="both",
                    help="where outputs are written: tmpfs (/dev/shm), the disk (the temp folder), or both")
    ap.add_argument("--repeats", type=int, default=3, help="rounds of a and c; the best of each counts")
    ap.add_argument("--seed-sample", type=int, default=300, help="images method b is timed on (it is slow)")
    ap.add_argument("--skip-seed", action="store_true", help="skip method b")
    ap.add_argument("--beam-repeats", type=int, default=3, help="runs of each Beam mode, each next to a raw copy "
                    "(the medians count), and of its start-up run (the best counts)")
    ap.add_argument("--modes-only", action="store_true", help="only the --modes-at table")
    ap.add_argument("--startup-images", type=int, default=20, help="size of the start-up run of each Beam mode")
    ap.add_argument("--memory", default="1000,4000", help="image counts for the peak-memory check ('' = skip)")
    ap.add_argument("--modes-at", default="", help="image counts at which to time every DirectRunner mode "
                    "(e.g. 200,1000,2000; '' = skip)")
    args = ap.parse_args()
    cores = len(os.sched_getaffinity(0))
    targets = {"shm": "/dev/shm", "disk": tempfile.gettempdir()}
    chosen = list(targets) if args.out == "both" else [args.out]
    with tempfile.TemporaryDirectory(prefix="convert-bench-") as tmp:
        t0 = time.monotonic()
        drawn = [draw(i) for i in range(min(args.distinct, args.images))]
        root = os.path.join(tmp, "run")
        paths = build(root, args.images, len(drawn), drawn)
        small = os.path.join(tmp, "small")
        build(small, args.startup_images, min(len(drawn), args.startup_images), drawn)
        n, mb = len(paths), sum(os.path.getsize(p) for p in paths) / 1e6
        print(f"dataset: {n} images of {WIDTH}x{HEIGHT} PNG, {mb / n:.2f} MB each, {mb:.0f} MB in all "
              f"(built in {time.monotonic() - t0:.0f} s, read from the page cache); {cores} cores, "
              f"load average {os.getloadavg()[0]:.1f}")
        raw_copy(paths[:len(drawn)], os.path.join(tmp, "warm"))

        empty, empty_cost = child(_EMPTY, ["--runner=DirectRunner", "--direct_num_workers=1",
                                           "--direct_running_mode=in_memory"])
        print(f"\nstart-up, zero work: {empty_cost.wall:.2f} s for a fresh interpreter to import Beam and the "
              f"converter ({empty['import_s']:.2f} s) and run a one-element in-process pipeline "
              f"({empty['pipeline_s']:.2f} s); goal <= 3 s")
        if "shm" in chosen:
            _, floor0 = child("print(\"{}\")", [])
            print(f"  (a bare interpreter: {floor0.wall:.2f} s)")

        figures: dict[str, dict[str, Cost]] = {}
        for target in [] if args.modes_only else chosen:
            out_dir = tempfile.mkdtemp(prefix="convert-bench-out-", dir=targets[target])
            try:
                figures[target] = run_table(args, target, out_dir, root, small, paths, cores)
            finally:
                shutil.rmtree(out_dir, ignore_errors=True)

        sizes = [int(s) for s in args.memory.split(",") if s and not args.modes_only]
        if sizes:
            print("\npeak RSS of the default pipeline (outputs on disk: 4,000 images would fill most of a tmpfs):")
        mem_out = targets["disk"]
        for size in sizes:
            mem_root = os.path.join(tmp, f"mem{size}")
            build(mem_root, size, len(drawn), drawn)
            r, c = convert(mem_root, tempfile.mkdtemp(prefix="convert-bench-mem-", dir=mem_out), "auto")
            print(f"  {size:>6} images ({auto_mode(mem_root)}): parent {r['parent_rss_kb'] / 1024:6.0f} MiB, "
                  f"largest child {r['child_rss_kb'] / 1024:6.0f} MiB; {c.wall:.1f} s wall, {c.cpu:.1f} s CPU")
            shutil.rmtree(mem_root)

        at = [int(s) for s in args.modes_at.split(",") if s]
        if at:
            modes_table(at, tmp, drawn, targets["shm" if "shm" in chosen else "disk"], cores)
        if not figures:
            return
        headers = header_costs(drawn)
        encode_ms = min(f["c"].wall for f in figures.values()) * 1000 if figures else float("nan")
        print(f"\nheader read per image (best of 5 rounds), against our encode time of {encode_ms:.2f} ms/image (c):")
        for kind, (pil, size_only, ours) in headers.items():
            print(f"  {kind:<4} Pillow Image.open + size + getexif: {pil:.3f} ms ({pil / encode_ms:.1%} of encode); "
                  f"size alone {size_only:.3f} ms ({size_only / encode_ms:.1%}); "
                  f"image_info: {ours:.3f} ms ({ours / encode_ms:.1%})")
        worst = max(p for p, _, _ in headers.values())
        verdict = ("Pillow costs more than 5 % of the encode time: keep image_info" if worst > 0.05 * encode_ms
                   else "Pillow costs at most 5 % of the encode time: it could replace image_info")
        print(f"  verdict: {verdict}")

        f = figures.get("shm") or next(iter(figures.values()))
        ours_cpu = f["d in_memory"].cpu
        seed_cpu = f["b"].cpu if "b" in f else float("nan")
        shuffled = frame_shuffle_bytes()
        print(f"\nDataflow cost per million {WIDTH}x{HEIGHT} PNGs ({mb / n:.1f} MB each), list prices, us-central1:")
        print(f"  assumptions: {DATAFLOW_MACHINE} batch workers ({MACHINE_VCPUS} vCPU, {MACHINE_MEMORY_GB:g} GB, "
              f"{WORKER_DISK_GB} GB standard PD with the Shuffle service), kept busy, so billed vCPU time = the "
              f"CPU time per image measured here (one of these cores = one vCPU); ${PRICE_VCPU_HOUR}/vCPU-h, "
              f"${PRICE_MEMORY_GB_HOUR}/GB-h memory, ${PRICE_PD_GB_HOUR}/GB-h PD, ${PRICE_SHUFFLE_GB}/GB "
              f"Shuffle; reading from GCS instead of local files, job start-up (~3-4 min of workers) and "
              f"storing the output ({mb / n * 1e6 / 1e6:.1f} TB) are left out; in-region GCS traffic is free")
        print(f"  {'':<52} {'CPU/img':>10} {'vCPU-h':>8} {'workers$':>9} {'shuffle$':>8} {'GCS$':>6} {'total$':>8}")
        print(dataflow_cost("our converter (Beam, in-process, start-up excluded)", ours_cpu, shuffled))
        print(dataflow_cost("the seed's method (decode + Example + writer)", seed_cpu, shuffled))
        print(dataflow_cost("the seed's method, records through a shuffle", seed_cpu, shuffled + mb / n * 1e6))
        print(f"  (a frame through the reshuffle: {shuffled} bytes; image bytes never are)")


def run_table(args: argparse.Namespace, target: str, out_dir: str, root: str, small: str, paths: list[str],
              cores: int) -> dict[str, Cost]:
    """Every method's cost per image with outputs under ``out_dir``; prints the table and its ratios."""
    n = len(paths)
    best = best_of(args.repeats, paths, {"a": (raw_copy, ()), "c": (our_encoder, (root,)),
                                         "c+": (our_encoder, (root, True))}, out_dir)
    per = {k: v.per(n) for k, v in best.items()}
    if not args.skip_seed:
        import tensorflow  # noqa: F401  (imported before timing: the seed's job had it loaded)

        sample = paths[:min(args.seed_sample, n)]
        per["b"] = timed(seed_method, sample, os.path.join(out_dir, "b.tfrecord")).per(len(sample))
        os.remove(os.path.join(out_dir, "b.tfrecord"))
    # Each Beam run is paired with a raw copy in a child process just before it: writes into a tmpfs or
    # the page cache cost the kernel two to three times more in one minute than in the next, so a ratio
    # is only fair between neighbours. Per mode: the median over the pairs.
    listing = os.path.join(out_dir, "..", f"paths-{os.getpid()}.txt")
    with open(listing, "w") as f:
        f.write("\n".join(paths))
    bare = child("print('{}')", [])[1]
    startups: dict[str, Cost] = {}
    paired: dict[str, list[tuple[Cost, Cost]]] = {}
    k = args.startup_images
    for mode in ("auto", *MODES):
        sc = Cost(math.inf, math.inf)
        for _ in range(args.beam_repeats):
            s = convert(small, os.path.join(out_dir, "small-out"), mode)[1]
            sc = Cost(min(sc.wall, s.wall), min(sc.cpu, s.cpu))
        startups[mode] = sc
        for _ in range(args.beam_repeats):
            copy_out = os.path.join(out_dir, "copy.bin")
            copied = child(_COPY, [listing, copy_out])[1]
            os.remove(copy_out)
            r = convert(root, os.path.join(out_dir, "out"), mode)[1]
            paired.setdefault(mode, []).append((Cost((copied.wall - bare.wall) / n, (copied.cpu - bare.cpu) / n),
                                                Cost((r.wall - sc.wall) / (n - k), (r.cpu - sc.cpu) / (n - k))))
    os.remove(listing)
    ratios: dict[str, Cost] = {}
    for mode, pairs in paired.items():
        per[f"d {mode}"] = Cost(statistics.median(b.wall for _, b in pairs), statistics.median(b.cpu for _, b in pairs))
        per[f"a next to {mode}"] = Cost(statistics.median(a.wall for a, _ in pairs),
                                        statistics.median(a.cpu for a, _ in pairs))
        ratios[mode] = Cost(statistics.median(b.wall / a.wall for a, b in pairs),
                            statistics.median(b.cpu / a.cpu for a, b in pairs))
    rows = [("a raw-copy floor", "a"),
            (f"b seed method (timed on {min(args.seed_sample, n)})", "b"),
            ("c our encoder (default: no image hash)", "c"),
            ("c+ our encoder with --image-sha256", "c+")]
    floor = per["a"]
    where = "tmpfs /dev/shm" if target == "shm" else f"disk ({out_dir.rsplit('/', 1)[0]})"
    print(f"\noutputs on {where}; per image, start-up excluded; a, b, c, c+ in this process, best of "
          f"{args.repeats} rounds taking turns:")
    print(f"  {'method':<46} {'wall ms':>8} {'CPU ms':>7} {'img/s':>7} {'wall/a':>7} {'CPU/a':>6}")
    for name, key in rows:
        if key in per:
            p = per[key]
            print(f"  {name:<46} {p.wall * 1000:8.2f} {p.cpu * 1000:7.2f} {1 / p.wall:7.0f} "
                  f"{p.wall / floor.wall:7.2f} {p.cpu / floor.cpu:6.2f}")
    print(f"Beam on DirectRunner, each run next to a raw copy in a child process (medians of {args.beam_repeats} "
          "pairs; wall/a and CPU/a against the copy next to it):")
    print(f"  {'mode':<46} {'wall ms':>8} {'CPU ms':>7} {'img/s':>7} {'wall/a':>7} {'CPU/a':>6} {'a wall/CPU ms':>14}")
    names = {"auto": f"d default (auto: {auto_mode(root)})",
             **{m: f"d {m}, {1 if m == 'in_memory' else cores} worker(s)" for m in MODES}}
    for mode, name in names.items():
        p, a, r = per[f"d {mode}"], per[f"a next to {mode}"], ratios[mode]
        print(f"  {name:<46} {p.wall * 1000:8.2f} {p.cpu * 1000:7.2f} {1 / p.wall:7.0f} {r.wall:7.2f} {r.cpu:6.2f} "
              f"{a.wall * 1000:7.2f}/{a.cpu * 1000:.2f}")
    print("  Beam start-up (the run of %d images, best of %d): %s" % (k, args.beam_repeats, ", ".join(
        f"{m} {c.wall:.1f} s wall / {c.cpu:.1f} s CPU" for m, c in startups.items())))
    d = ratios["auto"]
    print(f"  ratios at {n} images: Beam default wall/a {d.wall:.2f} (goal <= 1.5), CPU/a {d.cpu:.2f} (goal <= 2); "
          f"encoder c wall/a {per['c'].wall / floor.wall:.2f}, CPU/a {per['c'].cpu / floor.cpu:.2f}"
          + (f"; b/c wall {per['b'].wall / per['c'].wall:.0f}x" if "b" in per else ""))
    return per


def modes_table(sizes: list[int], tmp: str, drawn: list, out_root: str, cores: int) -> None:
    """Whole-run wall and CPU of every DirectRunner mode at each size (start-up included: what a user waits)."""
    print(f"\nDirectRunner modes, whole run (start-up included), outputs under {out_root}, {cores} cores:")
    print(f"  {'images':>6} " + " ".join(f"{m:>24}" for m in MODES) + "   auto picks")
    for size in sizes:
        mode_root = os.path.join(tmp, f"modes{size}")
        build(mode_root, size, min(len(drawn), size), drawn)
        cells = []
        for mode in MODES:
            _, c = convert(mode_root, tempfile.mkdtemp(prefix="convert-bench-modes-", dir=out_root), mode)
            cells.append(f"{c.wall:6.1f} s, {c.cpu:6.1f} s CPU")
        print(f"  {size:>6} " + " ".join(f"{c:>24}" for c in cells) + f"   {auto_mode(mode_root)}")
        shutil.rmtree(mode_root)


if __name__ == "__main__":
    main()
