"""The public monitoring wells' condition, computed once for all and stored in
:class:`~aquifer.portal.models.WellSnapshot` (the ``portal.snapshot`` job, and after the demo):
the portal's pages read one table, never the readings.

Per monitoring well: the latest daily mean of its loggers or its latest sounding (whichever
is newer), the change against the same month last year and the recovery status of its newest
stored trend (analysis ``WellTrend``: 回升 / 稳定 / 下降, 止降返升 being rising or
stabilised), the monthly means of the last ``HYDROGRAPH_MONTHS`` months (the hydrograph), and
the latest water-quality class with its deciding indicators (analysis ``QualitySample``).
Coordinates are rounded (``COORD_DECIMALS``; ``PRIVATE_COORD_DECIMALS`` for a monitoring
well on a private well, whose owner is never named and whose register code is replaced by
:func:`public_code`).
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import F, FloatField, OuterRef, Subquery
from django.db.models.functions import Cast
from django.utils import timezone

from aquifer.analysis import levels, quality
from aquifer.analysis.models import LevelMeasurement, QualitySample
from aquifer.portal import conf
from aquifer.portal.models import WellSnapshot
from aquifer.registry.models import Device, MonitoringWell
from aquifer.telemetry.models import ReadingDaily
from aquifer.telemetry.store import refresh_rollups

__all__ = ["indicator_names", "public_code", "refresh"]


def indicator_names(names: list[str]) -> list[list[str]]:
    """[[Chinese name, English name], …] of the deciding indicators."""
    out = []
    for name in names:
        try:
            ind = quality.find_indicator(name)
        except (KeyError, ValueError):
            out.append([name, name])
        else:
            out.append([ind.name_cn, ind.name_en])
    return out


def _latest_logged(well_ids: list[int], element: str) -> dict[int, tuple[Any, float]]:
    """Per well id: (time, value) of the newest daily mean of ``element`` of its devices."""
    newest = ReadingDaily.objects.filter(device_id=OuterRef("pk"), element=element).order_by(
        "-bucket"
    )
    rows = (
        Device.objects.filter(well_id__in=well_ids)
        .annotate(
            at=Subquery(newest.values("bucket")[:1]),
            mean=Subquery(
                newest.annotate(m=Cast(F("sum"), FloatField()) / Cast(F("n"), FloatField())).values(
                    "m"
                )[:1]
            ),
        )
        .filter(at__isnull=False)
        .values_list("well_id", "at", "mean")
    )
    out: dict[int, tuple[Any, float]] = {}
    for well_id, at, mean in rows:
        if well_id not in out or at > out[well_id][0]:
            out[well_id] = (at, mean)
    return out


def _latest_sounding(mw_ids: list[int], element: str) -> dict[int, tuple[Any, float]]:
    newest = LevelMeasurement.objects.filter(
        monitoring_well_id=OuterRef("pk"), element=element
    ).order_by("-measured_at")
    rows = (
        MonitoringWell.objects.filter(pk__in=mw_ids)
        .annotate(
            at=Subquery(newest.values("measured_at")[:1]),
            v=Subquery(newest.values("value")[:1]),
        )
        .filter(at__isnull=False)
        .values_list("pk", "at", "v")
    )
    return {pk: (at, v) for pk, at, v in rows}


def _latest_samples(well_ids: list[int]) -> dict[int, QualitySample]:
    newest = QualitySample.objects.filter(well_id=OuterRef("well_id"), klass__isnull=False)
    ids = (
        QualitySample.objects.filter(well_id__in=well_ids)
        .values("well_id")
        .annotate(latest=Subquery(newest.order_by("-sampled_at", "-id").values("id")[:1]))
        .values_list("latest", flat=True)
        .distinct()
    )
    return {s.well_id: s for s in QualitySample.objects.filter(pk__in=[i for i in ids if i])}


def public_code(mw: MonitoringWell) -> str:
    """The name the public knows a monitoring well on a private well by: not its register
    code (which the owner's papers carry), a number of its own."""
    return f"JC-{mw.pk:05d}"


def _hydrograph(acc: dict[int, list[float]], today: date, months: int) -> list[list[Any]]:
    first, grid = levels._grid_of(acc, today)
    start = first.year * 12 + first.month - 1
    points = []
    for k, v in enumerate(grid):
        if math.isnan(v):
            continue
        m = start + k
        points.append([f"{m // 12:04d}-{m % 12 + 1:02d}", round(float(v), 3)])
    return points[-months:] if months else points


def refresh(today: date | None = None) -> int:
    """Recompute every public monitoring well's snapshot (replacing the table). Returns the
    number of wells."""
    today = today or timezone.localdate()
    refresh_rollups()
    wells = list(
        MonitoringWell.objects.select_related("well", "well__township", "well__zone").order_by("pk")
    )
    mw_ids = [mw.pk for mw in wells]
    well_ids = [mw.well_id for mw in wells]
    sums = levels._monthly_sums(wells)
    trends = levels.latest_well_trends()
    latest = {e: _latest_logged(well_ids, e) for e in levels.ELEMENTS}
    manual = {e: _latest_sounding(mw_ids, e) for e in levels.ELEMENTS}
    samples = _latest_samples(well_ids)
    months = int(conf.get("HYDROGRAPH_MONTHS"))
    now = timezone.now()
    rows = []
    for mw in wells:
        w = mw.well
        per = sums.get(mw.pk, {})
        element = next((e for e in levels.ELEMENTS if e in per), levels.ELEMENTS[0])
        acc = per.get(element, ({}, set()))[0]
        candidates = [
            x for x in (latest[element].get(w.pk), manual[element].get(mw.pk)) if x is not None
        ]
        at, value = max(candidates, key=lambda x: x[0]) if candidates else (None, None)
        trend = trends.get(mw.pk)
        sample = samples.get(w.pk)
        private = w.owner_id is not None
        digits = int(conf.get("PRIVATE_COORD_DECIMALS" if private else "COORD_DECIMALS"))
        rows.append(
            WellSnapshot(
                monitoring_well=mw,
                code=public_code(mw) if private else w.code,
                name=w.name if not private else "",
                township=w.township.name if w.township_id else "",
                township_id_ref=w.township_id,
                zone=w.zone.name if w.zone_id and w.zone else "",
                network=mw.network,
                layer=w.layer,
                lon=round(w.lon, digits),
                lat=round(w.lat, digits),
                private=private,
                element=element if mw.monitors_level else "",
                latest_value=round(value, 3) if value is not None else None,
                latest_at=at,
                same_month_change=trend.same_month_change if trend else None,
                status=trend.status if trend else "",
                slope_per_year=trend.level_slope_per_year if trend else None,
                quality_class=sample.klass if sample else None,
                quality_deciding=indicator_names(list(sample.deciding)) if sample else [],
                quality_sampled_at=sample.sampled_at if sample else None,
                hydrograph=_hydrograph(acc, today, months) if mw.monitors_level else [],
                refreshed_at=now,
            )
        )
    with transaction.atomic():
        WellSnapshot.objects.all().delete()
        WellSnapshot.objects.bulk_create(rows, batch_size=500)
    return len(rows)
