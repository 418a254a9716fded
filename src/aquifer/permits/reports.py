"""What the permit pages, API and Excel exports show: access rules, quota use, zone ledger.

Access: the rules are declared in :mod:`aquifer.permits.policies`; the functions here add
the workflow's state checks (an application still open, a permit still active).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet, prefetch_related_objects
from django.utils.translation import gettext as _

from aquifer.accounting import service as accounting
from aquifer.core.roles import Action
from aquifer.core.scoping import allowed, can, visible_to
from aquifer.permits.models import (
    ApplicationStatus,
    Permit,
    PermitApplication,
    PermitStatus,
)
from aquifer.registry.models import Township, Zone

__all__ = [
    "can_apply",
    "can_decide",
    "can_request",
    "can_review",
    "ledger",
    "ledger_rows",
    "monthly_use",
    "name_rows",
    "permits_visible",
    "quota_rows",
]


def permits_visible(user: Any) -> QuerySet[Permit]:
    return (
        visible_to(user, Action.VIEW, Permit)
        .select_related("holder", "township")
        .defer("township__boundary")
    )


def can_apply(user: Any, holder: Any = None) -> bool:
    """May ``user`` apply for a permit (for ``holder``, a water user)? The policy's ``apply``
    rule, judged on the permit the application would create."""
    if holder is None:
        return can(user, "apply", Permit)
    return can(user, "apply", Permit(holder_id=holder.pk, township_id=holder.township_id))


def can_review(user: Any, app: PermitApplication) -> bool:
    return app.status == ApplicationStatus.SUBMITTED and can(user, "review", app)


def can_decide(user: Any, app: PermitApplication | None = None) -> bool:
    if app is None:
        return can(user, "decide", PermitApplication)
    return app.is_open and can(user, "decide", app)


def can_manage(user: Any) -> bool:
    """Quota changes, cancellations, rule settings, emergency windows: the bureau."""
    return allowed(user, "permits.manage")


def can_request(user: Any, permit: Permit) -> bool:
    return permit.status == PermitStatus.ACTIVE and can(user, "request", permit)


def can_see_rules(user: Any) -> bool:
    return allowed(user, "permits.rules")


def can_see_ledger(user: Any) -> bool:
    """County figures, read-only, for the bureau, township officers and inspectors."""
    return allowed(user, "permits.ledger")


# ----------------------------------------------------------------------------- accounting


def _total(v: Any) -> float:
    return float(v.total_m3) if v is not None else 0.0


def _estimated(v: Any) -> float:
    return float(v.estimated_m3) if v is not None else 0.0


@dataclass
class QuotaRow:
    permit: Permit
    year: int
    used_m3: float
    estimated_m3: float

    @property
    def pk(self) -> int:
        """The permit's id: a row per permit."""
        return self.permit.pk

    @property
    def quota_m3(self) -> int:
        return int(self.permit.annual_quota_m3)

    @property
    def share(self) -> float | None:
        return self.used_m3 / self.quota_m3 if self.quota_m3 else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "permit": self.permit.pk,
            "number": self.permit.number,
            "holder": str(self.permit.holder),
            "year": self.year,
            "quota_m3": self.quota_m3,
            "used_m3": round(self.used_m3, 1),
            "estimated_m3": round(self.estimated_m3, 1),
            "share": round(self.share, 4) if self.share is not None else None,
        }


def quota_rows(permits: Iterable[Permit], year: int) -> list[QuotaRow]:
    """Used / quota for each permit in ``year`` (accounting's well_volumes of its wells).

    A fixed number of queries however many permits and wells: the permits (a queryset's
    prefetches are dropped: the links are read as plain ids, one query; a page of rows
    prefetches the applications it names unnumbered permits by, :func:`name_rows`), and
    accounting's sums per well, which reuse the stored figures while younger than
    ``FRESH_MINUTES`` (:func:`aquifer.accounting.service.as_of` says when they were computed).
    """
    if isinstance(permits, QuerySet):
        permits = permits.prefetch_related(None)
    permits = list(permits)
    well_ids: dict[int, list[int]] = {p.pk: [] for p in permits}
    links = Permit.wells.through.objects.filter(permit_id__in=list(well_ids)).order_by()
    for permit_id, well_id in links.values_list("permit_id", "well_id"):
        well_ids[permit_id].append(well_id)
    all_wells = sorted({w for ws in well_ids.values() for w in ws})
    vols: dict[int, Any] = {}
    if all_wells:
        # A report over many wells: the stored figures, recomputed when older than
        # FRESH_MINUTES (the page shows their time), not on every request.
        vols = dict(accounting.well_volumes(year, None, wells=all_wells, reuse_recent=True))
    return [
        QuotaRow(
            p,
            year,
            sum(_total(vols.get(w)) for w in well_ids[p.pk]),
            sum(_estimated(vols.get(w)) for w in well_ids[p.pk]),
        )
        for p in permits
    ]


