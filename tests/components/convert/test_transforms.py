"""Transforms: the combiners as plain functions, the composites in test pipelines on real small inputs."""
import json
import os

import pytest
from apache_beam import Create, Map
from apache_beam.runners.portability.fn_api_runner import fn_runner
from apache_beam.testing import test_pipeline as beam_testing
from apache_beam.testing.util import assert_that, equal_to

from components.convert.frames import Box, Frame
from components.convert.plan import make_plan
from components.convert.split import split_key, split_of
from components.convert.transforms import DedupeFrames, EncodeExamples, ErrorsFn, ReadFrames, stage_units
from tests.components.convert.builders import legacy_dataset
from tests.components.convert.helpers import png_bytes


def pipeline() -> beam_testing.TestPipeline:
    """A test pipeline on FnApiRunner (the DirectRunner's Prism would download a binary)."""
    return beam_testing.TestPipeline(runner=fn_runner.FnApiRunner())


def err(reason: str, file: str) -> dict:
    return {"file": file, "stage": "encode", "reason": reason, "detail": ""}


def test_errors_fn_keeps_exact_counts_and_the_first_files_per_reason_across_merges():
    fn = ErrorsFn(per_reason=3)
    parts = []
    for worker in range(4):
        acc = fn.create_accumulator()
        for i in range(worker, 40, 4):
            acc = fn.add_input(acc, err("bad_image", f"img_{i:03d}.png"))
        acc = fn.add_input(acc, err("bad_json", f"captures_{worker}.json"))
        parts.append(acc)
    out = fn.extract_output(fn.merge_accumulators(parts))
    assert out["counts"] == {"bad_image": 40, "bad_json": 4}
    assert [e["file"] for e in out["listed"]] == [
        "img_000.png", "img_001.png", "img_002.png", "captures_0.json", "captures_1.json", "captures_2.json"]


def test_read_frames_yields_frames_errors_and_lost_files(tmp_path):
    src = str(tmp_path / "ds")
    good = legacy_dataset(src, 6, no_box=(1,), bad_json=True)
    plan = make_plan(src)
    chunks = stage_units(plan.units, str(tmp_path / "tmp"))
    with pipeline() as p:
        read = p | ReadFrames(plan, chunks)
        assert_that(read.frames | "Keys" >> Map(lambda kv: kv[0]), equal_to(good), label="Frames")
        assert_that(read.errors | "Reasons" >> Map(lambda e: (e["file"], e["reason"])),
                    equal_to([("RGB0/rgb_4.png", "no_box_annotation"), ("Dataset0/captures_002.json", "bad_json")]),
                    label="Errors")
        assert_that(read.lost, equal_to([{"file": "Dataset0/captures_002.json", "reason": "bad_json",
                                          "images": None}]), label="Lost")


def test_read_frames_counts_sensors_left_out_apart_from_errors(tmp_path):
    src = str(tmp_path / "ds")
    legacy_dataset(src, 4)
    path = os.path.join(src, "Dataset0", "captures_000.json")
    doc = json.load(open(path))
    for capture in doc["captures"]:
        capture["sensor"] = {"sensor_id": "cam", "modality": "camera"}
    lidar = {"id": "l", "filename": "Lidar/scan_1.pcd", "sensor": {"sensor_id": "lidar", "modality": "lidar"}}
    doc["captures"].append(lidar)
    json.dump(doc, open(path, "w"))
    plan = make_plan(src)
    with pipeline() as p:
        read = p | ReadFrames(plan, stage_units(plan.units, str(tmp_path / "tmp")))
        assert_that(read.sensors, equal_to([("lidar", "sensor_without_boxes")]), label="Sensors")
        assert_that(read.errors, equal_to([]), label="NoErrors")


def frame(path: str, source: str, boxes: int = 1, group: str | None = None) -> Frame:
    return Frame(path, tuple(Box(1, 2, 10, 12, "cube") for _ in range(boxes)), source, group=group)


def test_dedupe_keeps_the_entry_of_the_first_file_by_path():
    a, b = frame("x.png", "b/captures_000.json"), frame("x.png", "a/captures_001.json", boxes=2)
    with pipeline() as p:
        frames, errors = (p | Create([("x.png", a), ("y.png", frame("y.png", "a.json")), ("x.png", b)])
                          | DedupeFrames())
        assert_that(frames, equal_to([("x.png", b), ("y.png", frame("y.png", "a.json"))]), label="Kept")
        assert_that(errors, equal_to([{"file": "x.png", "stage": "dedupe", "reason": "duplicate_image",
                                       "detail": "listed again in b/captures_000.json; kept the entry from "
                                                 "a/captures_001.json"}]), label="Duplicates")


@pytest.fixture
def images(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for i in range(16):
        (src / f"img_{i}.png").write_bytes(png_bytes(40 + i, 30))
    return str(src)


def test_encode_examples_writes_records_and_names_missing_images(images, tmp_path):
    frames = [(f"img_{i}.png", frame(f"img_{i}.png", "a.json")) for i in range(3)]
    frames.append(("gone.png", frame("gone.png", "a.json")))
    with pipeline() as p:
        written, shards, errors = p | Create(frames) | EncodeExamples(images, str(tmp_path / "tmp"), {1: "cube"}, 0.0)
        assert_that(written | "Rows" >> Map(lambda w: (w.key, w.split, w.width, len(w.objects))),
                    equal_to([(f"img_{i}.png", "train", 40 + i, 1) for i in range(3)]), label="Written")
        assert_that(shards | "Records" >> Map(lambda s: (s.split, s.records)), equal_to([("train", 3)]),
                    label="Shards")
        assert_that(errors | "Reasons" >> Map(lambda e: (e["file"], e["reason"])),
                    equal_to([("gone.png", "missing_image")]), label="Errors")


def test_encode_examples_keeps_a_group_in_one_split(images, tmp_path):
    keys = [f"img_{i}.png" for i in range(16)]
    assert {split_of(k, 50) for k in keys} == {"train", "eval"}  # by key they would straddle the split
    want = split_of(split_key("", "sequence.7"), 50)
    frames = [(k, frame(k, "a.json", group="sequence.7")) for k in keys]
    with pipeline() as p:
        written, _, _ = p | Create(frames) | EncodeExamples(images, str(tmp_path / "tmp"), {1: "cube"}, 50.0)
        assert_that(written | Map(lambda w: (w.key, w.split)), equal_to([(k, want) for k in keys]))
