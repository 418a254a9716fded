"""Withdrawal accounting (取水量核算): the public interface other apps use (COMMON.md, 4).

``well_volumes``, ``monthly`` and ``totals`` answer from the stored monthly figures
(:class:`~aquifer.accounting.models.WithdrawalMonth`), computing and storing first whatever is
missing or not final. :func:`refresh` recomputes (the periodic job and "recompute" buttons).

Where the figures come from (docs/accounting.md has the whole story):

* each well's meters are its devices that report ``cumulative_volume``; a device's series is
  read from the *daily rollups* — the first and last register value of each day, with their
  times — which is exact for the volume whenever the register rose monotonically through the
  day (``min == first`` and ``max == last``). Only days that are not (a replacement, reset,
  rollover or backwards reading inside the day) are read from the raw readings. Gaps need no
  raw reads: the rollups carry the exact times of the readings around them;
* registered meter replacements come from the monitoring app;
* the volume per month is :func:`aquifer.accounting.volumes.volumes` over month boundaries in
  local time (Asia/Shanghai), the register interpolated linearly across each boundary;
* wells with no meter data are estimated (:func:`unmetered_daily_m3`).
"""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, IntegerField, Max, Min, Sum, Value
from django.utils import timezone

from aquifer.accounting import conf, hooks
from aquifer.accounting.volumes import Config, MeterBreak, PeriodVolume, VolumeFlag, unmetered
from aquifer.accounting.volumes import volumes as series_volumes
from aquifer.monitoring.models import MeterChange
from aquifer.registry.models import Device, Well
from aquifer.telemetry.models import Reading, ReadingDaily, ReadingFlag
from aquifer.telemetry.store import refresh_rollups

__all__ = [
    "LEVELS",
    "Volume",
    "as_of",
    "ensure_fresh",
    "month_bounds",
    "monthly",
    "monthly_totals",
    "refresh",
    "totals",
    "totals_by",
    "unmetered_daily_m3",
    "well_volumes",
]

ELEMENT = "cumulative_volume"
LEVELS = ("well", "user", "zone", "township", "county")
_DAY = dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Volume:
    """A withdrawal volume: the metered part, the estimated part, and whether any is estimated.

    ``flags`` (a :class:`~aquifer.accounting.volumes.VolumeFlag` bitmask) says why.
    """

    metered_m3: float = 0.0
    estimated_m3: float = 0.0
    estimated: bool = False
    flags: int = 0

    @property
    def total_m3(self) -> float:
        return self.metered_m3 + self.estimated_m3

    def __add__(self, other: Volume) -> Volume:
        return Volume(
            self.metered_m3 + other.metered_m3,
            self.estimated_m3 + other.estimated_m3,
            self.estimated or other.estimated,
            self.flags | other.flags,
        )


ZERO = Volume()


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def month_bounds(year: int, month: int) -> tuple[dt.datetime, dt.datetime]:
    """The local-time month ``[start, end)`` as aware datetimes."""
    tz = _tz()
    start = dt.datetime(year, month, 1, tzinfo=tz)
    end = dt.datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
    return start, end


def _config() -> Config:
    rollover = conf.get("ROLLOVER_M3")
    return Config(
        gap_s=float(conf.get("GAP_HOURS")) * 3600.0,
        rollover=float(rollover) if rollover else None,
        backwards_confirm=int(conf.get("BACKWARDS_CONFIRM")),
    )


# --- Reading the series ------------------------------------------------------------------------


def _meter_breaks(
    device_ids: Sequence[int], start: dt.datetime, end: dt.datetime
) -> dict[int, list[MeterBreak]]:
    """Registered meter replacements per device (the monitoring app's MeterChange)."""
    out: dict[int, list[MeterBreak]] = defaultdict(list)
    qs = MeterChange.objects.filter(element=ELEMENT, changed_at__gte=start, changed_at__lt=end)
    if len(device_ids) < 5000:
        qs = qs.filter(device_id__in=list(device_ids))
    for dev, at, old, new in qs.values_list("device_id", "changed_at", "old_final", "new_initial"):
        out[dev].append(MeterBreak(at.timestamp(), float(old), float(new)))
    return out


_ROLLUP_FIELDS = ("device_id", "bucket", "n", "min", "max", "first", "last", "first_at", "last_at")


def _epoch(column: str) -> str:
    from django.db import connection

    if connection.vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM {column})::float8"
    # julianday() carries ~10 µs of rounding: times are kept to the millisecond.
    return f"ROUND((julianday({column}) - 2440587.5) * 86400.0, 3)"


