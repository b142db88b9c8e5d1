import base64
import json
import xml.etree.ElementTree as ET

import pytest
import tensorflow as tf

from components.evaluate.records import read_examples
from components.preview.charts import MIME
from components.preview.preview import preview_examples, write_preview
from components.preview.summary import split_of, summarize
from tests.components.evaluate import builders
from tests.components.evaluate.builders import Shape
from tests.components.evaluate.pagecheck import Page

SVG = "{http://www.w3.org/2000/svg}"


def charts(page: Page) -> list[ET.Element]:
    """The SVG charts embedded in a page, parsed."""
    prefix = f"data:{MIME};base64,"
    return [ET.fromstring(base64.b64decode(src[len(prefix):])) for src in page.images if src.startswith(prefix)]


def bar_titles(chart: ET.Element) -> list[str]:
    return [bar.find(f"{SVG}title").text for bar in chart.iter(f"{SVG}rect") if bar.get("class") == "bar"]


STATS = {"images_read": 9, "examples": {"train": 4, "eval": 2}, "objects": {"train": 5, "eval": 3},
         "objects_per_class": {"rectangle": 4, "ellipse": 3, "triangle": 1},
         "skipped": {"missing_image": 2, "no_box_annotation": 1},
         "skipped_examples": {"missing_image": ["RGB0/rgb_9.png", "RGB0/rgb_10.png"],
                              "no_box_annotation": ["RGB0/rgb_4.png"]},
         "labels": {"1": "rectangle", "2": "ellipse", "3": "triangle"}, "num_classes": 4,
         "num_object_classes": 3, "eval_pct": 20, "source": "gs://bucket/run", "format": "perception",
         "dropped_boxes": {"empty_box": 2}, "warnings": {"exif_orientation_ignored": 1}}


def dataset(root):
    """train/ (4 records, 2 sizes) and eval/ (2 records, one JPEG) beside a label map and stats.json."""
    train = [builders.example(200, 100, [Shape(1, 10, 10, 50, 50), Shape(2, 60, 10, 90, 40)], 1, "t/1.png"),
             builders.example(200, 100, [Shape(1, 0, 0, 20, 20)], 2, "t/2.png"),
             builders.example(120, 90, [Shape(3, 5, 5, 100, 80)], 3, "t/3.png"),
             builders.example(200, 100, [Shape(1, 1, 1, 3, 3)], 4, "t/4.png")]
    evals = [builders.example(120, 90, [Shape(2, 0, 0, 60, 45), Shape(2, 60, 45, 120, 90)], 5, "e/5.jpg", fmt="JPEG"),
             builders.example(120, 90, [Shape(2, 10, 10, 20, 20)], 6, "e/6.png")]
    builders.write_records(str(root / "train" / "train-00000-of-00002.tfrecord"), train[:2])
    builders.write_records(str(root / "train" / "train-00001-of-00002.tfrecord"), train[2:])
    builders.write_records(str(root / "eval" / "eval-00000-of-00001.tfrecord"), evals)
    builders.label_map_file(str(root / "label_map.pbtxt"))
    (root / "stats.json").write_text(json.dumps(STATS))
    return root


def test_split_of():
    assert split_of("gs://b/out/train/train-00003-of-00010.tfrecord") == "train"
    assert split_of("/x/eval/eval-00000-of-00001.tfrecord") == "eval"
    assert split_of("/x/validation/shard.tfrecord") == "validation"


