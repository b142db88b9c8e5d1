import os

import pytest

from components.common import uris
from tests.conftest import EMULATOR_BUCKET


def test_join_and_split():
    assert uris.join("gs://b/a/", "c", "d.txt") == "gs://b/a/c/d.txt"
    assert uris.split_gcs("gs://b/a/c") == ("b", "a/c")
    assert uris.join("/x", "y") == os.path.join("/x", "y")
    with pytest.raises(ValueError, match="no bucket"):
        uris.split_gcs("gs:///a")


@pytest.mark.parametrize("kind", ["local", "gcs"])
def test_round_trip_list_rename_delete(kind, tmp_path, request):
    if kind == "gcs":
        request.getfixturevalue("gcs_emulator")
        root = f"gs://{EMULATOR_BUCKET}/uris-test"
    else:
        root = str(tmp_path / "root")
    uris.write_text(uris.join(root, "a/b.txt"), "hello")
    uris.write_bytes(uris.join(root, "c d/é.bin"), b"\x00\x01")
    with uris.open_write(uris.join(root, "stream.bin")) as f:
        f.writelines([b"ab", b"cd"])
    assert list(uris.iter_files(root)) == ["a/b.txt", "c d/é.bin", "stream.bin"]
    assert list(uris.iter_sized_files(root)) == [("a/b.txt", 5), ("c d/é.bin", 2), ("stream.bin", 4)]
    assert uris.read_text(uris.join(root, "a/b.txt")) == "hello"
    assert uris.read_bytes(uris.join(root, "stream.bin")) == b"abcd"
    uris.rename(uris.join(root, "a/b.txt"), uris.join(root, "moved/b.txt"))
    assert uris.exists(uris.join(root, "moved/b.txt"))
    assert not uris.exists(uris.join(root, "a/b.txt"))
    with pytest.raises(FileNotFoundError):
        uris.read_bytes(uris.join(root, "a/b.txt"))
    assert uris.delete_tree(root) == 3
    assert list(uris.iter_files(root)) == []


@pytest.mark.parametrize("kind", ["local", "gcs"])
def test_glob_keeps_wildcards_within_a_segment(kind, tmp_path, request):
    if kind == "gcs":
        request.getfixturevalue("gcs_emulator")
        root = f"gs://{EMULATOR_BUCKET}/glob-test"
    else:
        root = str(tmp_path)
    for name in ("a/one.tfrecord", "a/two.tfrecord", "a/deep/three.tfrecord", "b/four.txt"):
        uris.write_text(uris.join(root, name), "x")
    assert uris.glob(uris.join(root, "a", "*.tfrecord")) == [uris.join(root, "a", n) for n in ("one.tfrecord", "two.tfrecord")]
    assert uris.glob(uris.join(root, "*", "*")) == [uris.join(root, n) for n in ("a/one.tfrecord", "a/two.tfrecord", "b/four.txt")]
    assert uris.glob(uris.join(root, "a", "one.tfrecord")) == [uris.join(root, "a", "one.tfrecord")]
    assert uris.glob(uris.join(root, "a")) == []  # a folder is not a file
    assert uris.glob(uris.join(root, "c", "*")) == []


def test_the_storage_client_follows_the_emulator_host(gcs_emulator):
    """A second emulator started in the same process (the cloud rehearsal does) gets its own client."""
    from rehearsal import services

    uris.write_text("gs://synthdet-test/first.txt", "one")
    with services.gcs_emulator("second-bucket"):
        uris.write_text("gs://second-bucket/second.txt", "two")
        assert uris.read_text("gs://second-bucket/second.txt") == "two"
    assert uris.read_text("gs://synthdet-test/first.txt") == "one"
