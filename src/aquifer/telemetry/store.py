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
  NOTHING``; the new rows (all of them, or when ``rowcount`` says some were known, those with
  an id above the previous maximum — SQLite has one writer) are aggregated in Python and
  merged into the rollups with two ``executemany`` upserts. PostgreSQL: binary ``COPY`` into
  a session-local staging table, then one statement: per-device advisory locks, ``INSERT …
  SELECT … ON CONFLICT DO NOTHING RETURNING``, and the merge of what it returned into both
  rollups (see :mod:`aquifer.telemetry.models` for the rollup design).
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
import weakref
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from datetime import time as dtime
from typing import Any, Literal

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
)

__all__ = [
    "ReadingRow",
    "bucket_end",
    "bucket_start",
    "ingest",
    "quarantine",
    "rebuild_rollups",
    "validate",
]

Resolution = Literal["hourly", "daily"]
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


def validate(rows: Sequence[ReadingRow]) -> None:
    """Raise ``ValueError`` naming the first bad row (its index in ``rows``) and what is wrong."""
    for i, row in enumerate(rows):
        if not isinstance(row, ReadingRow):
            raise ValueError(f"row {i}: expected a ReadingRow, got {type(row).__name__}")
        if row.element not in ELEMENTS:
            raise ValueError(f"row {i}: unknown element {row.element!r}")
        value = row.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"row {i}: value {value!r} is not a number")
        if not math.isfinite(value):
            raise ValueError(f"row {i}: value {value!r} is not finite")
        ts = row.observed_at
        if not isinstance(ts, datetime) or ts.utcoffset() is None:
            raise ValueError(f"row {i}: observed_at {ts!r} is not a timezone-aware datetime")
        if isinstance(row.device_id, bool) or not isinstance(row.device_id, int):
            raise ValueError(f"row {i}: device_id {row.device_id!r} is not an integer")
        if not isinstance(row.flags, int) or not 0 <= row.flags <= _MAX_FLAGS:
            raise ValueError(f"row {i}: flags {row.flags!r} out of range 0..{_MAX_FLAGS}")


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


class _SQLite:
    """SQLite: one writer at a time (BEGIN IMMEDIATE); times are UTC text, as Django writes."""

    INSERT = (
        f"INSERT INTO {_READING} (device_id, element, observed_at, value, flags, received_at) "
        "VALUES (%s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (device_id, element, observed_at) DO NOTHING"
    )
    MAX_ID = f"SELECT coalesce(max(id), 0) FROM {_READING}"
    NEW = f"SELECT device_id, element, CAST(observed_at AS TEXT) FROM {_READING} WHERE id > %s"
    VALUES = "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
    UPSERT_HOURLY = f"INSERT INTO {_HOURLY} ({_ROLLUP_COLS}) {VALUES}{_merge_sql(_HOURLY)}"
    UPSERT_DAILY = f"INSERT INTO {_DAILY} ({_ROLLUP_COLS}) {VALUES}{_merge_sql(_DAILY)}"

    @staticmethod
    def dt(ts: datetime) -> str:
        """As Django's SQLite backend stores an aware datetime (naive UTC, ``str()``)."""
        return str(ts.astimezone(UTC).replace(tzinfo=None))

    def ingest(self, cursor: Any, rows: Sequence[ReadingRow], received_at: datetime) -> int:
        tz, dt = _tz(), self.dt
        times: dict[datetime, tuple[str, str, str]] = {}  # observed_at -> (text, hour, day)
        hours: dict[tuple[Any, ...], str] = {}  # local (date, hour, fold) -> hour start text
        days: dict[Any, str] = {}  # local date -> day start text
        batch: dict[tuple[int, str, str], ReadingRow] = {}  # first occurrence wins
        for row in rows:
            t = times.get(row.observed_at)
            if t is None:
                local = row.observed_at.astimezone(tz)
                date = local.date()
                hour = hours.get(hkey := (date, local.hour, local.fold))
                if hour is None:
                    hour = hours[hkey] = dt(bucket_start(local, "hourly", tz))
                day = days.get(date)
                if day is None:
                    day = days[date] = dt(bucket_start(local, "daily", tz))
                t = times[row.observed_at] = (dt(row.observed_at), hour, day)
            batch.setdefault((row.device_id, row.element, t[0]), row)
        cursor.execute(self.MAX_ID)
        (max_id,) = cursor.fetchone()
        received = dt(received_at)
        cursor.executemany(
            self.INSERT,
            [(d, e, t, float(r.value), r.flags, received) for (d, e, t), r in batch.items()],
        )
        inserted = int(cursor.rowcount)
        if inserted == 0:
            return 0
        keys: Iterable[tuple[int, str, str]] = batch.keys()
        if inserted < len(batch):  # some were stored before: merge only the new ones
            cursor.execute(self.NEW, [max_id])
            keys = cursor.fetchall()
        self._merge(
            cursor,
            (
                (d, e, times[r.observed_at][1], times[r.observed_at][2], t, float(r.value))
                for d, e, t in keys
                if not (r := batch[(d, e, t)]).flags & _REJECTED
            ),
        )
        return inserted

    def _merge(self, cursor: Any, items: Iterable[tuple[int, str, Any, Any, Any, float]]) -> None:
        hourly, daily = _rollups(items)
        for sql, aggs in ((self.UPSERT_HOURLY, hourly), (self.UPSERT_DAILY, daily)):
            if aggs:
                cursor.executemany(sql, [(*key, *agg) for key, agg in sorted(aggs.items())])