def test_preview_page_shows_samples_classes_sizes_and_skips(tmp_path):
    root = dataset(tmp_path)
    out = tmp_path / "preview.html"
    summary = write_preview([str(root / "train"), str(root / "eval")], str(out), str(root / "label_map.pbtxt"),
                            str(root / "stats.json"), num_images=4)
    assert summary.records == 6 and summary.per_split == {"train": 4, "eval": 2}
    assert summary.objects == {"train": {1: 3, 2: 1, 3: 1}, "eval": {2: 3}}
    assert summary.problems == {}
    page = Page(out.read_text())
    photos = page.data_images("image/jpeg")
    assert len(photos) == 4 and all(max(p.size) == 480 for p in photos)
    classes, per_image, sizes = charts(page)
    assert bar_titles(classes) == ["rectangle, eval: 0", "rectangle, train: 3", "ellipse, eval: 3",
                                   "ellipse, train: 1", "triangle, eval: 0", "triangle, train: 1"]
    assert bar_titles(per_image) == ["-0.5 to 0.5: 0", "0.5 to 1.5: 4", "1.5 to 2.5: 2"]
    assert len([p for p in sizes.iter(f"{SVG}circle") if p.get("class") == "point"]) == 8  # one per box
    assert not page.data_images("image/png")
    assert page.row("records read")[1] == "6"
    assert page.row("records in train")[1] == "4" and page.row("records in eval")[1] == "2"
    assert page.row("1") == ["1", "rectangle", "0", "3", "4"]  # id, name, eval, train, stats.json
    assert page.row("2") == ["2", "ellipse", "3", "1", "3"]
    assert page.row("200\u00d7100") == ["200\u00d7100", "3", "50.0 %"]
    assert page.row("missing_image") == ["missing_image", "2", "RGB0/rgb_9.png, RGB0/rgb_10.png"]
    assert page.row("images skipped")[1] == "3"
    assert page.row("boxes dropped: empty_box")[1] == "2"
    assert page.row("images with exif orientation ignored")[1] == "1"
    assert page.row("source")[1] == "gs://bucket/run"
    assert page.headings == ["Overview", "Sample images (4)", "Classes", "Image and box sizes",
                             "Skipped by the converter", "Problems in the records"]
    assert "None found in the records read." in out.read_text()
    assert page.links == []


def test_preview_of_the_convert_output_folder_finds_its_parts(tmp_path):
    root = dataset(tmp_path / "examples")
    summary = preview_examples(str(root), str(tmp_path / "p.html"), max_records=3, num_images=2)
    assert summary.records == 3 and summary.limit_reached
    page = Page((tmp_path / "p.html").read_text())
    assert len(page.data_images("image/jpeg")) == 2
    assert "first 3 records" in (tmp_path / "p.html").read_text()
    assert page.row("missing_image")[1] == "2"


def test_problems_in_records_are_counted_with_examples(tmp_path):
    bad_box = tf.train.Example.FromString(builders.example(50, 50, [Shape(1, 0, 0, 10, 10)], 3, "box.png"))
    bad_box.features.feature["image/object/bbox/xmax"].float_list.value[0] = 1.5
    wrong_size = tf.train.Example.FromString(builders.example(50, 50, [], 4, "size.png"))
    wrong_size.features.feature["image/width"].int64_list.value[0] = 60
    records = [builders.example(50, 50, [Shape(1, 0, 0, 10, 10)], 1, "a.png"),
               builders.example(50, 50, [Shape(1, 0, 0, 10, 10)], 1, "repeat.png"),
               builders.example(50, 50, [Shape(1, 0, 0, 10, 10)], "x1", "letters.png"),
               builders.example(50, 50, [Shape(1, 0, 0, 10, 10)], 2, "text.png", names={1: "cube"}),
               builders.example(50, 50, [Shape(3, 0, 0, 10, 10)], 5, "unknown.png"),
               bad_box.SerializeToString(), wrong_size.SerializeToString()]
    path = builders.write_records(str(tmp_path / "r.tfrecord"), records)
    labels = {1: "rectangle", 2: "ellipse"}
    out = tmp_path / "p.html"
    summary = write_preview(path, str(out), builders.label_map_file(str(tmp_path / "l.pbtxt"), labels), num_images=7)
    assert summary.problems == {
        "image/source_id repeats an earlier record": 1, "image/source_id is not a decimal number": 1,
        "class text differs from the label map's name": 1, "class label not in the label map": 1,
        "box outside [0, 1] or with no area": 1, "image/width, image/height differ from the image": 1}
    page = Page(out.read_text())
    assert page.row("class label not in the label map") == ["class label not in the label map", "1", "unknown.png"]
    assert page.row("3")[1] == "triangle"  # named from the record's class/text


def test_summarize_samples_are_seeded_and_bounded(tmp_path):
    records = [builders.example(8, 8, [], i + 1, f"{i}.png") for i in range(30)]
    path = builders.write_records(str(tmp_path / "r.tfrecord"), records)
    first = [ex.filename for ex in summarize(read_examples(path), num_images=5, seed=1).samples]
    again = [ex.filename for ex in summarize(read_examples(path), num_images=5, seed=1).samples]
    assert first == again and len(first) == 5 and len(set(first)) == 5
    assert summarize(read_examples(path), num_images=0).samples == []


