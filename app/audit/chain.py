"""The hash chain's arithmetic: pure functions, no database.

A link binds one event row's content (its digest) to the link before it, so editing an
event changes its digest, deleting one leaves a link without its row, and editing or
deleting a link breaks the hashes of every link after it.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal

GENESIS = "0" * 64


def _canonical(value: object, naive_utc: bool = False) -> object:
    if isinstance(value, datetime) and naive_utc and value.utcoffset() == timedelta(0):
        return value.replace(tzinfo=None).isoformat()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, Mapping):
        return {str(k): _canonical(v, naive_utc) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v, naive_utc) for v in value]
    return value


def row_digest(row: Mapping[str, object], naive_utc: bool = False) -> str:
    """SHA-256 of the row's columns as canonical JSON (sorted keys, ISO dates, plain decimals).

    ``naive_utc`` writes UTC times without their offset: how rows sealed on SQLite before the
    time columns came back timezone-aware were digested. The same content, the same digest:
    verification accepts either form, and an edited row matches neither."""
    text = json.dumps(_canonical(row, naive_utc), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def link_hash(previous_hash: str, sequence: int, table: str, row_id: int, digest: str) -> str:
    """The hash of one link: everything it says, and the hash of the link before it."""
    return hashlib.sha256(f"{previous_hash}|{sequence}|{table}|{row_id}|{digest}".encode()).hexdigest()