def _daily_rows(
    device_ids: Sequence[int] | None, start: dt.datetime, end: dt.datetime
) -> list[tuple[Any, ...]]:
    """Daily rollups of the meters in ``[start, end)``, times as epoch seconds.

    Raw SQL: converting three datetimes per row through the ORM cost more than the accounting.
    """
    from django.db import connection

    if device_ids is not None and not device_ids:
        return []  # no meters (PostgreSQL refuses "IN ()")
    adapt = connection.ops.adapt_datetimefield_value
    table = ReadingDaily._meta.db_table
    sql = (
        f"SELECT device_id, {_epoch('bucket')}, n, min, max, first, last, {_epoch('first_at')},"
        f" {_epoch('last_at')} FROM {table} WHERE element = %s AND bucket >= %s AND bucket < %s"
    )
    params: list[Any] = [ELEMENT, adapt(start), adapt(end)]
    if device_ids is not None:
        sql += f" AND device_id IN ({', '.join(['%s'] * len(device_ids))})"
        params += list(device_ids)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()  # type: ignore[no-any-return]


def _series(
    device_ids: Sequence[int], start: dt.datetime, end: dt.datetime, breaks: dict[int, Any]
) -> tuple[dict[int, list[tuple[float, float]]], dict[int, list[tuple[float, float]]], int]:
    """Each device's points over ``[start, end)`` plus the reading before and after.

    Returns the points, the spans known to be densely read (a day's first to last reading,
    when its n readings average no more than the gap threshold apart), and the number of days
    read from raw readings.
    """

    lookback = dt.timedelta(days=int(conf.get("LOOKBACK_DAYS")))
    few = len(device_ids) < 5000
    base = ReadingDaily.objects.filter(element=ELEMENT)
    if few:
        base = base.filter(device_id__in=list(device_ids))
    wanted = set(device_ids)
    rows = _daily_rows(list(device_ids) if few else None, start - _DAY, end + _DAY)
    # The readings that open and close the window, when not in the day just around it.
    s0, s1 = (start - _DAY).timestamp(), start.timestamp()
    e0, e1 = end.timestamp(), (end + _DAY).timestamp()
    has_before = {r[0] for r in rows if s0 <= r[1] < s1}
    has_after = {r[0] for r in rows if e0 <= r[1] < e1}
    edges: list[tuple[Any, ...]] = []
    before = (
        base.filter(bucket__gte=start - lookback, bucket__lt=start - _DAY)
        .values("device_id")
        .annotate(b=Max("bucket"))
        .values_list("device_id", "b")
    )
    after = (
        base.filter(bucket__gte=end + _DAY, bucket__lt=end + lookback)
        .values("device_id")
        .annotate(b=Min("bucket"))
        .values_list("device_id", "b")
    )
    for qs, have in ((before, has_before), (after, has_after)):
        pairs = [(d, b) for d, b in qs if d in wanted and d not in have]
        for i in range(0, len(pairs), 400):
            chunk = pairs[i : i + 400]
            keys = set(chunk)
            for r in (
                base.filter(bucket__in={b for _, b in chunk}, device_id__in={d for d, _ in chunk})
                .order_by()
                .values_list(*_ROLLUP_FIELDS)
            ):
                if (r[0], r[1]) in keys:
                    dev, bucket, n, mn, mx, first, last, first_at, last_at = r
                    edges.append(
                        (dev, bucket.timestamp(), n, mn, mx, first, last, first_at.timestamp(),
                         last_at.timestamp())
                    )  # fmt: skip
    points: dict[int, list[tuple[float, float]]] = defaultdict(list)
    raw_days: dict[int, list[float]] = defaultdict(list)
    covered: dict[int, list[tuple[float, float]]] = defaultdict(list)
    day_s = _DAY.total_seconds()
    gap_s = float(conf.get("GAP_HOURS")) * 3600.0
    for dev, bucket, n, mn, mx, first, last, first_at, last_at in rows + edges:
        if dev not in wanted:
            continue
        brk = breaks.get(dev)
        has_break = brk is not None and any(bucket < b.at <= bucket + day_s for b in brk)
        if mn == first and mx == last and not has_break:
            p = points[dev]
            p.append((first_at, first))
            if last_at != first_at:
                p.append((last_at, last))
                # n readings spread over the day: no gap between first and last
                if n > 1 and (last_at - first_at) / (n - 1) <= gap_s:
                    covered[dev].append((first_at, last_at))
        else:
            raw_days[dev].append(bucket)
    n_raw = 0
    rejected = int(ReadingFlag.REJECTED)
    for dev, days in raw_days.items():
        for b in days:
            n_raw += 1
            day = dt.datetime.fromtimestamp(round(b), dt.UTC)
            for at, value, flags in Reading.objects.filter(
                device_id=dev, element=ELEMENT, observed_at__gte=day, observed_at__lt=day + _DAY
            ).values_list("observed_at", "value", "flags"):
                if not flags & rejected:
                    points[dev].append((at.timestamp(), value))
    return points, covered, n_raw


