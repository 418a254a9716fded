"""Read-only figures of the closure programme: extraction removed, progress, balance.

- :func:`removed` — per programme well the volume before (frozen when it entered the
  programme: last 12 metered months, or its permitted share) and after (what it took since
  closure: its meter's advance; a closed unmetered well is taken to take nothing), and the
  volume removed (before − after once closed, else 0);
- :func:`progress` — removed summed per township, zone and county, against the townships'
  and zones' reduction targets of the year;
- :func:`balance` — allowable (a zone's split over its townships by area, unless the bureau
  set the township's own, :class:`~aquifer.closure.models.TownshipAllowance`), permitted,
  metered, estimated, recharge (where entered), and what is over, per township and zone;
- :func:`closures_by_township` — what the township assessment reads: entries planned
  (deadline in the year), closed and verified in the year, per township.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import F, Max, QuerySet

from aquifer.accounting import service as accounting
from aquifer.closure.models import (
    ClosureEntry,
    ReductionTarget,
    Status,
    TownshipAllowance,
    ZoneRecharge,
)
from aquifer.core.geometry import GeometryError, parse_polygon
from aquifer.permits.models import Permit, PermitStatus
from aquifer.registry.models import Township, Zone
from aquifer.telemetry.models import Reading

__all__ = [
    "BalanceRow",
    "Progress",
    "RemovedRow",
    "balance",
    "closures_by_township",
    "progress",
    "removed",
]

CLOSED = (Status.CLOSED, Status.VERIFIED)


@dataclass
class RemovedRow:
    entry: ClosureEntry
    before_m3: float
    after_m3: float

    @property
    def removed_m3(self) -> float:
        if self.entry.status not in CLOSED:
            return 0.0
        return max(0.0, self.before_m3 - self.after_m3)


def _meter_tops(entries: list[ClosureEntry]) -> dict[int, float]:
    """Each closed well's highest meter reading after its closure (one query)."""
    ids = [e.well_id for e in entries if e.status in CLOSED and e.closed_at]
    if not ids:
        return {}
    rows = (
        Reading.objects.filter(
            device__well_id__in=ids,
            element="cumulative_volume",
            observed_at__gt=F("device__well__closure__closed_at"),
        )
        .values("device__well_id")
        .annotate(top=Max("value"))
        .order_by()
    )
    return {r["device__well_id"]: float(r["top"]) for r in rows}


def removed(entries: QuerySet[ClosureEntry] | None = None) -> list[RemovedRow]:
    qs = entries if entries is not None else ClosureEntry.objects.all()
    rows = list(qs.select_related("well", "well__zone", "township").order_by("well__code"))
    tops = _meter_tops(rows)
    out = []
    for e in rows:
        after = e.baseline_m3
        if e.status in CLOSED:
            top = tops.get(e.well_id)
            start = e.meter_at_closure_m3
            after = max(0.0, top - start) if top is not None and start is not None else 0.0
        out.append(RemovedRow(e, e.baseline_m3, round(after, 1)))
    return out


@dataclass
class Progress:
    """Removed volume of one township, zone or the county, against its target."""

    key: Any  # a Township, a Zone, or None for the county
    wells: int = 0
    closed: int = 0
    before_m3: float = 0.0
    removed_m3: float = 0.0
    target_m3: float | None = None

    @property
    def percent(self) -> float | None:
        if not self.target_m3:
            return None
        return round(100.0 * self.removed_m3 / self.target_m3, 1)


@dataclass
class ProgressReport:
    year: int
    townships: list[Progress] = field(default_factory=list)
    zones: list[Progress] = field(default_factory=list)
    county: Progress = field(default_factory=lambda: Progress(None))


def progress(year: int, entries: QuerySet[ClosureEntry] | None = None) -> ProgressReport:
    """Removed volume per township, zone and county by the end of ``year`` (entries closed
    later count as not yet removed), against the year's reduction targets."""
    end = dt.datetime(year, 12, 31, 23, 59, 59, tzinfo=dt.UTC)
    rows = removed(entries)
    tw: dict[int, Progress] = {}
    zn: dict[int, Progress] = {}
    report = ProgressReport(year)
    for r in rows:
        e = r.entry
        done = e.status in CLOSED and e.closed_at is not None and e.closed_at <= end
        parts = [tw.setdefault(e.township_id, Progress(e.township)), report.county]
        if e.well.zone_id:
            parts.append(zn.setdefault(e.well.zone_id, Progress(e.well.zone)))
        for p in parts:
            p.wells += 1
            p.before_m3 += r.before_m3
            if done:
                p.closed += 1
                p.removed_m3 += r.removed_m3
    for t in ReductionTarget.objects.filter(year=year).select_related("township", "zone"):
        if t.township_id:
            tw.setdefault(t.township_id, Progress(t.township)).target_m3 = float(t.reduction_m3)
        elif t.zone_id:
            zn.setdefault(t.zone_id, Progress(t.zone)).target_m3 = float(t.reduction_m3)
    report.townships = sorted(tw.values(), key=lambda p: p.key.code)
    report.zones = sorted(zn.values(), key=lambda p: p.key.code)
    totals = [p.target_m3 for p in report.townships if p.target_m3]
    report.county.target_m3 = sum(totals) if totals else None
    return report