def name_rows(rows: Iterable[QuotaRow]) -> None:
    """Prefetch the applications of the rows' permits (an unnumbered permit goes by its
    application's number): one query for the rows shown, not one per row."""
    prefetch_related_objects([r.permit for r in rows], "applications")


def monthly_use(permit: Permit, year: int) -> list[dict[str, float]]:
    """The permit's withdrawal per month of ``year``."""
    wells = [w.pk for w in permit.wells.all()]
    months = [{"month": m + 1, "metered_m3": 0.0, "estimated_m3": 0.0} for m in range(12)]
    if not wells:
        return months
    for series in dict(accounting.monthly(year, wells=wells)).values():
        for i, v in enumerate(list(series)[:12]):
            months[i]["metered_m3"] += float(v.metered_m3)
            months[i]["estimated_m3"] += float(v.estimated_m3)
    return months


def ledger(year: int) -> dict[str, list[dict[str, Any]]]:
    """The zone ledger: per zone and per township, allowable vs permitted vs metered (m³/a).

    Permitted: active groundwater permits (a zone's: permits judged by it, services.permit_zone;
    a township's: the capped sources, as the rule engine counts them). Allowable: the zone's
    allowable extraction; a township's cap from the rule settings (None = none set). Metered:
    accounting's totals for the year (metered + estimated, estimated shown apart).
    """
    from aquifer.permits import services

    state = services.county_state()
    conf = services.current_settings()
    caps = dict(conf.township_caps or {}) if conf else {}
    vols = accounting.totals_by(("zone", "township", "county"), year)
    zone_vols: dict[Any, Any] = dict(vols["zone"])
    town_vols: dict[Any, Any] = dict(vols["township"])
    zones = []
    for z in Zone.objects.select_related("supervising_township").order_by("layer", "kind", "code"):
        v = zone_vols.get(z.pk)
        zones.append(
            {
                "id": z.pk,
                "code": z.code,
                "name": z.name,
                "kind": z.kind,
                "kind_label": str(z.get_kind_display()),
                "layer": z.layer,
                "layer_label": str(z.get_layer_display()),
                "township": str(z.supervising_township or ""),
                "allowable_m3": int(z.allowable_extraction_m3),
                "permitted_m3": int(state.zone_totals.get(z.code, 0)),
                "metered_m3": round(_total(v), 1),
                "estimated_m3": round(_estimated(v), 1),
            }
        )
    towns = []
    for t in Township.objects.current().order_by("code"):
        v = town_vols.get(t.pk)
        towns.append(
            {
                "id": t.pk,
                "code": t.code,
                "name": t.name,
                "allowable_m3": caps.get(t.code),
                "permitted_m3": int(state.township_totals.get(t.code, 0)),
                "metered_m3": round(_total(v), 1),
                "estimated_m3": round(_estimated(v), 1),
            }
        )
    county = dict(vols["county"]).get(None)
    return {
        "zones": zones,
        "townships": towns,
        "county": [
            {
                "allowable_m3": conf.county_cap_m3 if conf else None,
                "permitted_m3": state.county_total,
                "metered_m3": round(_total(county), 1),
                "estimated_m3": round(_estimated(county), 1),
            }
        ],
    }


def ledger_rows(data: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The ledger's rows (:func:`ledger`) in one list, each with its level: the export's rows."""
    out = []
    for level, label in (("zones", _("分区")), ("townships", _("乡镇")), ("county", _("全县"))):
        out += [{**r, "level": str(label)} for r in data[level]]
    return out