# --- Estimates for unmetered wells ---------------------------------------------------------------


def unmetered_daily_m3(wells: Sequence[Any]) -> dict[int, float]:
    """The daily volume an unmetered well is estimated at (well id → m³/day).

    The well's share of each active permit it is under (the permit's annual quota divided among
    its wells) × ``UNMETERED_QUOTA_FACTOR``, else ``UNMETERED_DEFAULT_M3`` by well purpose; 0
    for wells whose status is not in ``UNMETERED_STATUSES``.
    """
    factor = float(conf.get("UNMETERED_QUOTA_FACTOR"))
    defaults: dict[str, float] = conf.get("UNMETERED_DEFAULT_M3")
    statuses = set(conf.get("UNMETERED_STATUSES"))
    ids = [w.pk for w in wells]
    share = hooks.merged(hooks.well_quota_shares(ids)) if ids else {}
    out: dict[int, float] = {}
    for w in wells:
        if w.status not in statuses:
            out[w.pk] = 0.0
        elif w.pk in share:
            out[w.pk] = share[w.pk] * factor / 365.0
        else:
            out[w.pk] = float(defaults.get(w.purpose, 0.0)) / 365.0
    return out


# --- Computing and storing -----------------------------------------------------------------------


def _compute(
    year: int, months: Sequence[int], wells: Sequence[Any], now: dt.datetime
) -> dict[int, list[PeriodVolume]]:
    """Volumes of the given (consecutive) months for each well, computed from the readings."""

    months = sorted(months)
    bounds = [month_bounds(year, m)[0] for m in months] + [month_bounds(year, months[-1])[1]]
    start, end = bounds[0], bounds[-1]
    edges = [b.timestamp() for b in bounds]
    well_ids = [w.pk for w in wells]
    devices: dict[int, list[tuple[int, bool]]] = defaultdict(list)
    dq = Device.objects.filter(well__isnull=False)
    if len(well_ids) < 5000:
        dq = dq.filter(well_id__in=well_ids)
    wanted = set(well_ids)
    for dev, well, active in dq.values_list("pk", "well_id", "active"):
        if well in wanted:
            devices[well].append((dev, active))
    dev_ids = [d for ds in devices.values() for d, _ in ds]
    breaks = _meter_breaks(dev_ids, start - dt.timedelta(days=62), end + dt.timedelta(days=62))
    points, covered, _n_raw = _series(dev_ids, start, end, breaks)
    cfg = _config()
    until = min(end, now).timestamp()
    fallback = unmetered_daily_m3(wells)
    estimate_statuses = set(conf.get("UNMETERED_STATUSES"))
    out: dict[int, list[PeriodVolume]] = {}
    for w in wells:
        metered = [(d, a) for d, a in devices.get(w.pk, []) if points.get(d)]
        daily = fallback.get(w.pk, 0.0)
        if not metered:
            # Nothing to estimate before the period starts, or for a well whose status takes
            # no estimate (closed, sealed...): zero, and not flagged as an estimate.
            if until <= edges[0] or w.status not in estimate_statuses:
                out[w.pk] = [PeriodVolume(a, b, 0.0, 0.0, 0) for a, b in itertools.pairwise(edges)]
                continue
            vols = unmetered(edges, daily, until=until)
            if devices.get(w.pk):  # it has a device, but no meter data at all
                vols = [
                    PeriodVolume(
                        v.start, v.end, v.metered, v.estimated, v.flags | VolumeFlag.NO_DATA
                    )
                    for v in vols
                ]
            out[w.pk] = vols
            continue
        latest = max(metered, key=lambda da: max(t for t, _ in points[da[0]]))[0]
        total: list[PeriodVolume] | None = None
        for dev, active in metered:
            vols = series_volumes(
                points[dev],
                edges,
                breaks=breaks.get(dev, ()),
                config=cfg,
                estimate_after=active and dev == latest and w.status == "active",
                until=until,
                fallback_rate=daily / 86400.0,
                covered=covered.get(dev, ()),
            )
            total = (
                vols
                if total is None
                else [
                    PeriodVolume(
                        a.start,
                        a.end,
                        a.metered + b.metered,
                        a.estimated + b.estimated,
                        a.flags | b.flags,
                    )
                    for a, b in zip(total, vols, strict=True)
                ]
            )
        assert total is not None
        out[w.pk] = total
    return out


