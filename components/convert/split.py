"""Stable ids and the train/eval split, both derived from an image's dataset-relative key.

Hashing the key (not drawing random numbers, not counting in run order) gives the same id and
the same split on every run and every runner. The split hashes the frame's group when the
format gives one (a SOLO sequence, the cameras of one capture: ``Frame.group``) and the image
key otherwise, so near-identical images of one group never straddle train and eval.
"""
from __future__ import annotations

import hashlib

SPLITS = ("train", "eval")
_BUCKETS = 10_000


def source_id(key: str) -> int:
    """A positive integer below 2**52 for ``image/source_id`` (exact in JSON and float64)."""
    digest = hashlib.sha256(b"source_id:" + key.encode("utf-8")).digest()
    return int.from_bytes(digest[:7], "big") % (2**52 - 1) + 1


def split_key(key: str, group: str | None) -> str:
    """What the split hashes: ``group`` when set, else the image key."""
    return f"group:{group}" if group is not None else key


def split_of(key: str, eval_pct: float) -> str:
    """``"eval"`` for about ``eval_pct`` percent of keys, ``"train"`` for the rest."""
    digest = hashlib.sha256(b"split:" + key.encode("utf-8")).digest()
    bucket = int.from_bytes(digest[:8], "big") % _BUCKETS
    return "eval" if bucket < round(eval_pct * _BUCKETS / 100) else "train"  # 100 % -> all eval
