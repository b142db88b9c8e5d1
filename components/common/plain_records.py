"""Detection records read in plain Python (no TensorFlow), local or gs://, shards interleaved.

For steps whose image has no TensorFlow, such as the convert step writing its dataset preview;
``match_files`` serves the tf.data reader (records.py) too.
Every CRC is checked, and the keys are those of ``records.read_examples``.
"""
from __future__ import annotations

import logging
from contextlib import ExitStack
from typing import Iterator, Sequence

from components.common import uris
from components.common.tfrecords import RecordError, iter_records, parse_example
from components.common.example import Example, example_from_features

logger = logging.getLogger(__name__)

RECORD_SUFFIX = "*.tfrecord*"
MAX_OPEN = 16  # shards read in turn; each open gs:// object buffers 8 MiB


def match_files(patterns: str | Sequence[str]) -> list[str]:
    """Record files for glob patterns, folders (their ``*.tfrecord*``) or single files, local or
    gs://, sorted per pattern, each file once.

    Raises:
        ValueError: a pattern or folder matches no file.
    """
    if isinstance(patterns, str):
        patterns = [patterns]
    if not patterns:
        raise ValueError("no TFRecord pattern given; expected a glob such as OUT/gen-RUN/eval/*.tfrecord")
    files: list[str] = []
    for pattern in patterns:
        glob = pattern
        if not set(pattern) & set("*?[") and not uris.is_file(pattern):  # a folder: its shards
            glob = pattern.rstrip("/") + "/" + RECORD_SUFFIX
        found = uris.glob(glob)
        if not found:
            raise ValueError(f"no TFRecord files match {pattern!r} (looked for {glob!r}); "
                             "expected a glob such as OUT/gen-RUN/eval/*.tfrecord or a folder of shards")
        files += [f for f in found if f not in files]
    return files


def read_examples(patterns: str | Sequence[str], *, limit: int = 0) -> Iterator[Example]:
    """Parse every record (or the first ``limit``), one from each shard in turn.

    Raises:
        ValueError: no file matches, or a record is damaged (the file and offset are named).
    """
    files = match_files(patterns)
    logger.info("Reading %d TFRecord file(s): %s%s", len(files), files[0], " ..." if len(files) > 1 else "")
    count = 0
    for start in range(0, len(files), MAX_OPEN):
        group = files[start:start + MAX_OPEN]
        with ExitStack() as stack:
            readers = [(f, iter_records(stack.enter_context(uris.open_read(f)), f)) for f in group]
            while readers:
                still = []
                for name, records in readers:
                    try:
                        serialized = next(records, None)
                        if serialized is None:
                            continue
                        features = parse_example(serialized)
                    except RecordError as err:
                        raise ValueError(f"unreadable record in {name}: {err}") from err
                    yield example_from_features(name, serialized, lambda k: features.get(k, []))
                    count += 1
                    if limit and count >= limit:
                        return
                    still.append((name, records))
                readers = still
