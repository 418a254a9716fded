"""Scoped withdrawal and tax reports: what pages, the API and exports show to whom.

Who sees what (docs/accounting.md, "Scoping"):

=============  ==============================================================================
role           withdrawal                                       tax estimate
=============  ==============================================================================
bureau         every level, monthly and annual                  every user
inspector      every level, monthly and annual (casework)       —
township       wells and users of its township; zones,          users of its township
               townships and county (county figures, read-only)
water user     its own wells and itself; township and county    its own
               annual totals
public, anon.  township and county annual totals (R5.1)         —
=============  ==============================================================================
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from aquifer.accounting import conf, hooks, service, tax
from aquifer.accounting.service import ZERO, Volume
from aquifer.core.roles import Action
from aquifer.core.scoping import allowed, visible_to
from aquifer.registry.models import Township, WaterUser, Well, Zone

__all__ = [
    "LEVEL_LABELS",
    "Row",
    "TaxRow",
    "allowed_levels",
    "may_see_monthly",
    "may_see_tax",
    "rule_for",
    "rules_on",
    "tax_rows",
    "withdrawal_rows",
]


def LEVEL_LABELS() -> dict[str, str]:
    return {
        "well": _("取水井"),
        "user": _("取用水户"),
        "zone": _("分区"),
        "township": _("乡镇"),
        "county": _("全县"),
    }


@dataclass
class Row:
    """One entity's withdrawal: 12 months (or one) and the total."""

    key: int | None
    code: str
    name: str
    months: list[Volume]
    total: Volume = ZERO
    township: str = ""

    def __post_init__(self) -> None:
        total = ZERO
        for v in self.months:
            total = total + v
        self.total = total


def allowed_levels(user: Any) -> list[str]:
    if allowed(user, "accounting.all_levels"):
        return ["well", "user", "zone", "township", "county"]
    if allowed(user, "accounting.own_levels"):
        return ["well", "user", "township", "county"]
    return ["township", "county"]


def may_see_monthly(user: Any, level: str) -> bool:
    """The public and water users see township and county totals by year only (R5.1), unless
    the bureau publishes them by month (``AQUIFER["ACCOUNTING"]["PUBLIC_MONTHLY"]``)."""
    if allowed(user, "accounting.all_levels"):
        return True
    if allowed(user, "accounting.own_levels") and level in ("well", "user"):
        return True
    return level in ("township", "county") and bool(conf.get("PUBLIC_MONTHLY"))


def may_see_tax(user: Any) -> bool:
    return allowed(user, "accounting.tax_report")


def _well_ids(user: Any) -> list[int] | None:
    """The wells whose single figures the user may see (None: all)."""

    if allowed(user, "accounting.all_wells"):
        return None
    return list(visible_to(user, Action.VIEW, Well).values_list("pk", flat=True))


def withdrawal_rows(user: Any, level: str, year: int, month: int | None = None) -> list[Row]:
    """The rows of ``level`` the user may see, each with 12 months (or the one asked for).

    Raises PermissionDenied for a level or a monthly view the role may not see.
    """

    if level not in allowed_levels(user):
        raise PermissionDenied(_("您的角色无权查看该层级的取水量。"))
    if month is not None and not may_see_monthly(user, level):
        raise PermissionDenied(_("您的角色只能查看年度合计。"))
    pick = (lambda vs: [vs[month - 1]]) if month is not None else (lambda vs: vs)
    if level == "well":
        ids = _well_ids(user)
        # Plain columns: a joined township would bring its boundary, parsed once per well.
        wells = Well.objects.order_by("code").values_list("pk", "code", "name", "township__name")
        if ids is not None:
            wells = wells.filter(pk__in=ids)
        vols = service.monthly(year, None if ids is None else ids)
        return [
            Row(pk, code, name, pick(vols.get(pk, [ZERO] * 12)), township=township or "")
            for pk, code, name, township in wells
        ]
    grouped = service.monthly_totals(level, year)
    if level == "county":
        name = settings.AQUIFER.get("COUNTY_NAME", "")
        return [Row(None, settings.AQUIFER.get("COUNTY_CODE", ""), name,
                    pick(grouped.get(None, [ZERO] * 12)))]  # fmt: skip
    if level == "township":
        objs = Township.objects.filter(Q(is_current=True) | Q(pk__in=list(grouped)))
        return [Row(t.pk, t.code, t.name, pick(grouped.get(t.pk, [ZERO] * 12))) for t in objs]
    if level == "zone":
        zones = Zone.objects.order_by("code")
        return [Row(z.pk, z.code, str(z), pick(grouped.get(z.pk, [ZERO] * 12))) for z in zones]
    users = (
        visible_to(user, Action.VIEW, WaterUser)
        .select_related("township")
        .only("uscc", "name", "township__name")
    )
    return [
        Row(u.pk, u.uscc, u.name, pick(grouped.get(u.pk, [ZERO] * 12)), township=u.township.name)
        for u in users
    ]


# --- Tax ----------------------------------------------------------------------------------------


@dataclass
class TaxRow:
    user_id: int
    name: str
    township: str
    use_type: str
    use_type_label: str
    volume: Volume
    estimate: tax.TaxEstimate | None
    category: str = ""
    rate_source: str = ""
    notes: list[str] = field(default_factory=list)


def _current(qs: Any, on: dt.date) -> Any:
    return qs.filter(effective_from__lte=on).filter(
        Q(effective_until__isnull=True) | Q(effective_until__gte=on)
    )


