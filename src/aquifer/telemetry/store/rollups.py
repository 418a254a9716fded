"""Rollups merged after the commit, up to a watermark: the mark, the window planner and the
refresh steps; the tail above the mark read consistently; a series' rollups rebuilt."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from aquifer.telemetry.models import Reading, ReadingDaily, ReadingHourly
from aquifer.telemetry.store.buckets import (
    Agg,
    Resolution,
    _merge_value,
    _rollups,
    _tz,
    bucket_end,
    bucket_start,
)
from aquifer.telemetry.store.connections import _backend, _worker_connection
from aquifer.telemetry.store.postgres import _Postgres
from aquifer.telemetry.store.sqlite import _SQLITE_WRITES, _from_text, _SQLite
from aquifer.telemetry.store.tables import _MAX_ID, _READING, _REJECTED, _WATERMARK

_T = TypeVar("_T")

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
