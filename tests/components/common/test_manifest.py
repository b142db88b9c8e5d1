import json

import pytest

from components.common import manifest, uris
from tests.conftest import EMULATOR_BUCKET


def write_output(out: str, generation: str = "gen-a") -> None:
    """A published conversion output: two train shards, one eval shard and their manifest."""
    splits = {}
    for split, count in (("train", 2), ("eval", 1)):
        shards = []
        for i in range(count):
            path = f"{generation}/{split}/{split}-{i:05d}-of-{count:05d}.tfrecord"
            data = f"{split}{i}".encode() * (i + 2)
            uris.write_bytes(uris.join(out, path), data)
            shards.append({"path": path, "records": i + 2, "bytes": len(data)})
        splits[split] = {"file_pattern": f"{generation}/{split}/{split}-*.tfrecord", "shards": shards}
    uris.write_text(uris.join(out, generation, "stats.json"), "{}")
    doc = {"version": 1, "run": generation[4:], "generation": generation, "splits": splits,
           "files": {"stats.json": {"path": f"{generation}/stats.json", "bytes": 2}}}
    uris.write_text(uris.join(out, "manifest.json"), json.dumps(doc))


@pytest.fixture(params=["local", "gcs"])
def out(request, tmp_path):
    if request.param == "local":
        root = str(tmp_path / "out")
    else:
        request.getfixturevalue("gcs_emulator")
        root = f"gs://{EMULATOR_BUCKET}/manifest-test/{tmp_path.name}/out"
    write_output(root)
    return root


def test_verify_lists_the_shards_of_the_published_generation(out):
    assert manifest.read_manifest(out)["generation"] == "gen-a"
    assert manifest.generation_uri(out) == uris.join(out, "gen-a")
    train = manifest.verify(out, "train")
    assert train == [uris.join(out, "gen-a/train/train-00000-of-00002.tfrecord"),
                     uris.join(out, "gen-a/train/train-00001-of-00002.tfrecord")]
    assert [s["records"] for s in manifest.shards(out, "train")] == [2, 3]
    assert manifest.sizes(uris.join(out, "gen-a", "eval")) == {"eval-00000-of-00001.tfrecord": 10}


def test_a_missing_shard_is_named(out):
    uris.delete(uris.join(out, "gen-a/train/train-00001-of-00002.tfrecord"))
    with pytest.raises(manifest.ManifestError, match=r"train-00001-of-00002\.tfrecord is missing"):
        manifest.verify(out, "train")
    assert manifest.verify(out, "eval")


def test_a_changed_shard_is_named(out):
    uris.write_bytes(uris.join(out, "gen-a/train/train-00000-of-00002.tfrecord"), b"shorter")
    with pytest.raises(manifest.ManifestError, match=r"train-00000-of-00002\.tfrecord has 7 bytes.* says 12"):
        manifest.verify(out, "train")


def test_an_extra_shard_is_named(out):
    uris.write_bytes(uris.join(out, "gen-a/train/train-00002-of-00003.tfrecord"), b"x")
    with pytest.raises(manifest.ManifestError, match=r"train-00002-of-00003\.tfrecord is not listed"):
        manifest.verify(out, "train")


def test_check_data_goes_by_the_manifest_beside_the_shards(out):
    pattern = uris.join(out, "gen-a", "train", "*.tfrecord")
    assert manifest.locate(pattern) == (out, "train")
    assert manifest.locate(uris.join(out, "gen-a", "eval")) == (out, "eval")
    assert manifest.locate(uris.join(out, "gen-a/eval/eval-00000-of-00001.tfrecord")) == (out, "eval")
    assert manifest.check_data(pattern) == manifest.verify(out, "train")
    with pytest.raises(manifest.ManifestError, match=r"not the published conversion.*gen-a/train"):
        manifest.check_data(uris.join(out, "gen-old", "train", "*.tfrecord"))
    with pytest.raises(manifest.ManifestError, match=r"not the published conversion"):
        manifest.check_data(uris.join(out, "train"))  # the earlier layout's folder


def test_data_without_a_manifest_is_not_checked(tmp_path):
    uris.write_bytes(str(tmp_path / "out" / "train" / "train-00000-of-00001.tfrecord"), b"x")
    assert manifest.locate(str(tmp_path / "out" / "train" / "*.tfrecord")) is None
    assert manifest.check_data(str(tmp_path / "out" / "train")) is None
    assert manifest.check_data(str(tmp_path / "elsewhere" / "*.tfrecord")) is None
    with pytest.raises(FileNotFoundError):
        manifest.read_manifest(str(tmp_path / "out"))
    (tmp_path / "out" / "manifest.json").write_text("not json")
    with pytest.raises(manifest.ManifestError, match="not a manifest"):
        manifest.read_manifest(str(tmp_path / "out"))
