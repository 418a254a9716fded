"""Content hashes and hash chains, shared by every append-only record with a chain: the audit
trail (``core/chain.py``) and the evidence lists of enforcement cases.

Pure: no Django. A record's *canonical form* is a JSON object, keys sorted, no spaces, UTF-8,
with values as any database returns them (an integral float is an int) and times as naive UTC
ISO strings to the microsecond; its hash is SHA-256 of that. A chain links each record to its
predecessor's hash; :func:`first_break` walks one and names the first link that does not hold.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["ChainBreak", "canonical", "first_break", "normal", "sha256_hex", "utc_iso"]


def normal(value: Any) -> Any:
    """JSON values as any database returns them: an integral float is an int (PostgreSQL's
    jsonb gives ``1e20`` back as ``100000000000000000000``)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {str(k): normal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normal(v) for v in value]
    return value


def utc_iso(value: dt.datetime | None) -> str | None:
    """A time as naive UTC ISO to the microsecond (``None`` stays ``None``)."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC)
    return value.replace(tzinfo=None).isoformat(timespec="microseconds")


def canonical(data: dict[str, Any]) -> bytes:
    """The canonical bytes of a JSON object."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    """The first link that does not hold: the record's key, ``content`` (its hash does not
    match what it holds) or ``link`` (it names another predecessor), and both hashes."""

    key: Any
    problem: str
    expected: str
    found: str


def first_break(
    records: Iterable[Any],
    *,
    key: Callable[[Any], Any],
    prev_of: Callable[[Any], str],
    hash_of: Callable[[Any], str],
    compute: Callable[[Any], str],
    start: str = "",
) -> tuple[int, str, ChainBreak | None]:
    """Walk ``records`` in chain order: (records checked, head hash, first break or None)."""
    previous, checked = start, 0
    for record in records:
        if prev_of(record) != previous:
            return checked, previous, ChainBreak(key(record), "link", previous, prev_of(record))
        computed = compute(record)
        if computed != hash_of(record):
            return checked, previous, ChainBreak(key(record), "content", hash_of(record), computed)
        previous = hash_of(record)
        checked += 1
    return checked, previous, None
