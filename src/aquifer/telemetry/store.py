"""Writing readings: the bulk, idempotent, durable ingest path (and the quarantine).

:func:`ingest` stores a batch of :class:`ReadingRow` and returns how many were new::

    n = ingest([ReadingRow(device.pk, "depth_to_water", observed_at, 12.34)])

- **Validated first.** A row with an unknown element (not in
  :data:`aquifer.telemetry.elements.ELEMENTS`), a non-finite value, a naive time or flags out
  of range is refused with a ``ValueError`` naming its index, before anything is written.
  A device id that does not exist fails the foreign key: ``IntegrityError``, nothing written.
- **Idempotent.** ``UNIQUE (device, element, observed_at)`` and ``ON CONFLICT DO NOTHING``:
  a resent reading is stored once (the first value wins); a full resend returns 0.
- **Bulk.** One transaction per batch. SQLite: ``executemany`` of ``INSERT … ON CONFLICT DO
  NOTHING`` (in batch order: of two rows with one key the first is kept). PostgreSQL: binary
  ``COPY`` straight into the readings inside a savepoint; only when that meets a reading
  stored before (a resend), the savepoint is rolled back and the batch is copied into a
  session-local staging table and inserted with ``INSERT … SELECT … ON CONFLICT DO
  NOTHING`` (both in one key order, so concurrent batches never deadlock).
- **Rollups after the commit.** The hourly and daily rollups are not touched by ingest:
  :func:`refresh_rollups` merges every reading above a watermark (``RollupWatermark``, a
  reading id) into them in large chunks and moves the watermark in the same transaction —
  exactly once, and 3–4 times cheaper per reading than merging each small batch in the
  commit a device waits for. It runs on a thread of the gateway's writer process beside the
  batches, as the ``telemetry.rollups`` job, and first in every job that reads the rollups.
  On SQLite a slice's groups are computed outside the write transaction and merged in a
  short one, only if the watermark did not move meanwhile (its generation). Readers
  that must be current to the last reading (the chart series) add the readings above the
  watermark themselves (:func:`rollup_tail`), as TimescaleDB's real-time aggregates add the
  not yet materialised rows. SQLite: the readings above the watermark are those with an id
  up to the largest (one writer; AUTOINCREMENT never reuses an id). PostgreSQL: ids come
  from a sequence and batches commit out of order, so every ingest holds a shared advisory
  lock (the fence) while it inserts, and the refresh takes it exclusively for a moment to
  learn the id below which everything is settled.
- **Plain tuples.** :func:`ingest_tuples` takes ``(device_id, element, observed_at, value,
  flags)`` tuples (the gateway's writer process): the same checks (one fast pass, then row by
  row for the message), without a :class:`ReadingRow` per reading.
- **Durable on return.** The transaction is ``atomic(durable=True)``: calling ingest inside
  another atomic block is an error (outside tests), because its commit would be the caller's.
  When ingest returns, the rows are committed and a device may be acknowledged.

  PostgreSQL commits with ``synchronous_commit = on`` (the default): the WAL is flushed to
  disk before COMMIT returns, so an acknowledged batch survives a process kill and a power
  loss. SQLite runs in WAL mode with ``synchronous=FULL`` by default (settings,
  ``AQUIFER_SQLITE_SYNCHRONOUS``): COMMIT fsyncs the ``-wal`` file, so an acknowledged batch
  survives a power loss too (one fsync per batch: group commit keeps it cheap). With
  ``NORMAL`` a process crash still loses nothing committed, but a power loss or OS crash can
  roll back the last transactions.
- **Any thread.** The gateway calls it through ``asyncio.to_thread``. It uses the calling
  thread's Django connection and, outside an atomic block, calls ``close_old_connections()``
  before (a connection broken or past ``CONN_MAX_AGE`` since the last batch is replaced) and
  after (as at the end of a request), so worker threads never keep dead or stale connections.
  On SQLite it only replaces a broken connection: there CONN_MAX_AGE is 0, and closing the
  last connection to the file checkpoints the WAL — about 5 ms a batch
  (:func:`_tidy_connection`).
"""

from __future__ import annotations

import math
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo
from datetime import time as dtime
from typing import Any, Literal, TypeVar

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import F
from django.utils import timezone

from aquifer.telemetry.elements import ELEMENTS
from aquifer.telemetry.models import (
    QuarantinedFrame,
    QuarantineKind,
    Reading,
    ReadingDaily,
    ReadingFlag,
    ReadingHourly,
    RollupWatermark,
)

__all__ = [
    "ROLLUP_CHUNK_ROWS",
    "ROLLUP_MAX_LAG_S",
    "ROLLUP_SLICE_ROWS",
    "Mark",
    "ReadingRow",
    "RefreshStep",
    "TailBucket",
    "bucket_end",
    "bucket_start",
    "checkpoint_wal",
    "ingest",
    "ingest_tuples",
    "manual_checkpoints",
    "quarantine",
    "rebuild_rollups",
    "refresh_rollups",
    "refresh_step",
    "rollup_backlog",
    "rollup_mark",
    "rollup_max_lag_s",
    "rollup_tail",
    "rollup_watermark",
    "validate",
    "validate_tuples",
]

Resolution = Literal["hourly", "daily"]
_T = TypeVar("_T")
_HOUR = timedelta(hours=1)
_MAX_FLAGS = 32767  # PositiveSmallIntegerField
_REJECTED = int(ReadingFlag.REJECTED)


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


# --- Buckets ----------------------------------------------------------------------------------


def _tz() -> tzinfo:
    return timezone.get_default_timezone()


def bucket_start(ts: datetime, resolution: Resolution, tz: tzinfo | None = None) -> datetime:
    """The start (UTC) of the local-time hour or day that contains ``ts``."""
    local = ts.astimezone(tz or _tz())
    if resolution == "hourly":
        local = local.replace(minute=0, second=0, microsecond=0)
    else:
        local = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return local.astimezone(UTC)


def bucket_end(start: datetime, resolution: Resolution, tz: tzinfo | None = None) -> datetime:
    """The end (UTC, exclusive) of the bucket that starts at ``start``."""
    if resolution == "hourly":
        return start + _HOUR
    tz = tz or _tz()
    day = start.astimezone(tz).date() + timedelta(days=1)
    return datetime.combine(day, dtime(0), tzinfo=tz).astimezone(UTC)


# --- Rollup merging ---------------------------------------------------------------------------
#
# A rollup row is [n, min, max, sum, first, last, first_at, last_at]. Only the readings a batch
# actually added (ON CONFLICT DO NOTHING decided that) are merged into the stored rows, so a
# resend changes nothing and every reading is counted exactly once.

