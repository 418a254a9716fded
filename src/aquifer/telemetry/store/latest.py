"""The latest reading of each series (:class:`~aquifer.telemetry.models.LatestReading`), kept
current by :func:`aquifer.telemetry.store.ingest` in the transaction that stores a batch.

Per batch: the newest non-rejected time of each (device, element) in it, computed here, then
one upsert per chunk that joins those keys to the stored readings (so the row carries the
stored value and id — the first value wins in the readings, and so here) and replaces a
series' row only with a later time. Keys go in one order, so concurrent batches lock the
rows in one order and never deadlock.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from aquifer.telemetry.models import LatestReading
from aquifer.telemetry.store.rows import Plain
from aquifer.telemetry.store.tables import _READING, _REJECTED

_LATEST = LatestReading._meta.db_table
_CHUNK = 2000
_UPSERT = (
    "INSERT INTO {latest} (device_id, element, first_observed_at, observed_at, value, "
    "reading_id) SELECT r.device_id, r.element, r.observed_at, r.observed_at, r.value, r.id "
    "FROM ({values}) AS v JOIN {reading} AS r ON r.device_id = v.d AND r.element = v.e "
    "AND r.observed_at = v.t WHERE r.flags & {rejected} = 0 ORDER BY 1, 2 "
    "ON CONFLICT (device_id, element) DO UPDATE SET observed_at = excluded.observed_at, "
    "value = excluded.value, reading_id = excluded.reading_id "
    "WHERE excluded.observed_at > {latest}.observed_at"
)


def newest(rows: Sequence[Plain]) -> list[tuple[int, str, datetime]]:
    """The newest non-rejected time per (device, element) of ``rows``, in key order."""
    out: dict[tuple[int, str], datetime] = {}
    for d, e, t, _v, f in rows:
        if f & _REJECTED:
            continue
        key = (d, e)
        seen = out.get(key)
        if seen is None or t > seen:
            out[key] = t
    return [(d, e, t) for (d, e), t in sorted(out.items())]


def update_latest(
    cursor: Any, rows: Sequence[Plain], texts: dict[datetime, str] | None = None
) -> None:
    """Upsert the latest readings of ``rows`` (already stored, same transaction). ``texts``:
    SQLite's stored text of each time (as the readings were written)."""
    keys = newest(rows)
    sqlite = texts is not None
    for i in range(0, len(keys), _CHUNK):
        chunk = keys[i : i + _CHUNK]
        if sqlite:
            assert texts is not None
            values = "SELECT column1 AS d, column2 AS e, column3 AS t FROM (VALUES {})".format(
                ", ".join(["(%s, %s, %s)"] * len(chunk))
            )
            params: list[Any] = [x for d, e, t in chunk for x in (d, e, texts[t])]
        else:
            values = "VALUES {}".format(
                ", ".join(["(%s::bigint, %s::varchar, %s::timestamptz)"] * len(chunk))
            )
            values = f"SELECT * FROM ({values}) AS v0(d, e, t)"
            params = [x for key in chunk for x in key]
        cursor.execute(
            _UPSERT.format(latest=_LATEST, reading=_READING, values=values, rejected=_REJECTED),
            params,
        )