def _wells(wells: Iterable[int] | None) -> list[Any]:
    qs = Well.objects.only("pk", "status", "purpose")
    if wells is not None:
        qs = qs.filter(pk__in=list(wells))
    return list(qs.order_by("pk"))


def refresh(
    year: int, months: Iterable[int] | None = None, wells: Iterable[int] | None = None
) -> int:
    """Recompute and store the monthly figures (all months so far, all wells by default).

    Months after now are skipped. Returns the number of well-months stored.
    """
    from aquifer.accounting.models import WithdrawalMonth

    now = timezone.now()
    wanted = sorted(set(months or range(1, 13)))
    if any(not 1 <= m <= 12 for m in wanted):
        raise ValueError("month must be 1..12")
    wanted = [m for m in wanted if month_bounds(year, m)[0] < now]
    well_list = _wells(wells)
    if not wanted or not well_list:
        return 0

    refresh_rollups()  # the daily rollups up to the last reading
    stored = 0
    # Consecutive runs of months are computed together (one series read each).
    runs: list[list[int]] = []
    for m in wanted:
        if runs and runs[-1][-1] == m - 1:
            runs[-1].append(m)
        else:
            runs.append([m])
    metered_wells = set()

    metered_wells = set(Device.objects.filter(well__isnull=False).values_list("well_id", flat=True))
    for run in runs:
        for i in range(0, len(well_list), 1000):
            chunk = well_list[i : i + 1000]
            result = _compute(year, run, chunk, now)
            objs = [
                WithdrawalMonth(
                    well_id=wid,
                    year=year,
                    month=m,
                    metered_m3=round(v.metered, 3),
                    estimated_m3=round(v.estimated, 3),
                    flags=int(v.flags),
                    metered_by_device=wid in metered_wells and not v.flags & VolumeFlag.UNMETERED,
                    computed_at=now,
                )
                for wid, vols in result.items()
                for m, v in zip(run, vols, strict=True)
            ]
            with transaction.atomic():
                WithdrawalMonth.objects.bulk_create(
                    objs,
                    batch_size=2000,
                    update_conflicts=True,
                    unique_fields=["well", "year", "month"],
                    update_fields=[
                        "metered_m3",
                        "estimated_m3",
                        "flags",
                        "metered_by_device",
                        "computed_at",
                    ],
                )
            stored += len(objs)
    return stored


def _stale_months(year: int, well_ids: list[int] | None, explicit: bool) -> list[int]:
    """Months of ``year`` (up to now) whose stored rows are missing or not final."""
    from aquifer.accounting.models import WithdrawalMonth

    now = timezone.now()
    final_after = dt.timedelta(days=int(conf.get("FINAL_AFTER_DAYS")))
    fresh_for = dt.timedelta(minutes=float(conf.get("FRESH_MINUTES")))
    qs = WithdrawalMonth.objects.filter(year=year)
    if well_ids is not None:
        qs = qs.filter(well_id__in=well_ids)
    n_wells = len(well_ids) if well_ids is not None else _n_wells()
    counts: dict[int, int] = defaultdict(int)
    oldest: dict[int, dt.datetime] = {}
    # Counted and dated in the database: one row per month, whatever the number of wells.
    for m, n, at in (
        qs.order_by().values("month").annotate(n=Count("pk"), at=Min("computed_at"))
    ).values_list("month", "n", "at"):
        counts[m], oldest[m] = n, at
    stale = []
    for m in range(1, 13):
        start, end = month_bounds(year, m)
        if start >= now:
            break
        missing = counts[m] < n_wells
        open_month = m in oldest and oldest[m] < end + final_after
        if missing or (open_month and (explicit or oldest[m] < now - fresh_for)):
            stale.append(m)
    return stale