class _Postgres:
    """PostgreSQL: COPY into a staging table, then one statement inserts the readings and
    merges what it inserted (``RETURNING``) into both rollups."""

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
    # One statement: insert what is new; aggregate the inserted rows per hour (hp); merge
    # those into the hourly rollup and, grouped by day, into the daily one.
    INGEST = (
        f"WITH ins AS (INSERT INTO {_READING} "
        "(device_id, element, observed_at, value, flags, received_at) "
        f"SELECT device_id, element, observed_at, value, flags, %(now)s FROM {STAGE} "
        "ON CONFLICT (device_id, element, observed_at) DO NOTHING "
        "RETURNING device_id, element, observed_at, value, flags), "
        "hp AS (SELECT device_id, element, date_trunc('hour', observed_at, %(tz)s) AS hour, "
        "count(*) AS n, min(value) AS mn, max(value) AS mx, sum(value) AS s, "
        "(array_agg(value ORDER BY observed_at))[1] AS f, "
        "(array_agg(value ORDER BY observed_at DESC))[1] AS l, "
        "min(observed_at) AS fa, max(observed_at) AS la "
        f"FROM ins WHERE flags & {_REJECTED} = 0 GROUP BY 1, 2, 3), "
        f"h AS (INSERT INTO {_HOURLY} ({_ROLLUP_COLS}) "
        "SELECT device_id, element, hour, n, mn, mx, s, f, l, fa, la FROM hp "
        f"ORDER BY 1, 2, 3 {_merge_sql(_HOURLY)}), "
        f"d AS (INSERT INTO {_DAILY} ({_ROLLUP_COLS}) "
        "SELECT device_id, element, date_trunc('day', hour, %(tz)s) AS day, sum(n), min(mn), "
        "max(mx), sum(s), (array_agg(f ORDER BY fa))[1], (array_agg(l ORDER BY la DESC))[1], "
        f"min(fa), max(la) FROM hp GROUP BY 1, 2, 3 ORDER BY 1, 2, 3 {_merge_sql(_DAILY)}) "
        "SELECT count(*) FROM ins"
    )
    CLEAR_STAGE = f"DELETE FROM {STAGE}"
    LOCK_NAMESPACE = 0x41515254  # "AQRT": this module's advisory locks, keyed by device id
    # Per-device transaction locks, taken in device order (no deadlocks) before the insert:
    # two concurrent batches resending the same readings in different orders would otherwise
    # wait on each other's unique-index entries. Sent with INGEST in one round trip.
    LOCK_STAGED = (
        "SELECT count(pg_advisory_xact_lock(%(ns)s, (device_id & 2147483647)::int4)) "
        f"FROM (SELECT DISTINCT device_id FROM {STAGE} ORDER BY device_id) AS d; "
    )
    LOCK = "SELECT pg_advisory_xact_lock(%s::int4, d) FROM unnest(%s::int4[]) AS d"

    # Connections (psycopg objects) on which the staging table exists.
    _staged: weakref.WeakSet[Any] = weakref.WeakSet()

    def lock(self, cursor: Any, device_ids: Iterable[int]) -> None:
        """The per-device locks of LOCK_STAGED, for paths without a stage."""
        keys = sorted({d & 0x7FFFFFFF for d in device_ids})
        cursor.execute(self.LOCK, [self.LOCK_NAMESPACE, keys])

    def ingest(self, cursor: Any, rows: Sequence[ReadingRow], received_at: datetime) -> int:
        # Duplicates within the batch are dropped here, the first kept: one INSERT cannot
        # be relied on to keep the first of two conflicting rows.
        batch = list({(r.device_id, r.element, r.observed_at): r for r in reversed(rows)}.values())
        raw = connection.connection
        if raw not in self._staged:
            # Created inside the transaction: it only exists once that commits.
            cursor.execute(self.CREATE_STAGE)
            transaction.on_commit(lambda: self._staged.add(raw))
        with cursor.cursor.copy(self.COPY) as copy:
            copy.set_types(self.COPY_TYPES)
            for r in batch:
                copy.write_row((r.device_id, r.element, r.observed_at, float(r.value), r.flags))
        params = {"now": received_at, "tz": settings.TIME_ZONE, "ns": self.LOCK_NAMESPACE}
        cursor.execute(self.LOCK_STAGED + self.INGEST, params)
        cursor.nextset()
        inserted = int(cursor.fetchone()[0])
        if connection.savepoint_ids:
            # Nested in a caller's transaction (tests): ON COMMIT DELETE ROWS will not run.
            cursor.execute(self.CLEAR_STAGE)
        return inserted


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
    if not rows:
        return 0
    backend = _backend()
    with _worker_connection():
        received_at = timezone.now()
        with transaction.atomic(durable=True), connection.cursor() as cursor:
            return backend.ingest(cursor, rows, received_at)


def rebuild_rollups(
    device_id: int, element: str, start: datetime | None = None, end: datetime | None = None
) -> int:
    """Recompute one series' rollups from its raw rows, for whole local days around
    [start, end] (all of them when None).

    For after flags were changed (a reading rejected later) or a rollup is in doubt. Returns
    the number of raw rows the rollups were rebuilt from.
    """
    tz = _tz()
    with _worker_connection(), transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            _Postgres().lock(cursor, [device_id])
        raw = Reading.objects.filter(device_id=device_id, element=element)
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
