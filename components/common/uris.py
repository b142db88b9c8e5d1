"""Paths that are either local files or ``gs://`` objects, behind one small API.

Local paths use the file system; ``gs://bucket/name`` uses google-cloud-storage, which honours
``STORAGE_EMULATOR_HOST`` (the tests run against ``gcp-storage-emulator``). Nothing here imports
Beam or TensorFlow, so every image (transfer, convert, train, evaluate) can use it.

Why hand-written, by what each image carries (containers/*/requirements.txt):

- Every image imports this module, and google-cloud-storage is already in all four: the transfer
  step counts the files it copied and writes its record beside them, convert reads the source and
  publishes its output, train runs its pre-flight checks, evaluate and the preview read records.
- Beam's ``FileSystems`` would need apache-beam, which only the convert image has; the transfer,
  train and evaluate images do not carry Beam.
- ``tf.io.gfile`` would need TensorFlow, which the transfer and convert images do not have (convert
  writes its records without it); the train pre-flight checks (components/train/preflight.py)
  import none either.
- fsspec with gcsfs would add both packages, and gcsfs's own HTTP stack (aiohttp), to every image
  for what google-cloud-storage already does here in a few calls: read and write whole objects,
  stream them, list a prefix, rename, delete.
- The rules are ours to keep: ``glob`` lets ``*`` stay within one path segment on gs:// as
  locally, as TensorFlow's glob does when the trainer reads the same pattern, and the storage
  client is made per process, since Beam workers fork.
"""
from __future__ import annotations

import fnmatch
import glob as local_glob
import os
import shutil
from typing import IO, Iterator

GCS_PREFIX = "gs://"
_clients: dict[tuple[int, str | None], object] = {}


def is_gcs(uri: str) -> bool:
    """True for ``gs://`` URIs."""
    return uri.startswith(GCS_PREFIX)


def split_gcs(uri: str) -> tuple[str, str]:
    """``gs://bucket/a/b`` -> ``("bucket", "a/b")``; raises ValueError on a malformed URI."""
    if not is_gcs(uri):
        raise ValueError(f"not a gs:// URI: {uri!r}")
    rest = uri[len(GCS_PREFIX):]
    bucket, _, name = rest.partition("/")
    if not bucket:
        raise ValueError(f"gs:// URI has no bucket: {uri!r}")
    return bucket, name


def join(base: str, *parts: str) -> str:
    """Join with ``/`` for gs:// and os.path.join for local paths."""
    if is_gcs(base):
        out = base.rstrip("/")
        for part in parts:
            out = f"{out}/{part.strip('/')}" if part else out
        return out
    return os.path.join(base, *parts)


def gcs_client():
    """A storage client for this process (per PID, since Beam workers fork, and per emulator host, so a
    process that starts another GCS emulator talks to that one)."""
    emulator = os.environ.get("STORAGE_EMULATOR_HOST") or None
    key = (os.getpid(), emulator)
    client = _clients.get(key)
    if client is None:
        from google.cloud import storage

        if emulator:
            from google.auth.credentials import AnonymousCredentials

            client = storage.Client(project="emulator", credentials=AnonymousCredentials())
        else:
            client = storage.Client()
        _clients[key] = client
    return client


def _blob(uri: str):
    bucket, name = split_gcs(uri)
    return gcs_client().bucket(bucket).blob(name)


def read_bytes(uri: str) -> bytes:
    """Whole content of a file or object. Raises FileNotFoundError when it does not exist."""
    if is_gcs(uri):
        from google.api_core import exceptions

        try:
            return _blob(uri).download_as_bytes()
        except exceptions.NotFound as err:
            raise FileNotFoundError(uri) from err
    with open(uri, "rb") as f:
        return f.read()


def read_text(uri: str) -> str:
    return read_bytes(uri).decode("utf-8")


def write_bytes(uri: str, data: bytes) -> None:
    """Write a whole file or object, creating parent folders for local paths."""
    if is_gcs(uri):
        _blob(uri).upload_from_string(data)
        return
    parent = os.path.dirname(uri)
    if parent:
        os.makedirs(parent, exist_ok=True)
    with open(uri, "wb") as f:
        f.write(data)


def write_text(uri: str, text: str) -> None:
    write_bytes(uri, text.encode("utf-8"))


def open_write(uri: str) -> IO[bytes]:
    """A binary writer that streams to a local file or a GCS object (resumable upload)."""
    if is_gcs(uri):
        return _blob(uri).open("wb")
    parent = os.path.dirname(uri)
    if parent:
        os.makedirs(parent, exist_ok=True)
    return open(uri, "wb")