def closures_by_township(year: int) -> dict[int, dict[str, int]]:
    """Per township id: programme wells planned (deadline in ``year``), closed (closed in
    ``year``) and verified (verified in ``year``). For the township assessment."""
    out: dict[int, dict[str, int]] = defaultdict(lambda: {"planned": 0, "closed": 0, "verified": 0})
    for tid, deadline, closed_at, verified_on in ClosureEntry.objects.values_list(
        "township_id", "deadline", "closed_at", "verified_on"
    ):
        if deadline.year == year:
            out[tid]["planned"] += 1
        if closed_at is not None and closed_at.year == year:
            out[tid]["closed"] += 1
        if verified_on is not None and verified_on.year == year:
            out[tid]["verified"] += 1
    return dict(out)


@dataclass
class BalanceRow:
    key: Any  # Township or Zone
    allowable_m3: float | None
    permitted_m3: float
    metered_m3: float
    estimated_m3: float
    recharge_m3: float | None = None
    reduction_target_m3: float | None = None
    removed_m3: float = 0.0

    @property
    def extracted_m3(self) -> float:
        return self.metered_m3 + self.estimated_m3

    @property
    def over_m3(self) -> float | None:
        if self.allowable_m3 is None:
            return None
        return round(self.extracted_m3 - self.allowable_m3, 1)

    @property
    def is_over(self) -> bool:
        over = self.over_m3
        return over is not None and over > 0


def township_allowable() -> dict[int, float]:
    """Each township's allowable extraction: every zone's allowable split over the townships
    it overlaps in proportion to the overlapping area (townships without a boundary get
    none)."""
    towns = []
    for t in Township.objects.current().exclude(boundary__isnull=True):
        try:
            towns.append((t.pk, parse_polygon(t.boundary)))
        except GeometryError:
            continue
    out: dict[int, float] = defaultdict(float)
    for z in Zone.objects.all():
        try:
            zg = parse_polygon(z.geometry)
        except GeometryError:
            continue
        if zg.area <= 0:
            continue
        for tid, tg in towns:
            share = zg.intersection(tg).area / zg.area
            if share > 0:
                out[tid] += share * float(z.allowable_extraction_m3)
    return dict(out)


def _permitted(level: str) -> dict[int, float]:
    """Active groundwater permits' quotas per township (the permit's) or zone (its wells')."""
    out: dict[int, float] = defaultdict(float)
    permits = Permit.objects.filter(status=PermitStatus.ACTIVE, source__in=("shallow", "deep"))
    if level == "township":
        for township_id, quota in permits.values_list("township_id", "annual_quota_m3"):
            out[township_id] += quota
        return dict(out)
    # The zones of each permit's wells, read as pairs (not a well object per permit and well).
    zones_of: dict[int, set[int]] = defaultdict(set)
    pairs = (
        Permit.wells.through.objects.filter(permit__in=permits, well__zone__isnull=False)
        .values_list("permit_id", "well__zone_id")
        .order_by()
        .distinct()
    )
    for permit_id, zone_id in pairs:
        zones_of[permit_id].add(zone_id)
    for permit_id, quota in permits.values_list("pk", "annual_quota_m3"):
        zones = zones_of.get(permit_id, set())
        for z in zones:
            out[z] += quota / len(zones)
    return dict(out)


def balance(year: int) -> tuple[list[BalanceRow], list[BalanceRow]]:
    """Per township and per zone: allowable, permitted, metered, estimated, recharge, over,
    and (zones) the year's reduction target with the volume removed so far."""
    prog = progress(year)
    removed_tw = {p.key.pk: p.removed_m3 for p in prog.townships}
    removed_zn = {p.key.pk: p.removed_m3 for p in prog.zones}
    targets_tw = {p.key.pk: p.target_m3 for p in prog.townships}
    targets_zn = {p.key.pk: p.target_m3 for p in prog.zones}
    vols = accounting.totals_by(("township", "zone"), year)
    vol_tw, vol_zn = vols["township"], vols["zone"]
    allow_tw = township_allowable()
    # Set by the bureau: replaces the area split for that township.
    allow_tw.update(
        {
            t: float(v)
            for t, v in TownshipAllowance.objects.values_list("township_id", "allowable_m3")
        }
    )
    perm_tw = _permitted("township")
    perm_zn = _permitted("zone")
    recharge = dict(ZoneRecharge.objects.filter(year=year).values_list("zone_id", "recharge_m3"))
    towns = []
    for t in Township.objects.current().order_by("code"):
        v = vol_tw.get(t.pk)
        towns.append(
            BalanceRow(
                t,
                round(allow_tw[t.pk], 1) if t.pk in allow_tw else None,
                perm_tw.get(t.pk, 0.0),
                float(v.metered_m3) if v else 0.0,
                float(v.estimated_m3) if v else 0.0,
                reduction_target_m3=targets_tw.get(t.pk),
                removed_m3=removed_tw.get(t.pk, 0.0),
            )
        )
    zones = []
    for z in Zone.objects.order_by("layer", "code"):
        v = vol_zn.get(z.pk)
        zones.append(
            BalanceRow(
                z,
                float(z.allowable_extraction_m3),
                perm_zn.get(z.pk, 0.0),
                float(v.metered_m3) if v else 0.0,
                float(v.estimated_m3) if v else 0.0,
                recharge_m3=float(recharge[z.pk]) if z.pk in recharge else None,
                reduction_target_m3=targets_zn.get(z.pk),
                removed_m3=removed_zn.get(z.pk, 0.0),
            )
        )
    return towns, zones
