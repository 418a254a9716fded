"""Reading series for charts: pick a resolution, fetch, merge devices, reduce to a point budget.

The chart asks for a series by time range and a point budget (``max_points``, 1,000 for a
chart a few hundred pixels wide). :func:`series` answers from the rollups or the raw rows:

- ``raw``, ``hourly``, ``daily``: that resolution, reduced to ``max_points`` if longer;
- ``auto``: the finest resolution with at most ``OVERSAMPLE × max_points`` points (counted
  with ``LIMIT``, so counting never costs more than the budget), reduced to ``max_points``.
  Ten years of 15-minute readings (350,400 rows) become 3,653 daily rows, then 1,000 points.

The reduction is LTTB (largest-triangle-three-buckets, Steinarsson 2013, :func:`lttb`): it
keeps the first and the last point and, per bucket, the point that spans the largest
triangle with its neighbours — so a spike or a dip survives where averaging would flatten it.
Each output point also carries the min and max of everything it stands for (its rollup bucket
and its LTTB bucket), so the chart can draw the true envelope.

A well's series merges the well's devices: values of the same time from several devices are
averaged (n-weighted for rollups), their min / max combined. A rollup point's value is the
bucket mean, or for a cumulative element (a meter's register) the bucket's last value.
Rejected readings (``ReadingFlag.REJECTED``) are left out. Times are UTC microseconds inside;
the API formats them in ``settings.TIME_ZONE``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from django.db import connection
from django.db.models import F, FloatField, Func, QuerySet

from aquifer.core.roles import Action
from aquifer.core.scoping import visible_to
from aquifer.registry.models import Device
from aquifer.telemetry.elements import ELEMENTS
from aquifer.telemetry.models import Reading, ReadingDaily, ReadingFlag, ReadingHourly
from aquifer.telemetry.store import TailBucket, bucket_start, rollup_tail

__all__ = [
    "OVERSAMPLE",
    "RESOLUTIONS",
    "Series",
    "lttb",
    "reduce_points",
    "series",
]

RESOLUTIONS = ("raw", "hourly", "daily", "auto")
OVERSAMPLE = 4
Resolution = Literal["raw", "hourly", "daily", "auto"]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_TABLE_LIMIT = 1_000_000  # LTTB: areas evaluated at once in the all-candidates table
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# --- LTTB (pure) ------------------------------------------------------------------------------


def lttb_starts(n_in: int, n_out: int) -> IntArray:
    """Start index of each of the ``n_out`` LTTB buckets over ``n_in`` points.

    Bucket 0 is the first point, bucket ``n_out - 1`` the last; the points between are split
    into ``n_out - 2`` buckets of ``floor`` boundaries (every bucket non-empty when
    ``n_in > n_out >= 3``).
    """
    k = np.arange(n_out - 1, dtype=np.int64)
    middle = (k * (n_in - 2)) // (n_out - 2) + 1  # exact integer floor(k * every) + 1
    return np.concatenate((np.zeros(1, dtype=np.int64), middle))


def lttb(x: npt.ArrayLike, y: npt.ArrayLike, n_out: int) -> IntArray:
    """Indices of the ``n_out`` points that LTTB keeps of the series ``(x, y)``.

    ``x`` must be increasing and ``y`` finite, both of one length ``n``. The first and last
    points are always kept; from each bucket between, the point forming the largest triangle
    with the point kept in the previous bucket and the mean of the next bucket. Returns
    ``arange(n)`` when ``n <= n_out``. The indices are increasing.

    Vectorised: when buckets are small (the usual case: a few thousand points down to a
    thousand) the triangle areas for *every* candidate of the previous bucket are computed in
    one numpy expression, and the sequential choice reduces to following a lookup table;
    otherwise one numpy expression per bucket. Both give the same indices as the textbook
    loop (ties: the first point).
    """
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y, dtype=np.float64)
    n = len(xs)
    if len(ys) != n:
        raise ValueError(f"x and y differ in length ({n} and {len(ys)})")
    if n_out < 2:
        raise ValueError("n_out must be at least 2")
    if n <= n_out:
        return np.arange(n, dtype=np.int64)
    if n_out == 2:
        return np.array([0, n - 1], dtype=np.int64)
    starts = lttb_starts(n, n_out)
    sizes = np.diff(np.append(starts, n))
    mean_x = np.add.reduceat(xs, starts) / sizes
    mean_y = np.add.reduceat(ys, starts) / sizes
    cx, cy = mean_x[2:], mean_y[2:]  # the next bucket's mean, for each middle bucket
    nb = n_out - 2
    width = int(sizes[1:-1].max())
    if nb * width * width <= _TABLE_LIMIT:
        chosen = _lttb_table(xs, ys, starts, sizes, cx, cy, width)
    else:
        chosen = _lttb_loop(xs, ys, starts, cx, cy)
    out = np.empty(n_out, dtype=np.int64)
    out[0], out[1:-1], out[-1] = 0, chosen, n - 1
    return out


def _lttb_table(
    xs: FloatArray,
    ys: FloatArray,
    starts: IntArray,
    sizes: IntArray,
    cx: FloatArray,
    cy: FloatArray,
    width: int,
) -> IntArray:
    nb = len(cx)
    offs = np.arange(width, dtype=np.int64)
    idx = starts[1:-1, None] + offs[None, :]  # (nb, width): the points of each middle bucket
    valid = offs[None, :] < sizes[1:-1, None]
    idx_safe = np.minimum(idx, len(xs) - 1)
    bx, by = xs[idx_safe], ys[idx_safe]
    # Candidates for the previous kept point: the first point for bucket 0, else the points
    # of the previous bucket (padding candidates are never followed).
    ax = np.empty_like(bx)
    ay = np.empty_like(by)
    ax[0], ay[0] = xs[0], ys[0]
    ax[1:], ay[1:] = bx[:-1], by[:-1]
    a_x, a_y = ax[:, :, None], ay[:, :, None]  # (nb, candidate, 1)
    c_x, c_y = cx[:, None, None], cy[:, None, None]
    area = np.abs((a_x - c_x) * (by[:, None, :] - a_y) - (a_x - bx[:, None, :]) * (c_y - a_y))
    area = np.where(valid[:, None, :], area, -1.0)
    table = area.argmax(axis=2).tolist()  # (nb, candidate) -> best offset in the bucket
    chosen = [0] * nb
    prev = table[0][0]
    chosen[0] = prev
    for b in range(1, nb):
        prev = table[b][prev]
        chosen[b] = prev
    return np.asarray(chosen, dtype=np.int64) + starts[1:-1]


def _lttb_loop(
    xs: FloatArray, ys: FloatArray, starts: IntArray, cx: FloatArray, cy: FloatArray
) -> IntArray:
    nb = len(cx)
    chosen = np.empty(nb, dtype=np.int64)
    a = 0
    bounds = starts.tolist()
    for b in range(nb):
        lo, hi = bounds[b + 1], bounds[b + 2]
        bx, by = xs[lo:hi], ys[lo:hi]
        ax, ay = xs[a], ys[a]
        area = np.abs((ax - cx[b]) * (by - ay) - (ax - bx) * (cy[b] - ay))
        a = lo + int(area.argmax())
        chosen[b] = a
    return chosen


def reduce_points(
    t: npt.ArrayLike, value: npt.ArrayLike, lo: npt.ArrayLike, hi: npt.ArrayLike, n_out: int
) -> tuple[npt.NDArray[Any], FloatArray, FloatArray, FloatArray]:
    """LTTB on ``(t, value)``, each kept point carrying the min / max of its whole bucket.

    Returns ``(t, value, lo, hi)`` of at most ``n_out`` points; the overall min of ``lo`` and
    max of ``hi`` are preserved exactly.
    """
    ta = np.asarray(t)
    va = np.asarray(value, dtype=np.float64)
    la = np.asarray(lo, dtype=np.float64)
    ha = np.asarray(hi, dtype=np.float64)
    n = len(ta)
    if n <= n_out:
        return ta, va, la, ha
    x = (ta - ta[0]).astype(np.float64)
    idx = lttb(x, va, n_out)
    starts = np.array([0, n - 1], dtype=np.int64) if n_out == 2 else lttb_starts(n, n_out)
    return ta[idx], va[idx], np.minimum.reduceat(la, starts), np.maximum.reduceat(ha, starts)


# --- Series from the store --------------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    element: str
    unit: str
    resolution: str  # the resolution served: raw, hourly or daily
    t: IntArray  # UTC microseconds since the epoch
    value: FloatArray
    min: FloatArray
    max: FloatArray
    source_points: int  # points at that resolution before reduction

    def __len__(self) -> int:
        return len(self.t)

    def times(self, tz: tzinfo) -> list[datetime]:
        return [(_EPOCH + timedelta(microseconds=int(us))).astimezone(tz) for us in self.t]

    def points(self, tz: tzinfo) -> list[list[Any]]:
        """``[[iso_time, value, min, max], …]``, times in ``tz`` with their offset."""
        return [
            [ts.isoformat(), v, lo, hi]
            for ts, v, lo, hi in zip(
                self.times(tz),
                self.value.tolist(),
                self.min.tolist(),
                self.max.tolist(),
                strict=True,
            )
        ]


def _epoch_us(values: Sequence[Any]) -> IntArray:
    """Times as a database cursor returns them → UTC µs since the epoch.

    SQLite: naive datetimes in UTC (or UTC text without Django's converters); PostgreSQL:
    aware datetimes.
    """
    if not values:
        return np.zeros(0, dtype=np.int64)
    first = values[0]
    if isinstance(first, str):
        return np.array(values, dtype="datetime64[us]").astype(np.int64)
    if isinstance(first, float):  # epoch seconds
        return np.rint(np.array(values, dtype=np.float64) * 1e6).astype(np.int64)
    epoch = _EPOCH if first.tzinfo is not None else _EPOCH.replace(tzinfo=None)
    us = timedelta(microseconds=1)
    return np.fromiter(((v - epoch) // us for v in values), dtype=np.int64, count=len(values))


def _fetch(qs: QuerySet[Any], time_field: str, fields: Sequence[str]) -> list[tuple[Any, ...]]:
    """Run a scoped queryset's SQL directly: rows without Django's per-value conversion.

    On PostgreSQL the time comes as epoch seconds (float): loading ``timestamptz`` values as
    aware datetimes costs psycopg about 4 µs a row, more than everything else here.
    """
    if connection.vendor == "postgresql":
        epoch = Func(
            F(time_field),
            template="EXTRACT(EPOCH FROM %(expressions)s)::float8",
            output_field=FloatField(),
        )
        qs = qs.annotate(_epoch=epoch)
        time_field = "_epoch"
    sql, params = qs.values_list(time_field, *fields).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _merge_equal_times(
    t: IntArray, n: FloatArray, s: FloatArray, lo: FloatArray, hi: FloatArray, last: FloatArray
) -> tuple[IntArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    if len(t) < 2:
        return t, n, s, lo, hi, last
    starts = np.flatnonzero(np.r_[True, t[1:] != t[:-1]])
    if len(starts) == len(t):
        return t, n, s, lo, hi, last
    count = np.diff(np.append(starts, len(t)))
    return (
        t[starts],
        np.add.reduceat(n, starts),
        np.add.reduceat(s, starts),
        np.minimum.reduceat(lo, starts),
        np.maximum.reduceat(hi, starts),
        np.add.reduceat(last, starts) / count,
    )


def _with_tail(rows: list[tuple[Any, ...]], tail: list[TailBucket]) -> tuple[IntArray, FloatArray]:
    """Rollup rows ``(bucket, n, sum, min, max, last, device_id, last_at)`` with the tail's
    buckets added (n and sum added, min and max combined, the later last kept), in
    (bucket, device) order: times, and columns n, sum, min, max, last."""
    t = _epoch_us([r[0] for r in rows])
    last_at = _epoch_us([r[7] for r in rows])
    merged: dict[tuple[int, int], list[float]] = {
        (int(t[i]), r[6]): [*r[1:6], float(last_at[i])] for i, r in enumerate(rows)
    }
    tail_t = _epoch_us([b.bucket for b in tail])
    tail_last = _epoch_us([b.last_at for b in tail])
    for i, b in enumerate(tail):
        key = (int(tail_t[i]), b.device_id)
        have = merged.get(key)
        if have is None:
            merged[key] = [b.n, b.sum, b.min, b.max, b.last, float(tail_last[i])]
            continue
        have[0] += b.n
        have[1] += b.sum
        have[2] = min(have[2], b.min)
        have[3] = max(have[3], b.max)
        if tail_last[i] > have[5]:
            have[4], have[5] = b.last, float(tail_last[i])
    keys = sorted(merged)
    times = np.array([k[0] for k in keys], dtype=np.int64)
    cols = np.array([merged[k][:5] for k in keys], dtype=np.float64).reshape(-1, 5)
    return times, cols


def _querysets(
    user: Any, device_ids: Sequence[int], element: str, start: datetime | None, end: datetime | None
) -> dict[str, QuerySet[Any]]:
    raw = visible_to(user, Action.VIEW, Reading).filter(device_id__in=device_ids, element=element)
    hourly = visible_to(user, Action.VIEW, ReadingHourly).filter(
        device_id__in=device_ids, element=element
    )
    daily = visible_to(user, Action.VIEW, ReadingDaily).filter(
        device_id__in=device_ids, element=element
    )
    if start is not None:
        raw = raw.filter(observed_at__gte=start)
        hourly = hourly.filter(bucket__gte=bucket_start(start, "hourly"))
        daily = daily.filter(bucket__gte=bucket_start(start, "daily"))
    if end is not None:
        raw = raw.filter(observed_at__lte=end)
        hourly = hourly.filter(bucket__lte=end)
        daily = daily.filter(bucket__lte=end)
    usable = raw.alias(rejected=F("flags").bitand(int(ReadingFlag.REJECTED))).filter(rejected=0)
    return {
        "raw_all": raw,
        "raw": usable.order_by("observed_at", "device_id"),
        "hourly": hourly.order_by("bucket", "device_id"),
        "daily": daily.order_by("bucket", "device_id"),
    }


def _pick(querysets: dict[str, QuerySet[Any]], budget: int, tail_hours: Callable[[], int]) -> str:
    """The finest resolution with at most ``budget`` points (counting stops at budget + 1).

    Raw rows are counted rejected ones included (the flags test would hide the index range
    from PostgreSQL's estimates, and a few more points only move the choice at the margin).
    Hours are the stored hourly rows plus the hours of the readings not merged yet
    (``tail_hours``; an hour in both counts twice: again only the margin moves).
    """
    if querysets["raw_all"].order_by()[: budget + 1].count() <= budget:
        return "raw"
    hours = querysets["hourly"].order_by()[: budget + 1].count()
    if hours <= budget and hours + tail_hours() <= budget:
        return "hourly"
    return "daily"


def series(
    user: Any,
    device_ids: Sequence[int],
    element: str,
    start: datetime | None = None,
    end: datetime | None = None,
    resolution: Resolution = "auto",
    max_points: int = 1000,
) -> Series:
    """The series of ``element`` merged over ``device_ids``, as ``user`` may see it.

    ``start`` and ``end`` (aware datetimes, both included; None: unbounded) select raw rows by
    their time and rollup buckets that overlap the range. At most ``max_points`` points.
    """
    el = ELEMENTS[element]
    if resolution not in RESOLUTIONS:
        raise ValueError(f"resolution must be one of {', '.join(RESOLUTIONS)}")
    if not device_ids:  # a well without devices
        empty = np.zeros(0, dtype=np.float64)
        res = "raw" if resolution == "auto" else resolution
        return Series(element, el.unit, res, np.zeros(0, dtype=np.int64), empty, empty, empty, 0)
    querysets = _querysets(user, list(device_ids), element, start, end)

    @functools.cache
    def visible() -> list[int]:  # the devices whose readings above the watermark are added
        return list(
            visible_to(user, Action.VIEW, Device)
            .filter(pk__in=list(device_ids))
            .values_list("pk", flat=True)
        )

    def tail_hours() -> int:
        return len(rollup_tail(lambda found: None, visible(), element, "hourly", start, end)[1])

    if resolution == "auto":
        chosen = _pick(querysets, OVERSAMPLE * max_points, tail_hours)
    else:
        chosen = resolution
    qs = querysets[chosen]
    if chosen == "raw":
        rows = _fetch(qs, "observed_at", ["value"])
        t = _epoch_us([r[0] for r in rows])
        v = np.array([r[1] for r in rows], dtype=np.float64)
        n, s, lo, hi, last = np.ones_like(v), v, v, v, v
    else:
        # The rollups, plus the readings not yet merged into them (above the watermark).
        fields = ["n", "sum", "min", "max", "last", "device_id"]

        def read(tail_found: bool) -> list[tuple[Any, ...]]:
            return _fetch(qs, "bucket", [*fields, "last_at"] if tail_found else fields)

        bucket: Literal["hourly", "daily"] = "hourly" if chosen == "hourly" else "daily"
        rows, tail = rollup_tail(read, visible(), element, bucket, start, end)
        if tail:
            t, cols = _with_tail(rows, tail)
        else:
            t = _epoch_us([r[0] for r in rows])
            cols = np.array([r[1:6] for r in rows], dtype=np.float64).reshape(-1, 5)
        n, s, lo, hi, last = (cols[:, i] for i in range(5))
    if len(device_ids) > 1:
        t, n, s, lo, hi, last = _merge_equal_times(t, n, s, lo, hi, last)
    value = last if (el.cumulative and chosen != "raw") else s / n
    source = len(t)
    t, value, lo, hi = reduce_points(t, value, lo, hi, max_points)
    return Series(element, el.unit, chosen, t, value, lo, hi, source)
