"""Annual extraction balance per zone and per township (R2.3), with the overexploitation grade.

Extraction (metered + estimated) comes from withdrawal accounting
(``aquifer.accounting.service.totals``); allowable extraction from the zone
(``Zone.allowable_extraction_m3``); the level decline rate from the zone's newest stored trend
(:class:`~aquifer.analysis.models.ZoneTrend`, the median level Sen slope of its wells, sign
turned so that positive = falling). Thresholds: ``settings.AQUIFER["OVEREXPLOITATION"]``
(:class:`~aquifer.analysis.overexploitation.Thresholds`; unconfirmed, see docs/analysis.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings

from aquifer.accounting import service as accounting
from aquifer.analysis import overexploitation as ox
from aquifer.analysis.levels import latest_zone_trends
from aquifer.core.roles import Action
from aquifer.core.scoping import visible_to
from aquifer.registry.models import Township, Zone

__all__ = ["TownshipRow", "ZoneRow", "township_rows", "zone_rows"]


def thresholds() -> ox.Thresholds:
    return ox.thresholds_from(getattr(settings, "AQUIFER", {}).get("OVEREXPLOITATION"))


@dataclass
class ZoneRow:
    zone: Zone
    balance: ox.Balance | None  # None: no extraction figures (accounting not available)
    status: str  # recovery status of the zone's newest trend, or "not enough data"
    level_slope: float | None


@dataclass
class TownshipRow:
    township: Township
    metered_m3: float | None
    estimated_m3: float | None

    @property
    def total_m3(self) -> float | None:
        if self.metered_m3 is None or self.estimated_m3 is None:
            return None
        return self.metered_m3 + self.estimated_m3


def zone_rows(user: Any, year: int, totals: Any = None) -> list[ZoneRow]:
    """One row per zone the user can see (zones are public). ``totals``: the year's volumes
    per zone when the caller has them (``accounting.totals_by``)."""
    totals = accounting.totals("zone", year) if totals is None else totals
    trends = latest_zone_trends()
    t = thresholds()
    rows = []
    for zone in visible_to(user, Action.VIEW, Zone).select_related("supervising_township"):
        tr = trends.get(zone.pk)
        slope = tr.level_slope_per_year if tr else None
        decline = -slope if slope is not None else None
        v = totals.get(zone.pk)
        metered = float(v.metered_m3) if v is not None else 0.0
        estimated = float(v.estimated_m3) if v is not None else 0.0
        balance = ox.assess_balance(
            metered, estimated, float(zone.allowable_extraction_m3), decline, zone.layer, t
        )
        rows.append(ZoneRow(zone, balance, tr.status if tr else ox.NOT_ENOUGH_DATA, slope))
    return rows


def township_rows(user: Any, year: int, totals: Any = None) -> list[TownshipRow]:
    """Extraction per township the user can see (current townships); ``totals`` as for
    :func:`zone_rows`."""
    totals = accounting.totals("township", year) if totals is None else totals
    rows = []
    for tw in visible_to(user, Action.VIEW, Township.objects.current()):
        v = totals.get(tw.pk)
        rows.append(
            TownshipRow(
                tw,
                float(v.metered_m3) if v is not None else 0.0,
                float(v.estimated_m3) if v is not None else 0.0,
            )
        )
    return rows