def test_input_errors_name_the_flag(tmp_path):
    path = builders.write_records(str(tmp_path / "r.tfrecord"), [builders.example(8, 8, [], 1, "a")])
    with pytest.raises(ValueError, match="--stats .*nope.json"):
        write_preview(path, str(tmp_path / "p.html"), stats=str(tmp_path / "nope.json"))
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ValueError, match="not JSON"):
        write_preview(path, str(tmp_path / "p.html"), stats=str(tmp_path / "bad.json"))
    with pytest.raises(ValueError, match="--label-map"):
        write_preview(path, str(tmp_path / "p.html"), label_map=str(tmp_path / "none.pbtxt"))
    empty = builders.write_records(str(tmp_path / "empty.tfrecord"), [])
    with pytest.raises(ValueError, match="hold no records"):
        write_preview(empty, str(tmp_path / "p.html"))


def test_preview_of_real_convert_output(converted, tmp_path):
    out, stats = converted
    summary = preview_examples(str(out), str(tmp_path / "p.html"))
    assert summary.records == stats["examples"]["train"] + stats["examples"]["eval"]
    assert dict(summary.per_split) == {k: v for k, v in stats["examples"].items() if v}
    assert summary.problems == {}
    page = Page((tmp_path / "p.html").read_text())
    assert page.row("missing_image")[1] == str(stats["skipped"]["missing_image"])
    names = {row[1] for row in page.rows if row and row[0].isdigit()}
    assert names == set(stats["objects_per_class"])


def test_preview_data_may_be_the_convert_output_folder(converted, tmp_path):
    out, stats = converted
    summary = write_preview(str(out), str(tmp_path / "p.html"), str(out / "label_map.pbtxt"), str(out / "stats.json"))
    assert dict(summary.per_split) == {k: v for k, v in stats["examples"].items() if v}


def bomb_png(width: int, height: int) -> bytes:
    """A PNG whose header declares ``width`` x ``height`` over a few bytes of data."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def test_images_that_do_not_decode_are_named_not_raised(tmp_path):
    good = builders.example(50, 50, [Shape(1, 0, 0, 10, 10)], 1, "good.png")
    bomb = tf.train.Example.FromString(builders.example(50, 50, [], 2, "bomb.png"))
    bomb.features.feature["image/encoded"].bytes_list.value[0] = bomb_png(100000, 100000)
    garbage = tf.train.Example.FromString(builders.example(50, 50, [], 3, "garbage.png"))
    garbage.features.feature["image/encoded"].bytes_list.value[0] = b"\x89PNG\r\n\x1a\n" + b"\x07" * 300
    path = builders.write_records(str(tmp_path / "r.tfrecord"),
                                  [good, bomb.SerializeToString(), garbage.SerializeToString()])
    out = tmp_path / "p.html"
    summary = write_preview(path, str(out), builders.label_map_file(str(tmp_path / "l.pbtxt")), num_images=3)
    assert summary.problems["image/encoded does not decode"] == 2
    page = Page(out.read_text())
    assert len(page.data_images("image/jpeg")) == 1
    text = out.read_text()
    for name in ("bomb.png", "garbage.png"):
        assert f"{name} (record" in text and "r.tfrecord" in text


def test_the_preview_command_runs_without_tensorflow(tmp_path):
    # python -m components.preview is what the convert (and Dataflow worker) image can run: no TensorFlow there.
    import os
    import subprocess
    import sys

    root = dataset(tmp_path)
    out = tmp_path / "preview.html"
    code = ("import sys; sys.modules['tensorflow'] = None; import runpy; "
            "runpy.run_module('components.preview', run_name='__main__')")
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    proc = subprocess.run([sys.executable, "-c", code, "--data", str(root / "train"), str(root / "eval"),
                           "--label-map", str(root / "label_map.pbtxt"),
                           "--stats", str(root / "stats.json"), "--output", str(out)],
                          capture_output=True, text=True, cwd=repo, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert f"6 records previewed, 0 problem(s) found; report: {out}" in proc.stdout
    assert len(Page(out.read_text()).data_images("image/jpeg")) == 6
    proc = subprocess.run([sys.executable, "-m", "components.preview", "--data", str(tmp_path / "none*.tfrecord"),
                           "--output", str(tmp_path / "p.html")], capture_output=True, text=True, cwd=repo, timeout=120)
    assert proc.returncode == 2 and "no TFRecord files match" in proc.stderr
