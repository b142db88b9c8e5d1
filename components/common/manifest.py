"""The convert step's ``OUT/manifest.json``: which generation of shards is published, and what it holds.

A conversion writes its shards and files into ``OUT/gen-<run>/`` and then, last, one small
``manifest.json`` naming that folder and each file in it with its byte size (shards also with their
record count). Writing that one object is the switch from the old generation to the new, on gs://
as locally, so a reader that goes by the manifest never sees a mix::

    from components.common import manifest
    files = manifest.verify("gs://B/out", "train")   # the train shards, checked against their sizes

Paths inside the manifest are relative to OUT. Data converted elsewhere has no manifest; ``locate``
returns None for it and callers read it as they always did.
"""
from __future__ import annotations

import json
import os
import posixpath

from components.common import uris

MANIFEST = "manifest.json"
VERSION = 1
SPLITS = ("train", "eval")


class ManifestError(ValueError):
    """The files on disk disagree with ``manifest.json``, or it cannot be read."""


def read_manifest(out_uri: str) -> dict:
    """``OUT/manifest.json`` as a dict.

    Raises:
        FileNotFoundError: OUT has no manifest.
        ManifestError: the manifest is not JSON or lacks its fields.
    """
    path = uris.join(out_uri, MANIFEST)
    try:
        doc = json.loads(uris.read_text(path))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ManifestError(f"{path}: not a manifest ({err})") from err
    if not isinstance(doc, dict) or not isinstance(doc.get("generation"), str) or not isinstance(
            doc.get("splits"), dict):
        raise ManifestError(f"{path}: not a manifest (no generation or splits)")
    return doc


def generation_uri(out_uri: str, doc: dict | None = None) -> str:
    """The published generation folder, ``OUT/gen-<run>``."""
    return uris.join(out_uri, (doc or read_manifest(out_uri))["generation"])


def shards(out_uri: str, split: str, doc: dict | None = None) -> list[dict]:
    """The split's shards as listed: ``{"uri", "path", "records", "bytes"}`` each, in order."""
    doc = doc or read_manifest(out_uri)
    if split not in doc["splits"]:
        raise ManifestError(f"{uris.join(out_uri, MANIFEST)} lists no split {split!r}")
    return [{**s, "uri": uris.join(out_uri, s["path"])} for s in doc["splits"][split]["shards"]]


def sizes(folder: str) -> dict[str, int]:
    """Byte size of every file below ``folder``, by ``/``-separated path relative to it (one listing)."""
    if uris.is_gcs(folder):
        bucket, prefix = uris.split_gcs(folder)
        prefix = prefix.rstrip("/") + "/" if prefix else ""
        return {b.name[len(prefix):]: int(b.size) for b in uris.gcs_client().list_blobs(bucket, prefix=prefix)
                if not b.name.endswith("/")}
    root = uris.local_path(folder)
    return {rel: os.path.getsize(os.path.join(root, rel)) for rel in uris.iter_files(root)}


def verify(out_uri: str, split: str) -> list[str]:
    """The split's shard URIs, after checking that exactly the listed shards are there, at their sizes.

    Cheap: one listing of the split's folder, no record is read.

    Raises:
        ManifestError: a listed shard is missing or has another size, or the folder holds a shard the
            manifest does not list.
    """
    doc = read_manifest(out_uri)
    listed = shards(out_uri, split, doc)
    folder = uris.join(out_uri, doc["generation"], split)
    found = sizes(folder)
    where = uris.join(out_uri, MANIFEST)
    names = set()
    for shard in listed:
        name = posixpath.basename(shard["path"])
        names.add(name)
        if name not in found:
            raise ManifestError(f"shard {shard['uri']} is missing: {where} lists it with {shard['records']} "
                                "records; convert again, or copy the whole output folder")
        if found[name] != shard["bytes"]:
            raise ManifestError(f"shard {shard['uri']} has {found[name]} bytes, {where} says {shard['bytes']}: "
                                "the file was changed or only partly copied; convert again")
    extra = sorted(n for n in found if n not in names and "/" not in n and n.endswith(".tfrecord"))
    if extra:
        raise ManifestError(f"{uris.join(folder, extra[0])} is not listed in {where}"
                            f"{f' ({len(extra)} such files)' if len(extra) > 1 else ''}: it is not part of the "
                            "published conversion; remove it or convert again")
    return [s["uri"] for s in listed]


def locate(data: str) -> tuple[str, str] | None:
    """``(OUT, split)`` when ``data`` (a shard folder, glob or file) lies in a conversion output with a
    manifest: ``OUT/gen-<run>/<split>/...`` or the older ``OUT/<split>/...``; None otherwise."""
    folder = data.rstrip("/")
    segments = folder.split("/")
    glob_at = next((i for i, s in enumerate(segments) if set(s) & set("*?[")), None)
    if glob_at is not None:
        folder = "/".join(segments[:glob_at])
    elif folder.endswith((".tfrecord", ".tfrecords")) or uris.is_file(folder):
        folder = folder.rsplit("/", 1)[0] if "/" in folder else "."
    parent, _, split = folder.rpartition("/")
    if split not in SPLITS or not parent:
        return None
    grand, _, generation = parent.rpartition("/")
    for out in ((grand,) if generation.startswith("gen-") and grand else ()) + (parent,):
        if uris.is_file(uris.join(out, MANIFEST)):
            return out, split
    return None


def check_data(data: str) -> list[str] | None:
    """Verify the shards behind ``data`` against their manifest; None when there is none.

    Raises:
        ManifestError: ``data`` is not the published generation, or its shards disagree with the manifest.
    """
    found = locate(data)
    if found is None:
        return None
    out, split = found
    doc = read_manifest(out)
    published = uris.join(out, doc["generation"], split)
    folder = data.rstrip("/")
    if not (folder == published or folder.startswith(published + "/")):
        raise ManifestError(f"{data!r} is not the published conversion: {uris.join(out, MANIFEST)} names "
                            f"{published}; read that folder (the convert step's {split}_data output)")
    return verify(out, split)