Agg = list[Any]
N, MIN, MAX, SUM, FIRST, LAST, FIRST_AT, LAST_AT = range(8)


def _merge_value(agg: Agg | None, value: float, at: Any) -> Agg:
    if agg is None:
        return [1, value, value, value, value, value, at, at]
    agg[N] += 1
    if value < agg[MIN]:
        agg[MIN] = value
    if value > agg[MAX]:
        agg[MAX] = value
    agg[SUM] += value
    if at < agg[FIRST_AT]:
        agg[FIRST], agg[FIRST_AT] = value, at
    if at > agg[LAST_AT]:
        agg[LAST], agg[LAST_AT] = value, at
    return agg


def _merge_agg(agg: Agg | None, part: Agg) -> Agg:
    if agg is None:
        return list(part)
    agg[N] += part[N]
    agg[MIN] = min(agg[MIN], part[MIN])
    agg[MAX] = max(agg[MAX], part[MAX])
    agg[SUM] += part[SUM]
    if part[FIRST_AT] < agg[FIRST_AT]:
        agg[FIRST], agg[FIRST_AT] = part[FIRST], part[FIRST_AT]
    if part[LAST_AT] > agg[LAST_AT]:
        agg[LAST], agg[LAST_AT] = part[LAST], part[LAST_AT]
    return agg


def _rollups(
    items: Iterable[tuple[int, str, Any, Any, Any, float]],
) -> tuple[dict[tuple[int, str, Any], Agg], dict[tuple[int, str, Any], Agg]]:
    """Hourly and daily aggregates of ``(device, element, hour, day, at, value)`` items."""
    hourly: dict[tuple[int, str, Any], Agg] = {}
    day_of: dict[tuple[int, str, Any], Any] = {}
    for device, element, hour, day, at, value in items:
        key = (device, element, hour)
        hourly[key] = _merge_value(hourly.get(key), value, at)
        day_of[key] = day
    daily: dict[tuple[int, str, Any], Agg] = {}
    for key, agg in hourly.items():
        dkey = (key[0], key[1], day_of[key])
        daily[dkey] = _merge_agg(daily.get(dkey), agg)
    return hourly, daily


# --- Backends ---------------------------------------------------------------------------------

_READING = Reading._meta.db_table
_HOURLY = ReadingHourly._meta.db_table
_DAILY = ReadingDaily._meta.db_table
_ROLLUP_COLS = (
    'device_id, element, bucket, "n", "min", "max", "sum", "first", "last", first_at, last_at'
)


def _merge_sql(table: str) -> str:
    """``ON CONFLICT`` clause merging a new partial aggregate (``excluded``) into a stored row."""
    t = table
    return (
        "ON CONFLICT (device_id, element, bucket) DO UPDATE SET "
        f'"n" = {t}."n" + excluded."n", '
        f'"min" = CASE WHEN excluded."min" < {t}."min" THEN excluded."min" ELSE {t}."min" END, '
        f'"max" = CASE WHEN excluded."max" > {t}."max" THEN excluded."max" ELSE {t}."max" END, '
        f'"sum" = {t}."sum" + excluded."sum", '
        f'"first" = CASE WHEN excluded.first_at < {t}.first_at '
        f'THEN excluded."first" ELSE {t}."first" END, '
        f"first_at = CASE WHEN excluded.first_at < {t}.first_at "
        f"THEN excluded.first_at ELSE {t}.first_at END, "
        f'"last" = CASE WHEN excluded.last_at > {t}.last_at '
        f'THEN excluded."last" ELSE {t}."last" END, '
        f"last_at = CASE WHEN excluded.last_at > {t}.last_at "
        f"THEN excluded.last_at ELSE {t}.last_at END"
    )


_SQLITE_BUCKETS = "aquifer_reading_bucket"
_SQLITE_ROWS = "aquifer_rollup_rows"
_SQLITE_HOURS = "aquifer_rollup_hours"


def _sqlite_value_at(column: str) -> str:
    """SQLite: the value of the reading at time ``g.<column>`` of group ``g``: a group of one
    reading has it as its min; otherwise it is looked up on the readings' unique index."""
    return (
        f"CASE WHEN g.n = 1 THEN g.mn ELSE (SELECT x.value FROM {_READING} AS x "
        f"WHERE x.device_id = g.device_id AND x.observed_at = g.{column} "
        "AND x.element = g.element) END"
    )


_WATERMARK = RollupWatermark._meta.db_table
_MAX_ID = f"SELECT coalesce(max(id), 0) FROM {_READING}"


def _buckets_of(times: Iterable[datetime], dt: Callable[[datetime], Any]) -> list[tuple[Any, Any]]:
    """(local hour start, local day start) of each time, as ``dt`` makes them (SQLite:
    Django's UTC text), each hour and day computed once (any ``TIME_ZONE``)."""
    tz = _tz()
    hours: dict[tuple[Any, ...], Any] = {}  # local (date, hour, fold) -> hour start
    days: dict[Any, Any] = {}  # local date -> day start
    out = []
    for ts in times:
        local = ts.astimezone(tz)
        date = local.date()
        hour = hours.get(hkey := (date, local.hour, local.fold))
        if hour is None:
            hour = hours[hkey] = dt(bucket_start(local, "hourly", tz))
        day = days.get(date)
        if day is None:
            day = days[date] = dt(bucket_start(local, "daily", tz))
        out.append((hour, day))
    return out


