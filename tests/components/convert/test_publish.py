"""Publishing a generation: a failed run changes nothing, a killed one is finished by a retry, readers never see a mix."""
import glob
import hashlib
import json
import os

import pytest

from components.common import manifest, uris
from components.convert import outputs
from components.convert.pipeline import ConversionError, convert
from components.convert.transforms import Shard
from tests.components.convert.builders import legacy_dataset
from tests.conftest import EMULATOR_BUCKET

CONTEXT = {"source": "src", "format": "coco", "eval_pct": 20.0, "labels": {1: "cube"}, "max_bad_fraction": 0.05}


def staged(out: str, run: str, train: int = 2, eval_: int = 1) -> tuple[str, list[Shard]]:
    """A run's temporary folder with its shards, as the workers leave it."""
    temp_dir = uris.join(out, f".tmp-{run}")
    uris.write_text(uris.join(temp_dir, "units", "0.json"), "[]")  # the staged work units stay behind
    shards = []
    for split, count in (("train", train), ("eval", eval_)):
        for i in range(count):
            path = uris.join(temp_dir, "shards", f"{split}-{i}.tfrecord")
            uris.write_bytes(path, f"{run} {split} {i} ".encode() * (i + 3))
            shards.append(Shard(split, path, i + 3))
    return temp_dir, shards


def publish(out: str, temp_dir: str, shards: list[Shard]) -> dict:
    counts = {"examples": {"train": sum(s.records for s in shards if s.split == "train"),
                           "eval": sum(s.records for s in shards if s.split == "eval")}}
    return outputs.publish(out, temp_dir, shards, counts, [], [], CONTEXT)


def contents(uri_list: list[str]) -> list[bytes]:
    return [uris.read_bytes(u) for u in uri_list]


def fail_on_call(monkeypatch, module, name: str, call: int, when=lambda *a: True):
    """Make ``module.name`` raise on its ``call``-th matching call, as a SIGKILL at that point would stop it."""
    real, seen = getattr(module, name), []

    def wrapper(*args, **kwargs):
        if when(*args):
            seen.append(args)
            if len(seen) == call:
                raise KeyboardInterrupt(f"killed in {name}{args}")
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapper)


@pytest.fixture(params=["local", "gcs"])
def out(request, tmp_path):
    if request.param == "local":
        return str(tmp_path / "out")
    request.getfixturevalue("gcs_emulator")
    return f"gs://{EMULATOR_BUCKET}/publish-test/{tmp_path.name}/out"


def test_a_kill_while_shards_move_keeps_the_old_generation_and_a_retry_finishes(out, monkeypatch):
    publish(out, *staged(out, "a"))
    old = {split: manifest.verify(out, split) for split in ("train", "eval")}
    old_bytes = {split: contents(files) for split, files in old.items()}
    old_stats = uris.read_bytes(uris.join(out, "stats.json"))
    temp_dir, shards = staged(out, "b", train=3)
    with monkeypatch.context() as patch:
        fail_on_call(patch, uris, "rename", 2)
        with pytest.raises(KeyboardInterrupt):
            publish(out, temp_dir, shards)
    # Readers still get the whole old generation, and only it.
    assert manifest.read_manifest(out)["generation"] == "gen-a"
    for split in ("train", "eval"):
        assert manifest.verify(out, split) == old[split] and contents(old[split]) == old_bytes[split]
    assert uris.read_bytes(uris.join(out, "stats.json")) == old_stats
    # Beam retries the step with the same shards, one of them already moved.
    stats = publish(out, temp_dir, shards)
    assert stats["shards"] == {"train": 3, "eval": 1} and stats["generation"] == "gen-b"
    train = manifest.verify(out, "train")
    assert [u.rsplit("/", 2)[-2:] for u in train] == [["train", f"train-0000{i}-of-00003.tfrecord"] for i in range(3)]
    assert contents(train)[2] == b"b train 2 " * 5
    tops = {rel.split("/", 1)[0] for rel in uris.iter_files(out)}
    assert tops == {"gen-b", "manifest.json", "stats.json", "errors.jsonl", "label_map.pbtxt", "label_map.csv",
                    "eval_coco.json"}
    assert json.loads(uris.read_text(uris.join(out, "stats.json")))["generation"] == "gen-b"


def test_the_next_run_cleans_up_after_a_killed_one(out, monkeypatch):
    publish(out, *staged(out, "a"))
    with monkeypatch.context() as patch:
        fail_on_call(patch, uris, "write_text", 1, when=lambda uri, text: uri.endswith("/out/stats.json"))
        with pytest.raises(KeyboardInterrupt):
            publish(out, *staged(out, "b"))
    assert manifest.read_manifest(out)["generation"] == "gen-a" and manifest.verify(out, "train")
    assert uris.exists(uris.join(out, "gen-b")) and uris.exists(uris.join(out, ".tmp-b"))
    publish(out, *staged(out, "c", train=1))
    tops = {rel.split("/", 1)[0] for rel in uris.iter_files(out)}
    assert "gen-c" in tops and not {"gen-a", "gen-b", ".tmp-b", ".tmp-c"} & tops
    assert len(manifest.verify(out, "train")) == 1


def test_a_kill_after_the_manifest_switch_is_finished_by_a_retry(out, monkeypatch):
    publish(out, *staged(out, "a"))
    temp_dir, shards = staged(out, "b")
    with monkeypatch.context() as patch:
        fail_on_call(patch, uris, "delete_tree", 1)
        with pytest.raises(KeyboardInterrupt):
            publish(out, temp_dir, shards)
    assert manifest.read_manifest(out)["generation"] == "gen-b" and len(manifest.verify(out, "train")) == 2
    stats = publish(out, temp_dir, shards)  # the shards are gone from temp_dir by now
    assert stats["generation"] == "gen-b"
    assert not uris.exists(uris.join(out, "gen-a")) and not uris.exists(temp_dir)


def snapshot(root: str) -> dict[str, str]:
    return {rel: hashlib.sha256(open(os.path.join(root, rel), "rb").read()).hexdigest()
            for rel in uris.iter_files(root)}


def test_a_failed_rerun_leaves_the_previous_output_byte_identical(tmp_path):
    good, bad = str(tmp_path / "good"), str(tmp_path / "bad")
    legacy_dataset(good, 10)
    legacy_dataset(bad, 10, corrupt=(0, 1, 2))
    out = str(tmp_path / "out")
    convert(good, out)
    before = snapshot(out)
    assert {"manifest.json", "stats.json", "label_map.pbtxt", "eval_coco.json"} <= set(before)
    assert any(k.endswith(".tfrecord") and "/train/" in k for k in before)
    assert any(k.endswith(".tfrecord") and "/eval/" in k for k in before)
    with pytest.raises(ConversionError, match=r"\.failed-.*stats\.json.*unchanged"):
        convert(bad, out, max_bad_fraction=0.05)
    after = snapshot(out)
    assert {k: v for k, v in after.items() if not k.startswith(".failed-")} == before
    failed = [k for k in after if k.startswith(".failed-")]
    assert sorted(k.split("/", 1)[1] for k in failed) == ["errors.jsonl", "stats.json"]
    stats = json.load(open(os.path.join(out, [k for k in failed if k.endswith("stats.json")][0])))
    assert stats["ok"] is False and stats["skipped"] == {"bad_image": 3}
    # A good run after it publishes and drops the failure record.
    convert(good, out)
    assert not glob.glob(os.path.join(out, ".failed-*"))
