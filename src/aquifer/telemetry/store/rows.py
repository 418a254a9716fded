"""The readings on their way in: :class:`ReadingRow`, plain tuples, and their validation.

A row with an unknown element (not in :data:`aquifer.telemetry.elements.ELEMENTS`), a
non-finite value, a naive time or flags out of range is refused with a ``ValueError`` naming
its index, before anything is written. One fast pass accepts the usual batch; anything it does
not accept is checked row by row for the message.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aquifer.telemetry.elements import ELEMENTS

__all__ = ["FramePlain", "Plain", "ReadingRow", "validate", "validate_frames", "validate_tuples"]

#: A frame as received, for the raw-frame archive (:class:`~aquifer.telemetry.models.RawFrame`):
#: ``(device_id, protocol, received_at, observed_at or None, raw bytes, remote_addr)``.
FramePlain = tuple[int, str, datetime, datetime | None, bytes, str]

_MAX_FLAGS = 32767  # PositiveSmallIntegerField


@dataclass(frozen=True, slots=True)
class ReadingRow:
    """One reading on its way into the store (a protocol codec's output, resolved to a device)."""

    device_id: int
    element: str
    observed_at: datetime  # timezone-aware
    value: float
    flags: int = 0


#: A reading as plain fields: (device_id, element, observed_at, value, flags).
Plain = tuple[int, str, datetime, float, int]
_ELEMENT_KEYS = frozenset(ELEMENTS)
_INF = math.inf


def _check(i: int, device_id: Any, element: Any, observed_at: Any, value: Any, flags: Any) -> None:
    """Raise ``ValueError`` if one row is bad (``i``: its index, for the message)."""
    if element not in ELEMENTS:
        raise ValueError(f"row {i}: unknown element {element!r}")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"row {i}: value {value!r} is not a number")
    if not math.isfinite(value):
        raise ValueError(f"row {i}: value {value!r} is not finite")
    if not isinstance(observed_at, datetime) or observed_at.utcoffset() is None:
        raise ValueError(f"row {i}: observed_at {observed_at!r} is not a timezone-aware datetime")
    if isinstance(device_id, bool) or not isinstance(device_id, int):
        raise ValueError(f"row {i}: device_id {device_id!r} is not an integer")
    if not isinstance(flags, int) or not 0 <= flags <= _MAX_FLAGS:
        raise ValueError(f"row {i}: flags {flags!r} out of range 0..{_MAX_FLAGS}")


def validate(rows: Sequence[ReadingRow]) -> None:
    """Raise ``ValueError`` naming the first bad row (its index in ``rows``) and what is wrong."""
    try:  # one fast pass for the usual case; anything it does not accept is checked below
        if all(
            type(r) is ReadingRow
            and type(r.device_id) is int
            and r.element in _ELEMENT_KEYS
            and (type(r.value) is float or type(r.value) is int)
            and -_INF < r.value < _INF
            and type(r.flags) is int
            and 0 <= r.flags <= _MAX_FLAGS
            for r in rows
        ) and all(
            type(t) is datetime and t.utcoffset() is not None for t in {r.observed_at for r in rows}
        ):
            return
    except (TypeError, ValueError, AttributeError):
        pass
    for i, row in enumerate(rows):
        if not isinstance(row, ReadingRow):
            raise ValueError(f"row {i}: expected a ReadingRow, got {type(row).__name__}")
        _check(i, row.device_id, row.element, row.observed_at, row.value, row.flags)


def validate_tuples(rows: Sequence[Plain]) -> None:
    """:func:`validate` for plain tuples ``(device_id, element, observed_at, value, flags)``.

    One fast pass for the usual case (exact ``int`` / ``float`` types, each distinct time
    checked once); anything it does not accept is checked row by row for the message."""
    try:
        ok = all(
            type(d) is int
            and e in _ELEMENT_KEYS
            and (type(v) is float or type(v) is int)
            and -_INF < v < _INF
            and type(f) is int
            and 0 <= f <= _MAX_FLAGS
            for d, e, _t, v, f in rows
        ) and all(type(t) is datetime and t.utcoffset() is not None for t in {r[2] for r in rows})
    except (TypeError, ValueError):
        ok = False
    if ok:
        return
    for i, row in enumerate(rows):
        if not isinstance(row, tuple) or len(row) != 5:
            raise ValueError(
                f"row {i}: expected (device_id, element, observed_at, value, flags), "
                f"got {type(row).__name__}"
            )
        _check(i, *row)


def validate_frames(frames: Sequence[Any]) -> None:
    """Raise ``ValueError`` naming the first frame (its index) that is not a
    :data:`FramePlain`. One fast pass for the gateway's frames; the rest checked one by one
    for the message."""
    try:
        ok = all(
            type(d) is int
            and type(p) is str
            and 0 < len(p) <= 16
            and type(r) is datetime
            and r.utcoffset() is not None
            and (o is None or (type(o) is datetime and o.utcoffset() is not None))
            and type(raw) is bytes
            and raw
            and type(a) is str
            for d, p, r, o, raw, a in frames
        )
    except (TypeError, ValueError):  # not 6-tuples: found and named below
        ok = False
    if ok:
        return
    for i, f in enumerate(frames):
        if not isinstance(f, tuple) or len(f) != 6:
            raise ValueError(f"frame {i}: expected (device_id, protocol, received_at, "
                             "observed_at, raw, remote_addr)")  # fmt: skip
        device_id, protocol, received_at, observed_at, raw, remote = f
        if type(device_id) is not int:
            raise ValueError(f"frame {i}: device_id {device_id!r} is not an integer")
        if not isinstance(protocol, str) or not protocol or len(protocol) > 16:
            raise ValueError(f"frame {i}: protocol {protocol!r} is not a protocol name")
        for name, t in (("received_at", received_at), ("observed_at", observed_at)):
            if t is None and name == "observed_at":
                continue
            if not isinstance(t, datetime) or t.utcoffset() is None:
                raise ValueError(f"frame {i}: {name} {t!r} is not a timezone-aware datetime")
        if not isinstance(raw, bytes | bytearray) or not raw:
            raise ValueError(f"frame {i}: raw is not the frame's bytes")
        if not isinstance(remote, str):
            raise ValueError(f"frame {i}: remote_addr {remote!r} is not text")