def as_of(year: int, month: int | None = None) -> dt.datetime | None:
    """When the stored figures of a period that are not final yet were computed (the oldest
    of them): a report that reuses them (``reuse_recent``) shows it. None when every month of
    the period is final (or nothing is stored)."""
    from aquifer.accounting.models import WithdrawalMonth

    now = timezone.now()
    final_after = dt.timedelta(days=int(conf.get("FINAL_AFTER_DAYS")))
    open_months = [
        m
        for m in ([month] if month else range(1, 13))
        if month_bounds(year, m)[0] < now and month_bounds(year, m)[1] + final_after > now
    ]
    if not open_months:
        return None
    found: dt.datetime | None = WithdrawalMonth.objects.filter(
        year=year, month__in=open_months
    ).aggregate(at=Min("computed_at"))["at"]
    return found


def _n_wells() -> int:
    return Well.objects.count()


def _ensure(year: int, ids: list[int] | None, reuse_recent: bool = False) -> None:
    """Compute and store the months of ``year`` that are missing or stale for ``ids`` (all
    wells: None). Named wells are always fresh unless ``reuse_recent`` (a report over many
    wells): then, like a county-wide read, non-final figures younger than ``FRESH_MINUTES``
    are reused."""
    stale = _stale_months(year, ids, explicit=ids is not None and not reuse_recent)
    if stale:
        refresh(year, stale, ids)


def ensure_fresh(year: int) -> None:
    """Make the stored figures of ``year`` fresh for every well, as a county-wide read does
    (non-final months younger than ``FRESH_MINUTES`` are reused): for a query over the stored
    :class:`~aquifer.accounting.models.WithdrawalMonth` rows themselves (permits'
    ``over_quota`` filter), so that it agrees with :func:`well_volumes` and :func:`totals`."""
    _ensure(year, None)


def monthly(
    year: int, wells: Iterable[int] | None = None, *, reuse_recent: bool = False
) -> dict[int, list[Volume]]:
    """Twelve monthly volumes per well (months after now are zero)."""
    from aquifer.accounting.models import WithdrawalMonth

    ids = sorted(set(wells)) if wells is not None else None
    _ensure(year, ids, reuse_recent)
    out: dict[int, list[Volume]] = {}
    for w in _wells(ids):
        out[w.pk] = [ZERO] * 12
    qs = WithdrawalMonth.objects.filter(year=year)
    if ids is not None:
        qs = qs.filter(well_id__in=ids)
    for wid, m, met, est, flags in qs.order_by().values_list(
        "well_id", "month", "metered_m3", "estimated_m3", "flags"
    ):
        if wid in out:
            out[wid][m - 1] = Volume(met, est, est > 0 or bool(flags & _ESTIMATE_FLAGS), flags)
    return out


_ESTIMATE_FLAGS = int(VolumeFlag.RATE_ESTIMATED | VolumeFlag.UNMETERED)


def _with_flags(v: Volume, bits: int) -> Volume:
    """``v`` with the flags ``bits`` of a stored month added (an estimate flag marks it
    estimated)."""
    flags = v.flags | bits
    return Volume(v.metered_m3, v.estimated_m3, v.estimated or bool(flags & _ESTIMATE_FLAGS), flags)


#: Where a level's key is read from a stored month (None: the county, one key).
_MONTHLY_KEYS = {
    "user": "well__owner_id",
    "zone": "well__zone_id",
    "township": "well__township_id",
    "county": None,
}


def monthly_totals(level: str, year: int) -> dict[int | None, list[Volume]]:
    """Twelve monthly volumes per user, zone or township (or the county, key None): what
    :func:`monthly` gives per well, summed per key — in the database (one row per key and
    month), not by loading twelve figures for every well. As :func:`totals`, wells with no
    owner or outside every zone are left out of ``user`` and ``zone``."""
    from aquifer.accounting.models import WithdrawalMonth

    if level not in _MONTHLY_KEYS:
        raise ValueError(f"level must be one of {', '.join(_MONTHLY_KEYS)}")
    _ensure(year, None)
    lookup = _MONTHLY_KEYS[level]
    qs = WithdrawalMonth.objects.filter(year=year).order_by()
    key = F(lookup) if lookup else Value(None, output_field=IntegerField())
    out: dict[int | None, list[Volume]] = {}
    sums = qs.values(k=key, m=F("month")).annotate(met=Sum("metered_m3"), est=Sum("estimated_m3"))
    for k, m, met, est in sums.values_list("k", "m", "met", "est"):
        months = out.setdefault(k, [ZERO] * 12)
        months[m - 1] = Volume(met or 0.0, est or 0.0, (est or 0.0) > 0)
    # The flags of the months that have any, OR-ed per key and month (few rows).
    flagged = qs.exclude(flags=0).values_list(lookup or "year", "month", "flags").distinct()
    for k, m, bits in flagged:
        months = out.setdefault(k if lookup else None, [ZERO] * 12)
        months[m - 1] = _with_flags(months[m - 1], bits)
    if level in ("user", "zone"):
        out.pop(None, None)
    return out


