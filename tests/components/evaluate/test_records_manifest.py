"""Evaluate reads the shards of a conversion output with manifest.json only when they match it."""
import glob
import os
import shutil
from types import SimpleNamespace

import pytest

from components.common import manifest
from components.evaluate.records import read_examples
from components.evaluate.task import run_preview


@pytest.fixture
def out(converted, tmp_path):
    """A private copy of the convert step's output, which a test may damage."""
    folder = str(tmp_path / "out")
    shutil.copytree(str(converted[0]), folder)
    return folder


def eval_pattern(out: str) -> str:
    return os.path.join(manifest.generation_uri(out), "eval", "eval-*.tfrecord")


def test_published_shards_are_read(out, converted):
    assert len(list(read_examples(eval_pattern(out)))) == converted[1]["examples"]["eval"]


def test_a_changed_or_missing_shard_is_named(out):
    shard = sorted(glob.glob(eval_pattern(out)))[0]
    with open(shard, "ab") as f:
        f.write(b"\0")
    with pytest.raises(ValueError, match=f"{os.path.basename(shard)} has .* bytes"):
        list(read_examples(eval_pattern(out)))
    os.remove(shard)
    with pytest.raises(ValueError, match=f"{os.path.basename(shard)} is missing"):
        list(read_examples([eval_pattern(out)]))


def test_records_without_a_manifest_are_read_as_before(out, converted, tmp_path):
    elsewhere = str(tmp_path / "copied" / "eval")
    shutil.copytree(os.path.dirname(eval_pattern(out)), elsewhere)
    with open(os.path.join(elsewhere, "extra.tfrecord"), "wb"):
        pass
    assert len(list(read_examples(elsewhere))) == converted[1]["examples"]["eval"]


def test_the_preview_component_reads_the_published_generation(out, converted, tmp_path):
    report = SimpleNamespace(path=str(tmp_path / "preview.html"), metadata={})
    run_preview(SimpleNamespace(uri=out), report, max_records=100, num_images=2)
    stats = converted[1]
    assert report.metadata["records"] == stats["examples"]["train"] + stats["examples"]["eval"]
