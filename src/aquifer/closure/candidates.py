"""Which wells should close, and why (closure candidates), with each well's volume before.

A candidate is an in-service groundwater well (active or standby, not a monitoring well) with
at least one reason:

- ``covered`` — it lies in a coverage area served on the date (the public network can take
  over: 阳水字〔2022〕100号 二(二) "张峰引水覆盖到哪里，地下水井关停到哪里");
- ``prohibited`` — it lies in a prohibited zone (地下水管理条例 第三十五条);
- ``no_permit`` — no active permit names it (取水许可和水资源费征收管理条例 第四十八条);
- ``overexploited`` — its zone is overexploited and has a reduction target for the year that
  the programme's wells do not yet meet: the zone's largest users are taken, biggest first,
  until the rest of the target is covered.

A well's *volume before* is its last 12 metered months (accounting's monthly volumes, metered
plus estimated), or where it has no meter its share of its permits' annual quotas.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import F, Q, Sum

from aquifer.accounting import service as accounting
from aquifer.accounting.models import WithdrawalMonth
from aquifer.closure.models import Basis, ClosureEntry, Reason, ReductionTarget
from aquifer.permits.models import Permit, PermitStatus
from aquifer.registry.choices import DeviceKind, WellPurpose, WellStatus, ZoneKind
from aquifer.registry.models import Device, Township, Well, Zone
from aquifer.registry.supply import served_index

__all__ = [
    "Candidate",
    "VolumeBefore",
    "by_reason",
    "candidates",
    "last_12_months",
    "narrow",
    "volumes_before",
]

IN_SERVICE = (WellStatus.ACTIVE, WellStatus.STANDBY)
#: What a candidate row shows of its well. Its zone and township are loaded once for the
#: county and shared (:attr:`Candidate.zone`, :attr:`Candidate.township`): a join would make
#: a copy of each for every one of the county's 2,000 in-service wells.
CANDIDATE_FIELDS = (
    "code",
    "name",
    "lon",
    "lat",
    "layer",
    "status",
    "purpose",
    "owner_id",
    "zone",
    "township",
)


@dataclass(frozen=True)
class VolumeBefore:
    m3: float
    basis: str


@dataclass
class Candidate:
    well: Well
    reasons: list[str] = field(default_factory=list)
    volume: VolumeBefore = VolumeBefore(0.0, Basis.NONE)
    coverage_area: Any = None
    in_programme: bool = False
    zone: Zone | None = None
    township: Township | None = None

    def reason_labels(self) -> list[str]:
        return [str(Reason(r).label) for r in self.reasons]

    @property
    def basis_label(self) -> str:
        return str(Basis(self.volume.basis).label)


def last_12_months(on: dt.date) -> list[tuple[int, int]]:
    """The 12 whole months before the month of ``on``, oldest first, as (year, month)."""
    y, m = on.year, on.month
    out = []
    for _ in range(12):
        m -= 1
        if m == 0:
            y, m = y - 1, 12
        out.append((y, m))
    return out[::-1]


def _metered_wells(ids: list[int]) -> set[int]:
    return set(
        Device.objects.filter(well_id__in=ids, kind=DeviceKind.FLOW_METER).values_list(
            "well_id", flat=True
        )
    )


def _permitted_shares(ids: list[int]) -> dict[int, float]:
    """Each well's share of its active groundwater permits' annual quotas (split evenly among
    a permit's wells)."""
    shares: dict[int, float] = defaultdict(float)
    through = Permit.wells.through
    rows = through.objects.filter(
        permit__status=PermitStatus.ACTIVE, permit__source__in=("shallow", "deep")
    ).values_list("permit_id", "well_id", "permit__annual_quota_m3")
    per_permit: dict[int, list[int]] = defaultdict(list)
    quota: dict[int, int] = {}
    for pid, wid, q in rows:
        per_permit[pid].append(wid)
        quota[pid] = q
    wanted = set(ids)
    for pid, wells in per_permit.items():
        for wid in wells:
            if wid in wanted:
                shares[wid] += quota[pid] / len(wells)
    return dict(shares)


def _stored_sums(ids: list[int], months: list[tuple[int, int]]) -> dict[int, float]:
    """Sum of the stored monthly volumes (accounting's ``WithdrawalMonth``, kept fresh by its
    hourly ``accounting.refresh`` job) per well over ``months``: one query."""
    cond = Q()
    for year in sorted({y for y, _ in months}):
        cond |= Q(year=year, month__in=[m for y, m in months if y == year])
    rows = (
        WithdrawalMonth.objects.filter(cond)
        .values("well_id")
        .annotate(total=Sum(F("metered_m3") + F("estimated_m3")))
        .order_by()
    )
    if len(ids) < 900:  # below SQLite's parameter limit: let the database narrow it
        rows = rows.filter(well_id__in=ids)
    wanted = set(ids)
    return {r["well_id"]: float(r["total"] or 0.0) for r in rows if r["well_id"] in wanted}


def volumes_before(
    wells: Iterable[int], on: dt.date, fresh: bool = False
) -> dict[int, VolumeBefore]:
    """Each well's volume before (m³ over the last 12 months, or its permitted share).

    ``fresh``: compute the months through accounting (``monthly``, which refreshes what is
    stale) — for one well entering the programme; the candidates list reads the stored
    months instead (one query for the county)."""
    ids = sorted(set(wells))
    if not ids:
        return {}
    months = last_12_months(on)
    metered_sum: dict[int, float] = defaultdict(float)
    if fresh:
        for year in sorted({y for y, _ in months}):
            wanted = [m for y, m in months if y == year]
            for wid, vols in accounting.monthly(year, ids).items():
                for m in wanted:
                    v = vols[m - 1]
                    metered_sum[wid] += float(v.metered_m3) + float(v.estimated_m3)
    else:
        metered_sum.update(_stored_sums(ids, months))
    meters = _metered_wells(ids)
    shares = _permitted_shares(ids)
    out: dict[int, VolumeBefore] = {}
    for wid in ids:
        if wid in meters:
            out[wid] = VolumeBefore(round(metered_sum.get(wid, 0.0), 1), Basis.METERED)
        elif wid in shares:
            out[wid] = VolumeBefore(round(shares[wid], 1), Basis.PERMITTED)
        elif metered_sum.get(wid):
            out[wid] = VolumeBefore(round(metered_sum[wid], 1), Basis.ESTIMATED)
        else:
            out[wid] = VolumeBefore(0.0, Basis.NONE)
    return out


def _zone_gaps(year: int) -> dict[int, float]:
    """Overexploited zones' reduction still missing for ``year``: target − the programme's
    volumes before (every entry counts: it is planned to go)."""
    targets = dict(
        ReductionTarget.objects.filter(
            year=year, zone__isnull=False, zone__kind=ZoneKind.OVEREXPLOITED
        ).values_list("zone_id", "reduction_m3")
    )
    if not targets:
        return {}
    planned: dict[int, float] = defaultdict(float)
    for zid, m3 in ClosureEntry.objects.filter(well__zone_id__in=targets).values_list(
        "well__zone_id", "baseline_m3"
    ):
        planned[zid] += m3
    return {z: t - planned[z] for z, t in targets.items() if t - planned[z] > 0}


def candidates(on: dt.date, wells: Any = None, include_programme: bool = False) -> list[Candidate]:
    """The closure candidates on ``on`` among ``wells`` (a Well queryset; default all), each
    with its reasons; wells already in the programme are left out unless
    ``include_programme``."""
    qs = (
        (wells if wells is not None else Well.objects.all())
        .filter(status__in=IN_SERVICE)
        .exclude(purpose__in=(WellPurpose.MONITORING,))
    )
    qs = qs.only(*CANDIDATE_FIELDS).order_by("code")
    if not include_programme:
        qs = qs.exclude(closure__isnull=False)
    rows = list(qs)
    if not rows:
        return []
    ids = [w.pk for w in rows]
    index = served_index(on)
    areas = index.assign([w.lon for w in rows], [w.lat for w in rows])
    wanted = set(ids)
    permitted = {
        w
        for w in Permit.wells.through.objects.filter(
            permit__status=PermitStatus.ACTIVE
        ).values_list("well_id", flat=True)
        if w in wanted
    }
    in_programme = {
        w for w in ClosureEntry.objects.values_list("well_id", flat=True) if w in wanted
    }
    gaps = _zone_gaps(on.year)
    volumes = volumes_before(ids, on)
    zones = Zone.objects.only("code", "name", "kind", "layer").in_bulk()
    townships = Township.objects.only("code", "name").in_bulk()
    out: list[Candidate] = []
    by_zone: dict[int, list[Candidate]] = defaultdict(list)
    for w, area in zip(rows, areas, strict=True):
        c = Candidate(w, volume=volumes.get(w.pk, VolumeBefore(0.0, Basis.NONE)))
        c.zone, c.township = zones.get(w.zone_id), townships.get(w.township_id)
        c.in_programme = w.pk in in_programme
        if area is not None:
            c.reasons.append(Reason.COVERED)
            c.coverage_area = area
        if c.zone is not None and c.zone.kind == ZoneKind.PROHIBITED:
            c.reasons.append(Reason.PROHIBITED)
        if w.pk not in permitted:
            c.reasons.append(Reason.NO_PERMIT)
        if w.zone_id in gaps and not c.in_programme:
            by_zone[w.zone_id].append(c)
        out.append(c)
    for zid, cands in by_zone.items():
        missing = gaps[zid]
        for c in sorted(cands, key=lambda c: (-c.volume.m3, c.well.code)):
            if missing <= 0 or c.volume.m3 <= 0:
                break
            c.reasons.append(Reason.OVEREXPLOITED)
            missing -= c.volume.m3
    order = list(Reason.values)
    for c in out:
        c.reasons.sort(key=order.index)
    return [c for c in out if c.reasons]


def narrow(
    found: list[Candidate], township_id: int | None = None, reason: str = "", q: str = ""
) -> list[Candidate]:
    """The candidates of one township, with one reason, whose well code or name holds ``q``
    (case-insensitive). Applied to the county's candidates, not to the wells searched: which
    wells an overexploited zone needs depends on every well of the zone."""
    needle = q.strip().casefold()

    def named(w: Well) -> bool:
        return not needle or needle in w.code.casefold() or needle in (w.name or "").casefold()

    return [
        c
        for c in found
        if (township_id is None or c.well.township_id == township_id)
        and (not reason or reason in c.reasons)
        and named(c.well)
    ]


def by_reason(found: list[Candidate]) -> list[tuple[str, int, float]]:
    """Per reason (in the order of :class:`Reason`): how many candidates have it and their
    volume before in m³ (a well with two reasons counts under both)."""
    n: dict[str, int] = defaultdict(int)
    m3: dict[str, float] = defaultdict(float)
    for c in found:
        for r in c.reasons:
            n[r] += 1
            m3[r] += c.volume.m3
    return [(r, n[r], round(m3[r], 1)) for r in Reason.values if n[r]]