def open_read(uri: str, chunk_size: int = 8 << 20) -> IO[bytes]:
    """A binary reader that streams a local file or a GCS object (``chunk_size`` bytes buffered
    per object, so that many can be open at once). Raises FileNotFoundError."""
    if is_gcs(uri):
        blob = _blob(uri)
        if not blob.exists():
            raise FileNotFoundError(uri)
        return blob.open("rb", chunk_size=chunk_size)
    return open(uri, "rb")


def is_file(uri: str) -> bool:
    """True if ``uri`` is a file or an object (not a folder or prefix)."""
    return _blob(uri).exists() if is_gcs(uri) else os.path.isfile(uri)


def exists(uri: str) -> bool:
    """True if a file/object exists, or (for folders) anything exists below it."""
    if is_gcs(uri):
        if _blob(uri).exists():
            return True
        return next(iter_files(uri), None) is not None
    return os.path.exists(uri)


def iter_files(root: str) -> Iterator[str]:
    """Every file below ``root``, as a ``/``-separated path relative to it, in sorted order."""
    for rel, _ in iter_sized_files(root, sizes=False):
        yield rel


def iter_sized_files(root: str, sizes: bool = True) -> Iterator[tuple[str, int]]:
    """(path relative to ``root``, bytes) of every file below it, in sorted order; a GCS listing
    carries the sizes, a local one costs a ``stat`` per file (0 for a link that leads nowhere).
    With ``sizes=False`` a local listing skips the ``stat`` and gives 0 for every size."""
    if is_gcs(root):
        bucket, prefix = split_gcs(root)
        prefix = prefix.rstrip("/") + "/" if prefix else ""
        listed = [(b.name[len(prefix):], b.size or 0) for b in gcs_client().list_blobs(bucket, prefix=prefix)]
        yield from sorted((n, size) for n, size in listed if n and not n.endswith("/"))
        return
    found = []
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        rel = os.path.relpath(folder, root)
        for name in files:
            size = 0
            if sizes:
                try:
                    size = os.stat(os.path.join(folder, name)).st_size
                except OSError:
                    pass
            found.append((name if rel == "." else f"{rel.replace(os.sep, '/')}/{name}", size))
    yield from sorted(found)


def glob(pattern: str) -> list[str]:
    """Files (not folders) matching a shell pattern, local or gs://, sorted. As in a shell, ``*``,
    ``?`` and ``[...]`` stay within one path segment, for objects as for files (as in TensorFlow's
    ``gfile.glob``, so train's pre-flight matches what its reader will read)."""
    if not is_gcs(pattern):
        return sorted(p for p in local_glob.glob(local_path(pattern)) if os.path.isfile(p))
    segments = pattern.split("/")
    first = next((i for i, s in enumerate(segments) if set(s) & set("*?[")), None)
    if first is None:
        return [pattern] if is_file(pattern) else []
    root, wanted = "/".join(segments[:first]), segments[first:]
    found = []
    for rel in iter_files(root):
        parts = rel.split("/")
        if len(parts) == len(wanted) and all(fnmatch.fnmatchcase(p, w) for p, w in zip(parts, wanted)):
            found.append(join(root, rel))
    return found


def delete_tree(root: str) -> int:
    """Remove a folder (or prefix) and everything below it; returns how many files went."""
    if is_gcs(root):
        bucket, prefix = split_gcs(root)
        prefix = prefix.rstrip("/") + "/"
        blobs = list(gcs_client().list_blobs(bucket, prefix=prefix))
        for blob in blobs:
            blob.delete()
        return len(blobs)
    if not os.path.exists(root):
        return 0
    count = sum(len(files) for _, _, files in os.walk(root))
    shutil.rmtree(root)
    return count


def delete(uri: str) -> None:
    """Remove one file or object; a missing one is fine."""
    if is_gcs(uri):
        from google.api_core import exceptions

        try:
            _blob(uri).delete()
        except exceptions.NotFound:
            pass
        return
    try:
        os.remove(uri)
    except FileNotFoundError:
        pass


def rename(src: str, dst: str) -> None:
    """Move one file or object (atomic for local files on one file system)."""
    if is_gcs(src) != is_gcs(dst):
        raise ValueError(f"cannot rename across storage kinds: {src} -> {dst}")
    if is_gcs(src):
        s_bucket, s_name = split_gcs(src)
        d_bucket, d_name = split_gcs(dst)
        client = gcs_client()
        bucket = client.bucket(s_bucket)
        bucket.copy_blob(bucket.blob(s_name), client.bucket(d_bucket), d_name)
        bucket.blob(s_name).delete()
        return
    parent = os.path.dirname(dst)
    if parent:
        os.makedirs(parent, exist_ok=True)
    os.replace(src, dst)


def local_path(uri: str) -> str:
    """The file-system path of a local URI (``file://`` stripped); raises for gs://."""
    if is_gcs(uri):
        raise ValueError(f"expected a local path, got {uri}")
    return uri[len("file://"):] if uri.startswith("file://") else uri