def _rule(rate: Any, mults: list[Any]) -> tuple[tax.TaxRule, Any]:
    tiers = [(m.above_pct, m.factor) for m in mults if m.kind == "over_quota"]
    zone_factors = {m.kind: m.factor for m in mults if m.kind != "over_quota"}
    confirmed = bool(rate and rate.confirmed) and all(m.confirmed for m in mults)
    if rate is None:
        return tax.TaxRule(rate=Decimal(0), confirmed=False), None
    return (
        tax.TaxRule(
            rate=rate.yuan_per_m3,
            taxable_share=rate.taxable_share,
            exempt_within_quota=rate.exempt_within_quota,
            zone_factors=zone_factors,
            over_quota_tiers=tiers,
            confirmed=confirmed,
        ),
        rate,
    )


def rule_for(use_type: str, on: dt.date, water: str = "groundwater") -> tuple[tax.TaxRule, Any]:
    """The tax rule in force on ``on`` for a use type, and the TaxRate row (or None)."""
    from aquifer.accounting.models import TaxMultiplier, TaxRate

    rate = (
        _current(TaxRate.objects.filter(use_type=use_type, water=water), on)
        .order_by("-effective_from")
        .first()
    )
    return _rule(rate, list(_current(TaxMultiplier.objects.all(), on)))


def rules_on(on: dt.date, water: str = "groundwater") -> dict[str, tuple[tax.TaxRule, Any]]:
    """:func:`rule_for` of every use type that has a rate in force on ``on`` (two queries);
    a use type missing from the answer has no rate: ``rule_for`` gives its rule."""
    from aquifer.accounting.models import TaxMultiplier, TaxRate

    mults = list(_current(TaxMultiplier.objects.all(), on))
    out: dict[str, tuple[tax.TaxRule, Any]] = {}
    for rate in _current(TaxRate.objects.filter(water=water), on).order_by(
        "use_type", "-effective_from"
    ):
        if rate.use_type not in out:
            out[rate.use_type] = _rule(rate, mults)
    out[""] = _rule(None, mults)  # the rule of a use type without a rate
    return out


NOTE_LABELS = {
    "no_permit": _l("无有效取水许可证：按基本税额估算；未经批准取水的加倍倍数原文缺失，未计入。"),
    "unconfirmed_rate": _l("所用税额或倍数中有未核实项（见税额设置）。"),
    "exempt_within_quota": _l("许可水量以内免征。"),
    "no_rate": _l("该用水类型在此日期没有税额设置。"),
}


def _quotas(user_ids: list[int], year: int) -> dict[int, float]:
    """Annual groundwater quota per water user (the permits app answers the hook)."""
    return hooks.merged(hooks.user_groundwater_quotas(user_ids, year))


def tax_rows(user: Any, year: int, month: int | None = None) -> list[TaxRow]:
    """The tax estimate of each water user the caller may see, for a year or a month."""

    if not may_see_tax(user):
        raise PermissionDenied(_("您的角色无权查看水资源税估算。"))
    users = list(
        visible_to(user, Action.VIEW, WaterUser)
        .select_related("township")
        .only("pk", "name", "use_type", "township__name")
    )
    ids = [u.pk for u in users]
    # Plain values, not model instances: (well, owner, zone kind) of every well of these users.
    wells = list(
        Well.objects.filter(owner_id__in=ids).order_by().values_list("pk", "owner_id", "zone__kind")
    )
    # A report over many wells: the stored figures, recomputed when older than FRESH_MINUTES
    # (the page shows their time), not on every request.
    vols = service.well_volumes(year, month, [w[0] for w in wells], reuse_recent=True)
    quotas = _quotas(ids, year)
    if month is None:
        on = dt.date(year, 12, 31)
        share = 1.0
    else:
        days = calendar.monthrange(year, month)[1]
        on = dt.date(year, month, days)
        share = days / (366 if calendar.isleap(year) else 365)
    by_user: dict[int | None, list[tuple[int, str | None]]] = {}
    for wid, owner, kind in wells:
        by_user.setdefault(owner, []).append((wid, kind))
    out = []
    rules = rules_on(on)  # two queries, whatever the users and their use types
    categories: dict[int, str] = {}  # the rate's category label, translated once per rate
    use_labels = dict(WaterUser._meta.get_field("use_type").flatchoices)
    for u in users:
        uw = by_user.get(u.pk, [])
        rule, rate = rules.get(u.use_type) or rules[""]
        if rate is not None and rate.pk not in categories:
            categories[rate.pk] = str(rate.get_category_display())
        withdrawals = [
            tax.WellWithdrawal(wid, vols.get(wid, ZERO).total_m3, kind) for wid, kind in uw
        ]
        vol = ZERO
        for wid, _kind in uw:
            vol = vol + vols.get(wid, ZERO)
        quota = quotas.get(u.pk)
        est = tax.estimate(withdrawals, None if quota is None else quota * share, rule)
        notes = [str(NOTE_LABELS[n]) for n in est.notes]
        if rate is None:
            notes.append(str(NOTE_LABELS["no_rate"]))
        out.append(
            TaxRow(
                u.pk, u.name, u.township.name, u.use_type,
                str(use_labels.get(u.use_type, u.use_type)), vol, est,
                category=categories[rate.pk] if rate else "",
                rate_source=rate.source if rate else "",
                notes=notes,
            )
        )  # fmt: skip
    return out