class _SQLite:
    """SQLite: one writer at a time (BEGIN IMMEDIATE); times are UTC text, as Django writes.

    Ingest is one ``executemany`` of ``INSERT … ON CONFLICT DO NOTHING`` (rows in batch
    order, so of two rows with the same key the first is kept). The rollup merge takes the
    readings by id above the watermark: SQLite has one writer, and AUTOINCREMENT never reuses
    an id, so every id up to the largest one visible is committed.
    """

    INSERT = (
        f"INSERT INTO {_READING} (device_id, element, observed_at, value, flags, received_at) "
        "VALUES (%s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (device_id, element, observed_at) DO NOTHING"
    )
    TEXT_TIMES = True  # observed_at is bound as Django's text form
    BUCKETS = _SQLITE_BUCKETS
    CREATE_BUCKETS = (
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {BUCKETS} "
        "(t datetime PRIMARY KEY, hour datetime NOT NULL, day datetime NOT NULL) WITHOUT ROWID"
    )
    CLEAR_BUCKETS = f"DELETE FROM temp.{BUCKETS}"
    FILL_BUCKETS = f"INSERT INTO temp.{BUCKETS} (t, hour, day) VALUES (%s, %s, %s)"
    ID_RANGE_HINT = " NOT INDEXED"  # walk the id range, not an index of the other columns
    # A merge: the slice's usable readings copied once (one walk of the window's id range,
    # NOT INDEXED), each distinct time's hour and day from Python, the hourly groups (with
    # their first and last values) into a temporary table; then the hourly rollup merged
    # from it, and the daily one from its groups by day.
    CREATE_ROWS = (
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {_SQLITE_ROWS} "
        "(device_id integer, element text, observed_at datetime, value real)"
    )
    CLEAR_ROWS = f"DELETE FROM temp.{_SQLITE_ROWS}"
    FILL_ROWS = (
        f"INSERT INTO temp.{_SQLITE_ROWS} SELECT device_id, element, observed_at, value "
        f"FROM {_READING} NOT INDEXED WHERE id > %s AND id <= %s AND device_id >= %s "
        f"AND device_id < %s AND (flags & {_REJECTED}) = 0"
    )
    # As stored (text: CAST keeps Django from parsing it into a datetime).
    TIMES = f"SELECT DISTINCT CAST(observed_at AS TEXT) FROM temp.{_SQLITE_ROWS}"
    CREATE_HOURS = (
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {_SQLITE_HOURS} (device_id integer, "
        "element text, hour datetime, day datetime, n integer, mn real, mx real, s real, "
        "f real, l real, fa datetime, la datetime, PRIMARY KEY (device_id, element, hour)) "
        "WITHOUT ROWID"
    )
    CLEAR_HOURS = f"DELETE FROM temp.{_SQLITE_HOURS}"
    FILL_HOURS = (
        f"INSERT INTO temp.{_SQLITE_HOURS} SELECT g.device_id, g.element, g.hour, g.day, g.n, "
        f"g.mn, g.mx, g.s, {_sqlite_value_at('fa')}, {_sqlite_value_at('la')}, g.fa, g.la "
        "FROM (SELECT r.device_id, r.element, k.hour, k.day, count(*) AS n, "
        "min(r.value) AS mn, max(r.value) AS mx, sum(r.value) AS s, "
        "min(r.observed_at) AS fa, max(r.observed_at) AS la "
        # CROSS JOIN keeps the order rows → buckets (t has observed_at's affinity: its key
        # is used); day depends on hour alone.
        f"FROM temp.{_SQLITE_ROWS} AS r CROSS JOIN temp.{BUCKETS} AS k "
        "ON k.t = r.observed_at GROUP BY r.device_id, r.element, k.hour) AS g"
    )
    MERGE_HOURLY = (
        f"INSERT INTO {_HOURLY} ({_ROLLUP_COLS}) SELECT device_id, element, hour, n, mn, mx, "
        f"s, f, l, fa, la FROM temp.{_SQLITE_HOURS} WHERE true {_merge_sql(_HOURLY)}"
    )
    # A day's first reading is its first hour's, its last its last hour's: looked up on the
    # hours' key (by the time of the first or last reading it would scan every hour of the
    # series in the slice, per day: quadratic in a long backfill of one series).
    MERGE_DAILY = (
        f"INSERT INTO {_DAILY} ({_ROLLUP_COLS}) SELECT g.device_id, g.element, g.day, g.n, "
        f"g.mn, g.mx, g.s, (SELECT h.f FROM temp.{_SQLITE_HOURS} AS h "
        "WHERE h.device_id = g.device_id AND h.element = g.element AND h.hour = g.h0), "
        f"(SELECT h.l FROM temp.{_SQLITE_HOURS} AS h WHERE h.device_id = g.device_id "
        "AND h.element = g.element AND h.hour = g.h1), g.fa, g.la "
        "FROM (SELECT device_id, element, day, sum(n) AS n, min(mn) AS mn, max(mx) AS mx, "
        "sum(s) AS s, min(fa) AS fa, max(la) AS la, min(hour) AS h0, max(hour) AS h1 "
        f"FROM temp.{_SQLITE_HOURS} GROUP BY device_id, element, day) AS g "
        f"WHERE true {_merge_sql(_DAILY)}"
    )

    @staticmethod
    def dt(ts: datetime) -> str:
        """As Django's SQLite backend stores an aware datetime (naive UTC, ``str()``)."""
        return str(ts.astimezone(UTC).replace(tzinfo=None))

    # A connection that ingests keeps the pages it touches in memory: every series' last
    # index page, the current hour's and day's rollup rows (10,000 series: ~60 MB; SQLite's
    # default cache is 2 MB, and reading a page back from the OS costs a system call).
    CACHE_KIB = 98304

    def _tune(self, cursor: Any) -> None:
        raw = connection.connection
        if getattr(connection, "_aquifer_tuned", None) is not raw:  # (no weakref to it)
            cursor.execute(f"PRAGMA cache_size = -{self.CACHE_KIB}")
            if _CHECKPOINTS.manual:
                cursor.execute("PRAGMA wal_autocheckpoint")
                (pages,) = cursor.fetchone()
                if pages > 0:  # the settings' threshold, now checkpoint_wal's
                    _CHECKPOINTS.pages = int(pages)
                cursor.execute("PRAGMA wal_autocheckpoint = 0")
            connection._aquifer_tuned = raw  # type: ignore[attr-defined]

    def ingest(self, cursor: Any, rows: Sequence[Plain], texts: dict[datetime, str],
               received_at: datetime) -> int:  # fmt: skip
        self._tune(cursor)
        received = self.dt(received_at)
        cursor.executemany(
            self.INSERT, [(d, e, texts[t], v, f, received) for d, e, t, v, f in rows]
        )
        return int(cursor.rowcount)

    def settled(self, cursor: Any) -> int:
        """The highest reading id below which every reading is committed: the largest
        committed id (one writer at a time, and AUTOINCREMENT: a batch committing later
        takes ids above it)."""
        cursor.execute(_MAX_ID)
        return int(cursor.fetchone()[0])

    def prepare(self, cursor: Any, low: int, high: int, first: int, end: int) -> None:
        """The hourly groups of the readings with ids in (low, high] of devices in
        [first, end), in this connection's temporary tables: reads the
        readings only: outside a caller's transaction, in a deferred one of its own, which
        writes the temporary tables only and so takes no write lock on the database (one
        transaction: otherwise each row of an ``executemany`` would commit on its own)."""
        own = not connection.in_atomic_block
        if own:
            cursor.execute("BEGIN DEFERRED")
        try:
            for create, clear in (
                (self.CREATE_ROWS, self.CLEAR_ROWS),
                (self.CREATE_BUCKETS, self.CLEAR_BUCKETS),
                (self.CREATE_HOURS, self.CLEAR_HOURS),
            ):
                cursor.execute(create)
                cursor.execute(clear)
            cursor.execute(self.FILL_ROWS, [low, high, first, end])
            cursor.execute(self.TIMES)
            texts = [t for (t,) in cursor.fetchall()]
            cursor.executemany(self.FILL_BUCKETS, self._buckets(texts))
            cursor.execute(self.FILL_HOURS)
        except BaseException:
            if own:
                with suppress(Exception):  # the error raised is the one to see
                    cursor.execute("ROLLBACK")
            raise
        if own:
            cursor.execute("COMMIT")

    # Stored time text -> (local hour start, local day start) as stored, in the zone of
    # _bucket_zone: the slices of a window, and the windows of a backfill, meet the same
    # times again.
    _bucket_cache: dict[str, tuple[str, str]] = {}
    _bucket_zone: tzinfo | None = None
    BUCKET_CACHE_SIZE = 200_000

    def _buckets(self, texts: list[str]) -> list[tuple[str, str, str]]:
        """(time, local hour start, local day start) of each stored time text."""
        cache, tz = self._bucket_cache, _tz()
        if _SQLite._bucket_zone != tz or len(cache) > self.BUCKET_CACHE_SIZE:
            cache.clear()
            _SQLite._bucket_zone = tz
        missing = [t for t in texts if t not in cache]
        if missing:
            found = _buckets_of([_from_text(t) for t in missing], self.dt)
            cache.update(zip(missing, found, strict=True))
        return [(t, *cache[t]) for t in texts]

    def apply(self, cursor: Any) -> None:
        """Merge the groups :meth:`prepare` made into both rollups (in a write transaction)."""
        cursor.execute(self.MERGE_HOURLY)
        cursor.execute(self.MERGE_DAILY)


def _from_text(value: Any) -> datetime:
    """A stored SQLite time (naive UTC text) as an aware datetime."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


def _index_order(row: Plain) -> tuple[Any, Any, Any]:
    """The order both PostgreSQL paths insert in: device, time, element (code points, as
    ``COLLATE "C"``)."""
    return row[0], row[2], row[1]


class _Postgres:
    """PostgreSQL: binary COPY straight into the readings (the fast path), or, when a batch
    holds a reading stored before, COPY into a staging table and one ``INSERT … SELECT … ON
    CONFLICT DO NOTHING``; the rollup merge aggregates an id range of the readings in SQL.

    Both paths insert in one key order (device, time, element by code point: Python's
    ``sorted``, ``COLLATE "C"``). Two concurrent batches meeting on a key wait for each
    other, and waiting in one order only, they never deadlock, whatever order their devices
    sent them in.

    Ids come from a sequence and concurrent batches commit out of id order, so the merge
    first makes sure every id up to its range's end is settled (committed or rolled back):
    each ingest holds a shared advisory lock (the *fence*) from before its insert takes ids
    until it commits; :meth:`settled` takes it exclusively for a moment — every batch
    inserting then has committed, every later one takes ids above the largest it reads.
    """

    TEXT_TIMES = False
    FENCE = (0x41515246, 0)  # "AQRF": held shared by every ingest, exclusively by settled()
    TAKE_FENCE = f"SELECT pg_advisory_xact_lock_shared({FENCE[0]}, {FENCE[1]})"

    # The fast path. A conflict raises UniqueViolation: the savepoint is rolled back (the
    # rows copied so far with it) and the batch takes the slow path.
    SAVEPOINT = "aquifer_ingest_copy"
    COPY_READINGS = (
        f"COPY {_READING} (device_id, element, observed_at, value, flags, received_at) "
        "FROM STDIN (FORMAT BINARY)"
    )
    COPY_READING_TYPES = ("int8", "varchar", "timestamptz", "float8", "int2", "timestamptz")
    #: After a batch that held a stored reading, this many batches (of this process) take
    #: the slow path straight away: a device resending its history sends many such batches,
    #: and a failed COPY costs about a batch.
    SLOW_AFTER_CONFLICT = 16
    _slow_left = 0

    # The slow path.
    STAGE = "aquifer_reading_stage"
    CREATE_STAGE = (
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGE} (device_id bigint NOT NULL, "
        "element varchar(32) NOT NULL, observed_at timestamptz NOT NULL, "
        "value double precision NOT NULL, flags smallint NOT NULL) ON COMMIT DELETE ROWS"
    )
    COPY = (
        f"COPY {STAGE} (device_id, element, observed_at, value, flags) FROM STDIN (FORMAT BINARY)"
    )
    COPY_TYPES = ("int8", "varchar", "timestamptz", "float8", "int2")
    INGEST = (
        f"{TAKE_FENCE}; "
        f"INSERT INTO {_READING} (device_id, element, observed_at, value, flags, received_at) "
        f"SELECT device_id, element, observed_at, value, flags, %(now)s FROM {STAGE} "
        'ORDER BY device_id, observed_at, element COLLATE "C" '
        "ON CONFLICT (device_id, element, observed_at) DO NOTHING"
    )
    CLEAR_STAGE = f"DELETE FROM {STAGE}"
    # Connections (psycopg objects) on which the staging table exists.
    _staged: weakref.WeakSet[Any] = weakref.WeakSet()

    # Aggregate an id range of the readings per hour (hp); merge those into the hourly
    # rollup and, grouped by day, into the daily one.
    MERGE = (
        "WITH hp AS (SELECT device_id, element, date_trunc('hour', observed_at, %(tz)s) AS hour, "
        "count(*) AS n, min(value) AS mn, max(value) AS mx, sum(value) AS s, "
        "(array_agg(value ORDER BY observed_at))[1] AS f, "
        "(array_agg(value ORDER BY observed_at DESC))[1] AS l, "
        "min(observed_at) AS fa, max(observed_at) AS la "
        f"FROM {_READING} WHERE id > %(low)s AND id <= %(high)s "
        f"AND device_id >= %(first)s AND device_id < %(end)s AND flags & {_REJECTED} = 0 "
        "GROUP BY 1, 2, 3), "
        f"h AS (INSERT INTO {_HOURLY} ({_ROLLUP_COLS}) "
        "SELECT device_id, element, hour, n, mn, mx, s, f, l, fa, la FROM hp "
        f"ORDER BY 1, 2, 3 {_merge_sql(_HOURLY)}) "
        f"INSERT INTO {_DAILY} ({_ROLLUP_COLS}) "
        "SELECT device_id, element, date_trunc('day', hour, %(tz)s) AS day, sum(n), min(mn), "
        "max(mx), sum(s), (array_agg(f ORDER BY fa))[1], (array_agg(l ORDER BY la DESC))[1], "
        f"min(fa), max(la) FROM hp GROUP BY 1, 2, 3 ORDER BY 1, 2, 3 {_merge_sql(_DAILY)}"
    )

    def ingest(self, cursor: Any, rows: Sequence[Plain], texts: dict[datetime, str],
               received_at: datetime) -> int:  # fmt: skip
        # Duplicates within the batch are dropped here, the first kept: one INSERT cannot
        # be relied on to keep the first of two conflicting rows.
        batch = {(r[0], r[1], r[2]): r for r in reversed(rows)}
        unique = list(batch.values()) if len(batch) < len(rows) else rows
        if _Postgres._slow_left > 0:
            _Postgres._slow_left -= 1
        elif self._copy_fresh(cursor, unique, received_at):
            return len(unique)
        else:
            _Postgres._slow_left = self.SLOW_AFTER_CONFLICT
        return self._insert_new(cursor, unique, received_at)

    def _copy_fresh(self, cursor: Any, rows: Sequence[Plain], received_at: datetime) -> bool:
        """The fast path: COPY ``rows`` into the readings in the key order of both paths
        (:func:`_index_order`), inside a savepoint; False (and nothing written) when one of
        them was stored already."""
        from psycopg.errors import UniqueViolation

        raw = cursor.cursor
        raw.execute(f"{self.TAKE_FENCE}; SAVEPOINT {self.SAVEPOINT}")
        try:
            with raw.copy(self.COPY_READINGS) as copy:
                copy.set_types(self.COPY_READING_TYPES)
                write = copy.write_row
                for d, e, t, v, f in sorted(rows, key=_index_order):
                    write((d, e, t, float(v), f, received_at))
        except UniqueViolation:
            raw.execute(f"ROLLBACK TO SAVEPOINT {self.SAVEPOINT}")
            return False
        raw.execute(f"RELEASE SAVEPOINT {self.SAVEPOINT}")
        return True

    def _insert_new(self, cursor: Any, rows: Sequence[Plain], received_at: datetime) -> int:
        """The slow path: the rows not stored yet; how many."""
        raw = connection.connection
        if raw not in self._staged:
            # Created inside the transaction: it only exists once that commits.
            cursor.execute(self.CREATE_STAGE)
            transaction.on_commit(lambda: self._staged.add(raw))
        with cursor.cursor.copy(self.COPY) as copy:
            copy.set_types(self.COPY_TYPES)
            write = copy.write_row
            for d, e, t, v, f in rows:
                write((d, e, t, float(v), f))
        cursor.execute(self.INGEST, {"now": received_at})
        cursor.nextset()
        inserted = int(cursor.rowcount)
        if connection.savepoint_ids:
            # Nested in a caller's transaction (tests): ON COMMIT DELETE ROWS will not run.
            cursor.execute(self.CLEAR_STAGE)
        return inserted

    def settled(self, cursor: Any) -> int:
        """The highest reading id below which every reading is committed or rolled back.

        The fence is a session lock, released at once whatever transaction the caller is
        in: it waits for the batches inserting now to commit and holds the next ones back
        only for the one read (READ COMMITTED: the read sees every batch committed before).
        """
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", list(self.FENCE))
        try:
            cursor.execute(_MAX_ID)
            return int(cursor.fetchone()[0])
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", list(self.FENCE))

    ID_RANGE_HINT = ""

    def merge(self, cursor: Any, low: int, high: int, first: int, end: int) -> None:
        params = {"low": low, "high": high, "first": first, "end": end}
        cursor.execute(self.MERGE, params | {"tz": settings.TIME_ZONE})


def _backend() -> _SQLite | _Postgres:
    if connection.vendor == "sqlite":
        return _SQLite()
    if connection.vendor == "postgresql":
        return _Postgres()
    raise NotImplementedError(f"the readings store does not support {connection.vendor}")


def _tidy_connection() -> None:
    """Replace the thread's connection if it broke (or, on a server, outlived CONN_MAX_AGE).

    SQLite is a file, not a server: its connections do not time out, and closing the last one
    checkpoints the WAL into the database file — about 5 ms, more than inserting the batch.
    So a worker thread keeps its SQLite connection across batches (whatever CONN_MAX_AGE
    says, which is 0 for SQLite in settings) and only drops one that is no longer usable.
    """
    if connection.vendor != "sqlite":
        close_old_connections()
    elif connection.connection is not None and connection.errors_occurred:
        if connection.is_usable():
            connection.errors_occurred = False
        else:
            connection.close()


@contextmanager
def _worker_connection() -> Iterator[None]:
    """Connection hygiene for callers outside the request cycle (gateway worker threads)."""
    managed = not connection.in_atomic_block
    if managed:
        _tidy_connection()
    try:
        yield
    finally:
        if managed:
            _tidy_connection()


# --- Public API -------------------------------------------------------------------------------


def ingest(rows: Sequence[ReadingRow]) -> int:
    """Store ``rows`` once each, merge the new ones into the rollups, commit; return how many
    rows were new."""
    validate(rows)
    return _ingest([(r.device_id, r.element, r.observed_at, r.value, r.flags) for r in rows])


def ingest_tuples(rows: Sequence[Plain]) -> int:
    """:func:`ingest` for plain tuples ``(device_id, element, observed_at, value, flags)``:
    the same validation, idempotency, rollups and durable commit, without building a
    :class:`ReadingRow` per reading (the gateway's writer process calls this)."""
    validate_tuples(rows)
    return _ingest(rows)


def _ingest(rows: Sequence[Plain]) -> int:
    if not rows:
        return 0
    backend = _backend()
    # Each distinct time converted once (a batch of reports shares a few times).
    texts = {t: _SQLite.dt(t) for t in {r[2] for r in rows}} if backend.TEXT_TIMES else {}
    with _worker_connection(), _writes(backend):
        received_at = timezone.now()
        with transaction.atomic(durable=True), connection.cursor() as cursor:
            return backend.ingest(cursor, rows, texts, received_at)


#: SQLite has one writer at a time. The threads of one process that write readings or
#: rollups (the gateway's writer process: ingest, and the rollup merge beside it) take
#: turns on this lock instead of on SQLite's busy handler, which sleeps 1, 2, 5, 10 … ms
#: between tries however soon the lock is free.
_SQLITE_WRITES = threading.Lock()


@dataclass
class _Checkpoints:
    manual: bool = False
    pages: int = 20_000


_CHECKPOINTS = _Checkpoints()


def manual_checkpoints() -> None:
    """SQLite: from now on, the connections of this process that ingest or merge rollups do
    not checkpoint the WAL when they commit; :func:`checkpoint_wal` does, beside them (the
    gateway's writer process). Without it, the commit that takes the WAL past
    ``wal_autocheckpoint`` pages copies it into the database file and syncs that before it
    returns: ~75 ms more for that batch, the acknowledgements' longest wait."""
    _CHECKPOINTS.manual = True


def checkpoint_wal(pages: int | None = None) -> tuple[int, int]:
    """SQLite: copy the WAL into the database file while the writers go on (a PASSIVE
    checkpoint: it copies what was committed when it started, and syncs the file). Once the
    WAL holds ``pages`` frames or more (default: the ``wal_autocheckpoint`` of the settings)
    and that copy caught up, the few frames committed meanwhile are copied while this
    process's writers wait (:data:`_SQLITE_WRITES`): with everything copied, the next write
    starts the WAL again from its beginning, so it stops growing. Returns the WAL's frames
    and how many are copied. PostgreSQL: nothing to do, ``(0, 0)``.

    Readers in other processes can hold back a checkpoint as they hold back SQLite's own
    (the WAL then grows until they finish their reads).
    """
    if connection.vendor != "sqlite":
        return 0, 0
    limit = pages if pages is not None else _CHECKPOINTS.pages
    with _worker_connection(), connection.cursor() as cursor:
        _SQLite()._tune(cursor)
        cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
        _busy, log, done = cursor.fetchone()
        if log >= limit and done == log:
            with _SQLITE_WRITES:
                cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
                _busy, log, done = cursor.fetchone()
        return int(log), int(done)


@contextmanager
def _writes(backend: _SQLite | _Postgres) -> Iterator[None]:
    if backend.TEXT_TIMES:  # SQLite
        with _SQLITE_WRITES:
            yield
    else:
        yield


# --- Rollups: merged after the commit, up to a watermark -----------------------------------

#: Readings merged per window (ids) unless the settings say otherwise.
ROLLUP_CHUNK_ROWS = 50_000
#: Readings per slice of a window when the merge is paced (the gateway's writer process).
ROLLUP_SLICE_ROWS = 5_000
#: Seconds after which the writer process merges readings however few wait.
ROLLUP_MAX_LAG_S = 5.0


def _telemetry_setting(key: str, default: float) -> float:
    own = getattr(settings, "AQUIFER", {}).get("TELEMETRY", {})
    return float(own.get(key, default))


def rollup_chunk_rows() -> int:
    """``settings.AQUIFER["TELEMETRY"]["ROLLUP_CHUNK_ROWS"]``: readings (ids) per window."""
    return int(_telemetry_setting("ROLLUP_CHUNK_ROWS", ROLLUP_CHUNK_ROWS))


def rollup_slice_rows() -> int:
    """``settings.AQUIFER["TELEMETRY"]["ROLLUP_SLICE_ROWS"]``: readings per paced slice."""
    return int(_telemetry_setting("ROLLUP_SLICE_ROWS", ROLLUP_SLICE_ROWS))


def rollup_max_lag_s() -> float:
    """``settings.AQUIFER["TELEMETRY"]["ROLLUP_MAX_LAG_S"]``: at the latest this long after a
    reading was stored, the gateway's writer process starts merging it."""
    return _telemetry_setting("ROLLUP_MAX_LAG_S", ROLLUP_MAX_LAG_S)


@dataclass(frozen=True, slots=True)
class Mark:
    """How far the rollups are merged (the ``RollupWatermark`` row).

    Every reading with ``id <= reading_id`` is in the rollups; of those with
    ``reading_id < id <= window_end`` (the window being merged slice by slice), the ones of
    devices below ``next_device``; none above ``window_end``. No window is open when
    ``window_end == reading_id``.
    """

    reading_id: int = 0
    window_end: int = 0
    next_device: int = 0
    device_step: int = 0
    device_end: int = 0
    #: Changes with every move of the mark and every rebuild of rollups.
    generation: int = 0

    @property
    def open(self) -> bool:
        return self.window_end > self.reading_id

    def merged_through(self, device_id: int) -> int:
        """The id up to which ``device_id``'s readings are in the rollups."""
        return self.window_end if device_id < self.next_device else self.reading_id


_MARK_COLUMNS = "reading_id, window_end, next_device, device_step, device_end, generation"


def _mark(cursor: Any, *, lock: bool) -> Mark:
    """The stored mark (the row is made when missing); ``lock``: FOR UPDATE on PostgreSQL
    (SQLite's write transaction already excludes every other writer)."""
    suffix = " FOR UPDATE" if lock and connection.vendor == "postgresql" else ""
    cursor.execute(f"SELECT {_MARK_COLUMNS} FROM {_WATERMARK} WHERE id = 1{suffix}")
    row = cursor.fetchone()
    if row is not None:
        return Mark(*(int(v) for v in row))
    cursor.execute(
        f"INSERT INTO {_WATERMARK} (id, {_MARK_COLUMNS}) VALUES (1, 0, 0, 0, 0, 0, 0) "
        "ON CONFLICT (id) DO NOTHING"
    )
    return _mark(cursor, lock=lock)


def _store_mark(cursor: Any, mark: Mark) -> None:
    cursor.execute(
        f"UPDATE {_WATERMARK} SET reading_id = %s, window_end = %s, next_device = %s, "
        "device_step = %s, device_end = %s, refreshed_at = %s, generation = generation + 1 "
        "WHERE id = 1",
        [mark.reading_id, mark.window_end, mark.next_device, mark.device_step,
         mark.device_end, timezone.now()],
    )  # fmt: skip


def rollup_mark() -> Mark:
    """The stored :class:`Mark`."""
    with connection.cursor() as cursor:
        return _mark(cursor, lock=False)


def rollup_watermark() -> int:
    """The id up to which every reading is in the rollups (see :class:`Mark`)."""
    return rollup_mark().reading_id


def rollup_backlog() -> int:
    """How many ids lie above the watermark (readings not yet wholly in the rollups; an
    upper bound: ids of rolled-back batches count too)."""
    with connection.cursor() as cursor:
        mark = _mark(cursor, lock=False)
        cursor.execute(_MAX_ID)
        return max(0, int(cursor.fetchone()[0]) - mark.reading_id)


@dataclass(frozen=True, slots=True)
class RefreshStep:
    """What one :func:`refresh_step` did: ``moved`` ids the watermark moved by (when it
    closed a window), ``window_open`` whether a window is still being merged."""

    moved: int
    window_open: bool
    merged: bool  # anything was done at all


def refresh_step(
    settled: int | None = None, chunk_rows: int | None = None, slice_rows: int | None = None
) -> RefreshStep:
    """One step of the rollup merge: the next slice of the open window, or a new window of
    at most ``chunk_rows`` ids of the readings committed (``settled``: the id below which all
    are; looked up when None) and its first slice; merged and the watermark moved in one
    transaction.

    A window's devices are merged in slices of about ``slice_rows`` readings (by device id
    range; None: the whole window at once). A slice costs about as much per reading as the
    whole window, since each series' readings of the window fold into its rollup rows
    together, but it holds the database for a fraction of the time. On SQLite the slice's
    groups are computed before that transaction, outside it (:func:`_refresh_step_sqlite`):
    the batches of the gateway's writer process, one writer at a time, wait only for the
    short merge.
    """
    backend = _backend()
    if isinstance(backend, _SQLite):
        return _refresh_step_sqlite(backend, settled, chunk_rows, slice_rows)
    with _worker_connection():
        if settled is None:
            with connection.cursor() as cursor:
                settled = backend.settled(cursor)
        with transaction.atomic(), connection.cursor() as cursor:
            plan = _plan(cursor, backend, _mark(cursor, lock=True), settled, chunk_rows, slice_rows)
            if plan is None:
                return RefreshStep(0, False, False)
            upto = min(plan.next_device + plan.device_step, plan.device_end)
            if upto > plan.next_device:
                backend.merge(cursor, plan.reading_id, plan.window_end, plan.next_device, upto)
            return _moved(cursor, plan, upto)


def _plan(
    cursor: Any,
    backend: _SQLite | _Postgres,
    mark: Mark,
    settled: int,
    chunk_rows: int | None,
    slice_rows: int | None,
) -> Mark | None:
    """The window to merge a slice of: ``mark``'s open one, or a new one of at most
    ``chunk_rows`` ids up to ``settled``, its devices cut into slices of about
    ``slice_rows`` readings (no devices: ids of rolled-back batches only); None when
    nothing waits."""
    if mark.open:
        return mark
    high = min(settled, mark.reading_id + max(1, chunk_rows or rollup_chunk_rows()))
    if high <= mark.reading_id:
        return None
    cursor.execute(
        f"SELECT min(device_id), max(device_id), count(*) FROM {_READING}"
        f"{backend.ID_RANGE_HINT} WHERE id > %s AND id <= %s",
        [mark.reading_id, high],
    )
    first, last, n = cursor.fetchone()
    if not n:
        return Mark(mark.reading_id, high)
    slices = 1 if not slice_rows else max(1, -(-int(n) // slice_rows))
    step = -(-(int(last) - int(first) + 1) // slices)
    return Mark(mark.reading_id, high, int(first), step, int(last) + 1)


def _moved(cursor: Any, plan: Mark, upto: int) -> RefreshStep:
    """Store the mark after the slice of ``plan``'s devices below ``upto`` was merged."""
    if upto >= plan.device_end:  # the window is done
        _store_mark(cursor, Mark(plan.window_end, plan.window_end))
        return RefreshStep(plan.window_end - plan.reading_id, False, True)
    _store_mark(cursor, replace(plan, next_device=upto))
    return RefreshStep(0, True, True)


def _refresh_step_sqlite(
    backend: _SQLite, settled: int | None, chunk_rows: int | None, slice_rows: int | None
) -> RefreshStep:
    """:func:`refresh_step` on SQLite in two parts: the slice's hourly groups are computed
    outside any write transaction (:meth:`_SQLite.prepare`, the bulk of the work: ingest
    commits meanwhile), then merged into the rollups and the watermark moved in one short
    write transaction — only if the watermark is still as the slice was planned from (its
    generation: another process may have merged, or a rebuild after a reading was rejected
    may have run, meanwhile; then nothing is written, and the caller looks again)."""
    with _worker_connection():
        with connection.cursor() as cursor:
            backend._tune(cursor)
            if settled is None:
                settled = backend.settled(cursor)
            mark = _mark(cursor, lock=False)
            plan = _plan(cursor, backend, mark, settled, chunk_rows, slice_rows)
            if plan is None:
                return RefreshStep(0, False, False)
            upto = min(plan.next_device + plan.device_step, plan.device_end)
            if upto > plan.next_device:
                backend.prepare(cursor, plan.reading_id, plan.window_end, plan.next_device, upto)
        with _SQLITE_WRITES, transaction.atomic(), connection.cursor() as cursor:
            if _mark(cursor, lock=True) != mark:  # moved meanwhile (a merge, a rebuild)
                return RefreshStep(0, True, True)
            if upto > plan.next_device:
                backend.apply(cursor)
            return _moved(cursor, plan, upto)


def refresh_rollups(max_rows: int | None = None, chunk_rows: int | None = None) -> int:
    """Merge the readings stored since the last refresh into the hourly and daily rollups.

    Window by window of at most ``chunk_rows`` ids, each merged and the watermark moved past
    it in one transaction (an open window of the paced merge is finished first, slice by
    slice), so every reading is merged exactly once whatever runs concurrently or crashes.
    Stops when the readings committed before the call are merged, or once the watermark has
    moved by ``max_rows`` ids or more. Returns the number of ids it moved by.

    Readers that need rollups to the last reading call this first (periodic jobs), or add
    the readings not merged yet themselves (:func:`rollup_tail`, the chart series).
    """
    with connection.cursor() as cursor:
        settled = _backend().settled(cursor)
    moved = 0
    while max_rows is None or moved < max_rows:
        chunk = (
            chunk_rows
            if max_rows is None
            else min(chunk_rows or rollup_chunk_rows(), max_rows - moved)
        )
        step = refresh_step(settled, chunk)
        moved += step.moved
        if not step.merged:
            break
    return moved


@dataclass(frozen=True, slots=True)
class TailBucket:
    """The readings of one device and bucket above the watermark, aggregated."""

    device_id: int
    bucket: datetime
    n: int
    min: float
    max: float
    sum: float
    first: float
    last: float
    first_at: datetime
    last_at: datetime


def rollup_tail(
    read_rollups: Callable[[bool], _T],
    device_ids: Sequence[int],
    element: str,
    resolution: Resolution,
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    attempts: int = 5,
) -> tuple[_T, list[TailBucket]]:
    """Stored rollups and the readings above the watermark, read consistently.

    ``read_rollups(tail_found)`` reads the stored rollups the caller wants; the readings of
    ``element`` by ``device_ids`` above the watermark come back aggregated per device and
    ``resolution`` bucket (buckets from ``start``'s to ``end``'s, both included; rejected
    readings left out): what a reader adds to the stored rollups to be current to the last
    committed reading. The caller has checked that the devices are visible.

    Without locks: the watermark is read before and after both reads, and both repeated if a
    refresh moved it meanwhile (a refresh moves it in the transaction that merges; a
    rebuild recomputes from the readings up to it), so no reading is counted twice or not
    at all. The readings above it are the newest ids: they are read by id range.
    """
    tz = _tz()
    adapt = connection.ops.adapt_datetimefield_value
    # NOT INDEXED (SQLite): walk the id range, not every reading of the devices in the range.
    hint = " NOT INDEXED" if connection.vendor == "sqlite" else ""
    # Not merged yet: above the watermark, except the open window's merged slices.
    sql = (
        f"SELECT device_id, observed_at, value FROM {_READING}{hint} WHERE id > %s "
        "AND (id > %s OR device_id >= %s) "
        f"AND device_id IN ({', '.join(['%s'] * len(device_ids))}) AND element = %s "
        f"AND (flags & {_REJECTED}) = 0"
    )
    params: list[Any] = [*device_ids, element]
    if start is not None:
        sql += " AND observed_at >= %s"
        params.append(adapt(bucket_start(start, resolution, tz)))
    if end is not None:
        sql += " AND observed_at < %s"
        params.append(adapt(bucket_end(bucket_start(end, resolution, tz), resolution, tz)))
    convert = _from_text if connection.vendor == "sqlite" else None
    for _ in range(attempts):
        mark = rollup_mark()
        rows: list[tuple[Any, ...]] = []
        if device_ids:
            with connection.cursor() as cursor:
                cursor.execute(sql, [mark.reading_id, mark.window_end, mark.next_device, *params])
                rows = cursor.fetchall()
        stored = read_rollups(bool(rows))
        if rollup_mark() != mark:
            continue
        aggs: dict[tuple[int, datetime], Agg] = {}
        times: dict[Any, tuple[datetime, datetime]] = {}  # as fetched -> (time, bucket)
        for device, fetched, value in rows:
            known = times.get(fetched)
            if known is None:
                at = convert(fetched) if convert is not None else fetched
                known = times[fetched] = (at, bucket_start(at, resolution, tz))
            at, begins = known
            key = (device, begins)
            aggs[key] = _merge_value(aggs.get(key), value, at)
        return stored, [TailBucket(d, b, *a) for (d, b), a in sorted(aggs.items())]
    raise RuntimeError("the rollups kept moving while their tail was read; try again")


def rebuild_rollups(
    device_id: int, element: str, start: datetime | None = None, end: datetime | None = None
) -> int:
    """Recompute one series' rollups from its raw rows, for whole local days around
    [start, end] (all of them when None).

    For after flags were changed (a reading rejected later) or a rollup is in doubt. Returns
    the number of raw rows the rollups were rebuilt from. Only the readings up to the
    watermark are in the rollups (:func:`refresh_rollups` merges the later ones): the
    watermark is held for the rebuild, so neither sees the other half done.
    """
    tz = _tz()
    with _worker_connection(), transaction.atomic(), connection.cursor() as cursor:
        mark = _mark(cursor, lock=True).merged_through(device_id)
        # A merge computed before this rebuild may hold readings whose flags changed since:
        # it must not be applied (_refresh_step_sqlite compares the generation).
        cursor.execute(f"UPDATE {_WATERMARK} SET generation = generation + 1 WHERE id = 1")
        raw = Reading.objects.filter(device_id=device_id, element=element, id__lte=mark)
        hourly = ReadingHourly.objects.filter(device_id=device_id, element=element)
        daily = ReadingDaily.objects.filter(device_id=device_id, element=element)
        if start is not None:
            d0 = bucket_start(start, "daily", tz)
            raw = raw.filter(observed_at__gte=d0)
            hourly = hourly.filter(bucket__gte=d0)
            daily = daily.filter(bucket__gte=d0)
        if end is not None:
            d1 = bucket_end(bucket_start(end, "daily", tz), "daily", tz)
            raw = raw.filter(observed_at__lt=d1)
            hourly = hourly.filter(bucket__lt=d1)
            daily = daily.filter(bucket__lt=d1)
        hourly.delete()
        daily.delete()
        rows = list(
            raw.alias(rejected=F("flags").bitand(_REJECTED))
            .filter(rejected=0)
            .values_list("observed_at", "value")
            .iterator(chunk_size=5000)
        )
        buckets: dict[datetime, tuple[datetime, datetime]] = {}
        for at, _value in rows:
            if at not in buckets:
                buckets[at] = (bucket_start(at, "hourly", tz), bucket_start(at, "daily", tz))
        hourly_aggs, daily_aggs = _rollups(
            (device_id, element, *buckets[at], at, value) for at, value in rows
        )
        fields = ("n", "min", "max", "sum", "first", "last", "first_at", "last_at")

        def values(key: tuple[int, str, Any], agg: Agg) -> dict[str, Any]:
            return {"device_id": key[0], "element": key[1], "bucket": key[2]} | dict(
                zip(fields, agg, strict=True)
            )

        ReadingHourly.objects.bulk_create(
            [ReadingHourly(**values(k, a)) for k, a in hourly_aggs.items()], batch_size=2000
        )
        ReadingDaily.objects.bulk_create(
            [ReadingDaily(**values(k, a)) for k, a in daily_aggs.items()], batch_size=2000
        )
    return len(rows)


def quarantine(
    kind: QuarantineKind | str,
    reason: str,
    raw: bytes = b"",
    *,
    protocol: str = "",
    remote_addr: str = "",
    station: str = "",
) -> QuarantinedFrame:
    """Keep a frame the gateway could not store as readings (committed on return)."""
    kind = QuarantineKind(kind)
    with _worker_connection(), transaction.atomic():
        return QuarantinedFrame.objects.create(
            kind=kind,
            reason=reason,
            raw_hex=raw.hex().upper(),
            protocol=protocol[:16],
            remote_addr=remote_addr[:64],
            station=station[:64],
        )
