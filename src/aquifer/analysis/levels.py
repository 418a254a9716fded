"""Level series of monitoring wells, their stored trends and forecasts (the Django shell).

A monitoring well's level series is the daily means of its well's devices (telemetry
``ReadingDaily``, rejected readings already left out) plus its manual soundings
(:class:`~aquifer.analysis.models.LevelMeasurement`), of one element: depth to water when the
well has any, else water level. :func:`compute_trends` reduces every series to monthly means
on one calendar grid ending this month and stores a :class:`WellTrend` per well and a
:class:`ZoneTrend` per zone for the day (idempotent: recomputing the same day replaces the
rows). :func:`compute_forecast` stores a :class:`LevelForecast` (a cache, per well and day).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import operator
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.db.models import (
    CharField,
    Count,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Substr, TruncMonth
from django.utils import timezone

from aquifer.analysis import forecast as fc
from aquifer.analysis import trends
from aquifer.analysis.models import (
    LevelElement,
    LevelForecast,
    LevelMeasurement,
    WellTrend,
    ZoneTrend,
)
from aquifer.registry.models import Device, MonitoringWell, Zone
from aquifer.telemetry.models import ReadingDaily
from aquifer.telemetry.store import refresh_rollups

__all__ = [
    "LevelSeries",
    "compute_forecast",
    "compute_forecasts",
    "compute_trends",
    "latest_well_trends",
    "level_series",
    "month_means",
    "monthly_grid",
]

ELEMENTS = (LevelElement.DEPTH.value, LevelElement.LEVEL.value)


@dataclass
class LevelSeries:
    """Observations of one monitoring well, one element, in local wall-clock time."""

    element: str
    times: list[datetime]
    values: list[float]
    sources: set[str]

    @property
    def value_is(self) -> str:
        return "depth" if self.element == LevelElement.DEPTH else "level"


def _collect(
    wells: Iterable[MonitoringWell],
) -> dict[int, dict[str, tuple[list[datetime], list[float], set[str]]]]:
    """Per monitoring well id, per element: times, values, sources (logger / manual)."""
    wells = list(wells)
    out: dict[int, dict[str, tuple[list[datetime], list[float], set[str]]]] = defaultdict(dict)
    by_well = {mw.well_id: mw.pk for mw in wells}
    devices = dict(Device.objects.filter(well_id__in=by_well).values_list("id", "well_id"))
    tz = timezone.get_current_timezone()
    rows = (
        ReadingDaily.objects.filter(device_id__in=devices, element__in=ELEMENTS)
        .order_by()
        .values_list("device_id", "element", "bucket", "sum", "n")
        .iterator(5000)
    )
    for device_id, element, bucket, s, n in rows:
        mw = by_well[devices[device_id]]
        t, v, src = out[mw].setdefault(element, ([], [], set()))
        t.append(bucket.astimezone(tz).replace(tzinfo=None))
        v.append(s / n)
        src.add("logger")
    manual = (
        LevelMeasurement.objects.filter(monitoring_well_id__in=[mw.pk for mw in wells])
        .order_by()
        .values_list("monitoring_well_id", "element", "measured_at", "value")
        .iterator(5000)
    )
    for mw_id, element, at, value in manual:
        t, v, src = out[mw_id].setdefault(element, ([], [], set()))
        t.append(at.astimezone(tz).replace(tzinfo=None))
        v.append(value)
        src.add("manual")
    return out


def _fixed_offset_minutes() -> int | None:
    """The local zone's UTC offset in minutes when it has no daylight saving (Asia/Shanghai)."""
    tz = timezone.get_current_timezone()
    year = timezone.now().year
    offsets = {datetime(year, m, 1, tzinfo=dt.UTC).astimezone(tz).utcoffset() for m in (1, 7)}
    if len(offsets) != 1:
        return None
    (off,) = offsets
    return None if off is None else int(off.total_seconds() // 60)


def _month_of(field: str) -> Any:
    """The local calendar month of a datetime column, computed by the database.

    PostgreSQL: ``TruncMonth`` (native). SQLite: Django's ``TruncMonth`` calls a Python function
    per row (about 25 µs: 5 s for 200,000 daily rows); with a zone of fixed offset the month is
    ``substr(datetime(col, '+480 minutes'), 1, 7)`` ("YYYY-MM") in SQLite's own C instead.
    """
    minutes = _fixed_offset_minutes()
    if connection.vendor == "sqlite" and minutes is not None:
        shifted = Func(
            F(field), Value(f"{minutes:+d} minutes"), function="datetime", output_field=CharField()
        )
        return Substr(shifted, 1, 7)
    return TruncMonth(field, tzinfo=timezone.get_current_timezone())


Acc = dict[int, list[float]]  # month index (year * 12 + month - 1) -> [sum of values, count]


def _monthly_sums(wells: list[MonitoringWell]) -> dict[int, dict[str, tuple[Acc, set[str]]]]:
    """Per monitoring well id, per element: the sum and count of daily means and soundings per
    local calendar month, aggregated in the database (the job's path: one row per month, not
    per day). The same monthly means as :func:`trends.monthly_means` of :func:`level_series`.
    """
    tz = timezone.get_current_timezone()
    out: dict[int, dict[str, tuple[Acc, set[str]]]] = defaultdict(dict)
    by_well = {mw.well_id: mw.pk for mw in wells}
    devices = dict(Device.objects.filter(well_id__in=by_well).values_list("id", "well_id"))

    def add(mw: int, element: str, month: Any, total: float, count: int, src: str) -> None:
        acc, sources = out[mw].setdefault(element, ({}, set()))
        if isinstance(month, str):  # "YYYY-MM" from SQLite (see _month_of)
            index = int(month[:4]) * 12 + int(month[5:7]) - 1
        else:
            local = month.astimezone(tz)
            index = local.year * 12 + local.month - 1
        cell = acc.setdefault(index, [0.0, 0.0])
        cell[0] += total
        cell[1] += count
        sources.add(src)

    daily = (
        ReadingDaily.objects.filter(device_id__in=devices, element__in=ELEMENTS)
        .annotate(month=_month_of("bucket"))
        .values("device_id", "element", "month")
        .annotate(total=Sum(F("sum") / F("n"), output_field=FloatField()), days=Count("id"))
        .order_by()
    )
    for r in daily.iterator(5000):
        mw = by_well[devices[r["device_id"]]]
        add(mw, r["element"], r["month"], r["total"], r["days"], "logger")
    manual = (
        LevelMeasurement.objects.filter(monitoring_well_id__in=[mw.pk for mw in wells])
        .annotate(month=_month_of("measured_at"))
        .values("monitoring_well_id", "element", "month")
        .annotate(total=Sum("value"), count=Count("id"))
        .order_by()
    )
    for r in manual.iterator(5000):
        add(r["monitoring_well_id"], r["element"], r["month"], r["total"], r["count"], "manual")
    return out


def _month_index(month: Any, tz: Any) -> int:
    """Month index (year * 12 + month - 1) of a :func:`_month_of` value."""
    if isinstance(month, str):  # "YYYY-MM" from SQLite (see _month_of)
        return int(month[:4]) * 12 + int(month[5:7]) - 1
    local = month.astimezone(tz)
    return int(local.year * 12 + local.month - 1)


def month_means(
    wells: QuerySet[MonitoringWell], months: Iterable[date]
) -> dict[int, tuple[str, dict[date, float]]]:
    """Per monitoring well id of ``wells``: the element of its level series (as
    :func:`level_series` picks it: depth to water when the well has any, else water level) and
    that element's monthly mean in each of ``months`` that has data — the same means as
    :func:`monthly_grid` of :func:`level_series`, for a few months of many wells.

    Five queries however many wells (the wells, the elements each has, then the sums and
    counts of the asked months only, grouped in the database); wells without data are absent.
    """
    tz = timezone.get_current_timezone()
    starts = sorted({date(m.year, m.month, 1) for m in months})
    by_well = dict(wells.values_list("well_id", "pk"))
    # Subqueries, not lists of ids: the same statements whatever the scope holds.
    logged = ReadingDaily.objects.filter(
        device__well_id__in=wells.values("well_id"), element__in=ELEMENTS
    )
    has: dict[int, set[str]] = defaultdict(set)
    present = logged.values_list("device__well_id", "element").order_by().distinct()
    for well_id, element in present:
        has[by_well[well_id]].add(element)
    manual_present = (
        LevelMeasurement.objects.filter(monitoring_well__in=wells.values("pk"))
        .values_list("monitoring_well_id", "element")
        .order_by()
        .distinct()
    )
    for mw, element in manual_present:
        has[mw].add(element)
    chosen = {mw: next(e for e in ELEMENTS if e in els) for mw, els in has.items() if els}
    acc: dict[int, dict[int, list[float]]] = defaultdict(dict)

    def add(mw: int, element: str, month: Any, total: float | None, count: int) -> None:
        if chosen.get(mw) != element or total is None:
            return
        cell = acc[mw].setdefault(_month_index(month, tz), [0.0, 0])
        cell[0] += total
        cell[1] += count

    def within(field: str) -> Q:
        """The local calendar months asked for, as ranges of ``field``."""
        parts = []
        for s in starts:
            nxt = date(s.year + s.month // 12, s.month % 12 + 1, 1)
            lo = timezone.make_aware(datetime(s.year, s.month, 1), tz)
            hi = timezone.make_aware(datetime(nxt.year, nxt.month, 1), tz)
            parts.append(Q(**{f"{field}__gte": lo, f"{field}__lt": hi}))
        return functools.reduce(operator.or_, parts)

    if starts:
        daily = (
            logged.filter(within("bucket"))
            .annotate(month=_month_of("bucket"))
            .values("device__well_id", "element", "month")
            .annotate(total=Sum(F("sum") / F("n"), output_field=FloatField()), days=Count("id"))
            .order_by()
        )
        for r in daily.iterator(5000):
            add(by_well[r["device__well_id"]], r["element"], r["month"], r["total"], r["days"])
        manual = (
            LevelMeasurement.objects.filter(within("measured_at"))
            .filter(monitoring_well__in=wells.values("pk"))
            .annotate(month=_month_of("measured_at"))
            .values("monitoring_well_id", "element", "month")
            .annotate(total=Sum("value"), count=Count("id"))
            .order_by()
        )
        for r in manual.iterator(5000):
            add(r["monitoring_well_id"], r["element"], r["month"], r["total"], r["count"])
    out: dict[int, tuple[str, dict[date, float]]] = {}
    for mw, element in chosen.items():
        out[mw] = (
            element,
            {
                date(k // 12, k % 12 + 1, 1): total / count
                for k, (total, count) in acc.get(mw, {}).items()
                if count
            },
        )
    return out


def _grid_of(acc: Acc, last: date) -> tuple[date, np.ndarray]:
    """Monthly means from the first month with data to ``last``'s month (NaN where empty)."""
    end = last.year * 12 + last.month - 1
    if not acc or min(acc) > end:
        return date(last.year, last.month, 1), np.empty(0)
    start = min(acc)
    grid = np.full(end - start + 1, np.nan)
    for k, (total, count) in acc.items():
        if start <= k <= end and count:
            grid[k - start] = total / count
    return date(start // 12, start % 12 + 1, 1), grid


def _pick(per_element: dict[str, tuple[list[datetime], list[float], set[str]]]) -> LevelSeries:
    for element in ELEMENTS:  # depth first: the element level loggers report
        if element in per_element and per_element[element][0]:
            t, v, src = per_element[element]
            return LevelSeries(element, t, v, src)
    return LevelSeries(LevelElement.DEPTH, [], [], set())


def level_series(mw: MonitoringWell) -> LevelSeries:
    """The level series of one monitoring well (see the module docstring)."""
    return _pick(_collect([mw]).get(mw.pk, {}))


def monthly_grid(series: LevelSeries, last: date) -> tuple[date, np.ndarray]:
    """Monthly means from the series' first month to ``last``'s month (NaN where empty)."""
    first, means = trends.monthly_means(series.times, series.values)
    if means.size == 0:
        return date(last.year, last.month, 1), np.empty(0)
    start = first.year * 12 + first.month - 1
    end = last.year * 12 + last.month - 1
    size = end - start + 1
    if size <= 0:
        return first.date(), np.empty(0)
    grid = np.full(size, np.nan)
    k = min(size, means.size)
    grid[:k] = means[:k]
    return first.date(), grid


def _align(grids: list[tuple[date, np.ndarray]], last: date) -> np.ndarray:
    """Rows on one grid ending at ``last``'s month, as long as the longest."""
    end = last.year * 12 + last.month - 1
    starts = [f.year * 12 + f.month - 1 for f, g in grids if g.size]
    start = min(starts) if starts else end
    out = np.full((len(grids), end - start + 1), np.nan)
    for i, (f, g) in enumerate(grids):
        if g.size:
            a = f.year * 12 + f.month - 1 - start
            out[i, a : a + g.size] = g
    return out


def _level_slope(a: trends.TrendAssessment, value_is: str) -> float | None:
    s = a.window_slope_per_year
    if s is None:
        return None
    return -s if value_is == "depth" else s


def _level_change(a: trends.TrendAssessment, value_is: str) -> float | None:
    c = a.same_month_change
    if c is None:
        return None
    return -c if value_is == "depth" else c


def _month_start(first: date, k: int) -> date:
    m = first.year * 12 + first.month - 1 + k
    return date(m // 12, m % 12 + 1, 1)


@transaction.atomic
def compute_trends(
    on: date | None = None, params: trends.StatusParams | None = None
) -> dict[str, int]:
    """Trend and recovery status of every level monitoring well and every zone, for ``on``
    (default today). Idempotent: rows of that day are replaced. Returns counts."""
    on = on or timezone.localdate()
    params = params or trends.StatusParams()
    refresh_rollups()  # the daily means up to the last reading
    wells = list(MonitoringWell.objects.filter(monitors_level=True).select_related("well"))
    sums = _monthly_sums(wells)
    chosen: dict[int, tuple[str, Acc, set[str]]] = {}
    for mw in wells:
        per = sums.get(mw.pk, {})
        element = next((e for e in ELEMENTS if e in per), LevelElement.DEPTH.value)
        acc, sources = per.get(element, ({}, set()))
        chosen[mw.pk] = (element, acc, sources)
    results: dict[int, tuple[trends.TrendAssessment, str, set[str], date | None]] = {}
    for element in ELEMENTS:
        group = [mw for mw in wells if chosen[mw.pk][0] == element]
        if not group:
            continue
        grids = [_grid_of(chosen[mw.pk][1], on) for mw in group]
        matrix = _align(grids, on)
        value_is = "depth" if element == LevelElement.DEPTH else "level"
        assessed = trends.assess_many(matrix, value_is, params)  # type: ignore[arg-type]
        for mw, a, (first, g) in zip(group, assessed, grids, strict=True):
            results[mw.pk] = (a, element, chosen[mw.pk][2], first if g.size else None)
    WellTrend.objects.filter(computed_on=on).delete()
    rows = []
    month_now = date(on.year, on.month, 1)
    for mw in wells:
        a, element, sources, start = results[mw.pk]
        value_is = "depth" if element == LevelElement.DEPTH else "level"
        rows.append(
            WellTrend(
                monitoring_well=mw,
                computed_on=on,
                element=element,
                sources="+".join(sorted(sources)),
                test=a.test,
                trend=a.trend,
                p=a.p,
                tau=a.tau,
                z=a.z,
                slope_per_year=a.slope_per_year,
                window_trend=a.window_trend,
                window_slope_per_year=a.window_slope_per_year,
                level_slope_per_year=_level_slope(a, value_is),
                same_month_change=_level_change(a, value_is),
                status=a.status,
                months=a.months,
                first_month=start,
                last_month=month_now if start else None,
            )
        )
    WellTrend.objects.bulk_create(rows)
    zones = _zone_trends(on, wells, rows)
    return {"wells": len(rows), "zones": zones}


def _zone_trends(on: date, wells: list[MonitoringWell], rows: list[WellTrend]) -> int:
    by_zone: dict[int, list[WellTrend]] = defaultdict(list)
    for mw, row in zip(wells, rows, strict=True):
        if mw.well.zone_id is not None:
            by_zone[mw.well.zone_id].append(row)
    ZoneTrend.objects.filter(computed_on=on).delete()
    out = []
    for zone in Zone.objects.all():
        members = by_zone.get(zone.pk, [])
        statuses = [r.status for r in members]
        assessed = [r for r in members if r.status != trends.NOT_ENOUGH_DATA]
        slopes = [r.level_slope_per_year for r in assessed if r.level_slope_per_year is not None]
        changes = [r.same_month_change for r in assessed if r.same_month_change is not None]
        out.append(
            ZoneTrend(
                zone=zone,
                computed_on=on,
                status=trends.zone_status(statuses),
                wells=len(members),
                wells_assessed=len(assessed),
                rising=statuses.count("rising"),
                stabilised=statuses.count("stabilised"),
                falling=statuses.count("falling"),
                months=max((r.months for r in members), default=0),
                level_slope_per_year=statistics.median(slopes) if slopes else None,
                same_month_change=statistics.median(changes) if changes else None,
            )
        )
    ZoneTrend.objects.bulk_create(out)
    return len(out)


def latest_well_trends(wells: QuerySet[MonitoringWell] | None = None) -> dict[int, WellTrend]:
    """The newest stored trend per monitoring well id (of ``wells``, or of every well): one
    query, one row per well however many days are stored."""
    newest = WellTrend.objects.filter(monitoring_well_id=OuterRef("monitoring_well_id")).order_by(
        "-computed_on"
    )
    qs = WellTrend.objects.filter(pk=Subquery(newest.values("pk")[:1]))
    if wells is not None:
        qs = qs.filter(monitoring_well__in=wells.values("pk"))
    return {t.monitoring_well_id: t for t in qs}


def latest_zone_trends() -> dict[int, ZoneTrend]:
    """The newest stored trend per zone id."""
    out: dict[int, ZoneTrend] = {}
    for t in ZoneTrend.objects.order_by("zone_id", "-computed_on"):
        out.setdefault(t.zone_id, t)
    return out


def compute_forecast(
    mw: MonitoringWell, on: date | None = None, horizon: int = 12, refresh: bool = False
) -> LevelForecast:
    """The cached forecast of ``mw`` for ``on`` (default today), computed when missing.

    The series is the well's monthly means up to the last complete month before ``on``.
    "Not enough data" is stored and shown as such (``enough_data`` False), never a guess.
    """
    on = on or timezone.localdate()
    if not refresh:
        cached = LevelForecast.objects.filter(monitoring_well=mw, computed_on=on).first()
        if cached is not None:
            return cached
    refresh_rollups()  # the daily means up to the last reading
    s = level_series(mw)
    prev = _month_start(date(on.year, on.month, 1), -1)
    first, grid = monthly_grid(s, prev)
    f = (
        fc.forecast(grid, first, horizon)
        if grid.size
        else fc.Forecast("harmonic", False, fc.NOT_ENOUGH_DATA)
    )
    points = {
        "first_month": first.isoformat() if grid.size else None,
        "observed": [None if math.isnan(v) else round(float(v), 4) for v in grid],
        "fitted": [None if v is None else round(v, 4) for v in f.fitted],
        "months": [m.isoformat() for m in f.months],
        "values": [round(v, 4) for v in f.values],
        "lower": [round(v, 4) for v in f.lower],
        "upper": [round(v, 4) for v in f.upper],
    }
    obj, _ = LevelForecast.objects.update_or_create(
        monitoring_well=mw,
        computed_on=on,
        defaults={
            "element": s.element,
            "method": f.method,
            "enough_data": f.enough_data,
            "message": f.message,
            "rmse": f.rmse,
            "nse": f.nse,
            "evp": f.evp,
            "baseline_rmse": f.baseline_rmse,
            "holdout_months": f.holdout_months,
            "data_until": prev if grid.size else None,
            "points": points,
        },
    )
    return obj


def compute_forecasts(on: date | None = None) -> int:
    """Forecasts of every level monitoring well for ``on`` (the weekly job)."""
    n = 0
    for mw in MonitoringWell.objects.filter(monitors_level=True):
        compute_forecast(mw, on, refresh=True)
        n += 1
    return n