def _summed(
    year: int, month: int | None, key: str, ids: list[int] | None = None
) -> dict[Any, Volume]:
    """The stored monthly figures of ``year`` (or of one month) summed per ``key`` (a lookup
    from WithdrawalMonth: ``well_id``, ``well__zone_id``…) in the database: two queries, one
    row per key, however many wells and months there are."""
    from aquifer.accounting.models import WithdrawalMonth

    qs = WithdrawalMonth.objects.filter(year=year).order_by()
    if month is not None:
        qs = qs.filter(month=month)
    if ids is not None:
        qs = qs.filter(well_id__in=ids)
    out: dict[Any, Volume] = {}
    for k, met, est in (
        qs.values(k=F(key)).annotate(met=Sum("metered_m3"), est=Sum("estimated_m3"))
    ).values_list("k", "met", "est"):
        out[k] = Volume(met or 0.0, est or 0.0, (est or 0.0) > 0)
    # The flags of the rows that have any, OR-ed per key (few rows: most months carry none).
    for k, bits in qs.exclude(flags=0).values_list(key, "flags").distinct():
        out[k] = _with_flags(out.get(k, ZERO), bits)
    return out


def well_volumes(
    year: int,
    month: int | None = None,
    wells: Iterable[int] | None = None,
    *,
    reuse_recent: bool = False,
) -> dict[int, Volume]:
    """Each well's volume in a month, or in the year when ``month`` is None.

    ``reuse_recent``: named ``wells`` reuse non-final figures younger than ``FRESH_MINUTES``
    (a report over many wells) instead of being recomputed on every read."""
    if month is not None and not 1 <= month <= 12:
        raise ValueError("month must be 1..12")
    ids = sorted(set(wells)) if wells is not None else None
    _ensure(year, ids, reuse_recent)
    sums = _summed(year, month, "well_id", ids)
    qs = Well.objects.order_by("pk")
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return {pk: sums.get(pk, ZERO) for pk in qs.values_list("pk", flat=True)}


def totals(level: str, year: int, month: int | None = None) -> dict[int | None, Volume]:
    """Volumes summed per user, zone, township or county (key None) for a month or the year.

    For ``user`` and ``zone``, wells with no owner or outside every zone are left out. Summed
    from the stored monthly figures (made fresh first, as a county-wide read); a page that
    wants several levels asks :func:`totals_by` once."""
    return totals_by((level,), year, month)[level]


def totals_by(
    levels: Iterable[str], year: int, month: int | None = None
) -> dict[str, dict[int | None, Volume]]:
    """:func:`totals` at several levels from one reading: the stored figures are made fresh
    once, summed per well in the database (one row per well, no join), and folded into each
    level in Python — cheaper than a grouped join per level."""
    levels = tuple(levels)
    for level in levels:
        if level not in LEVELS:
            raise ValueError(f"level must be one of {', '.join(LEVELS)}")
    if month is not None and not 1 <= month <= 12:
        raise ValueError("month must be 1..12")
    _ensure(year, None)
    per_well = _summed(year, month, "well_id")
    wells = list(
        Well.objects.order_by("pk").values_list("pk", "owner_id", "zone_id", "township_id")
    )
    out: dict[str, dict[int | None, Volume]] = {}
    for level in levels:
        if level == "well":
            out[level] = {pk: per_well.get(pk, ZERO) for pk, *_ in wells}
            continue
        if level == "county":
            county = ZERO
            for v in per_well.values():
                county = county + v
            out[level] = {None: county}
            continue
        col = {"user": 1, "zone": 2, "township": 3}[level]
        folded: dict[int | None, Volume] = {}
        for row in wells:
            found = per_well.get(row[0])
            if found is not None:
                key = row[col]
                folded[key] = folded[key] + found if key in folded else found
        if level in ("user", "zone"):
            folded.pop(None, None)
        out[level] = folded
    return out


def year_month_days(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]
