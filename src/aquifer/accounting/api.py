"""REST API of the accounting app: withdrawal by well/user/zone/township/county, tax estimates.

Do not add ``from __future__ import annotations`` (django-ninja reads these annotations).
Scoping is :mod:`aquifer.accounting.reports`'s: a level or a monthly view the role may not see
is a 403; a well out of scope is a 404.
"""

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.errors import HttpError

from aquifer.accounting import reports, service
from aquifer.accounting.models import TaxMultiplier, TaxRate
from aquifer.accounting.service import Volume
from aquifer.accounting.volumes import VolumeFlag
from aquifer.core.roles import Action
from aquifer.core.scoping import allowed, visible_to
from aquifer.registry.models import Well

router = Router(tags=["accounting"])


class VolumeOut(Schema):
    metered_m3: float
    estimated_m3: float
    total_m3: float
    estimated: bool
    flags: list[str]


class RowOut(Schema):
    id: int | None
    code: str
    name: str
    township: str
    months: list[VolumeOut]  # the 12 months (or the one asked for); [] for annual-only callers
    total: VolumeOut


class WithdrawalOut(Schema):
    level: str
    year: int
    month: int | None
    monthly: bool  # whether the caller sees the months (the public: AQUIFER PUBLIC_MONTHLY)
    rows: list[RowOut]


def _flags(bits: int) -> list[str]:
    return [f.name.lower() for f in VolumeFlag if f.name and bits & f]


def _vol(v: Volume) -> dict[str, Any]:
    return {
        "metered_m3": round(v.metered_m3, 3),
        "estimated_m3": round(v.estimated_m3, 3),
        "total_m3": round(v.total_m3, 3),
        "estimated": v.estimated,
        "flags": _flags(v.flags),
    }


def _check_period(year: int, month: int | None) -> None:
    """422 naming the field (the API's ValidationError handler) for a bad year or month."""
    this = timezone.localdate().year
    if not 1990 <= year <= this + 1:
        raise ValidationError({"year": _("年份应在 1990 至 %d 之间。") % (this + 1)})
    if month is not None and not 1 <= month <= 12:
        raise ValidationError({"month": _("月份应为 1 至 12。")})


@router.get(
    "/accounting/withdrawals",
    response=WithdrawalOut,
    operation_id="accounting_withdrawals",
    summary="Withdrawal (metered and estimated) per well, user, zone, township or county",
)
def withdrawals(
    request: HttpRequest, level: str = "county", year: int | None = None, month: int | None = None
) -> Any:
    year = year or timezone.localdate().year
    if level not in service.LEVELS:
        raise ValidationError({"level": _("层级应为 well、user、zone、township 或 county。")})
    _check_period(year, month)
    monthly = reports.may_see_monthly(request.user, level)
    if month is not None and not monthly and level in reports.allowed_levels(request.user):
        # Annual totals only for this caller (docs/accounting.md, "Scoping"): say which
        # parameter to drop, in the API's error shape.
        msg = _("您的角色只能查看年度合计。")
        return JsonResponse(
            {"detail": msg, "errors": [{"field": "month", "message": msg}]}, status=403
        )
    try:
        rows = reports.withdrawal_rows(request.user, level, year, month)
    except PermissionDenied as exc:
        raise HttpError(403, str(exc)) from None
    return {
        "level": level,
        "year": year,
        "month": month,
        "monthly": monthly,
        "rows": [
            {
                "id": r.key,
                "code": r.code,
                "name": r.name,
                "township": r.township,
                # Annual-only callers get the totals, not the twelve months behind them.
                "months": [_vol(v) for v in r.months] if monthly else [],
                "total": _vol(r.total),
            }
            for r in rows
        ],
    }


@router.get(
    "/accounting/wells/{int:pk}/withdrawals",
    response=RowOut,
    operation_id="accounting_well_withdrawals",
    summary="One well's monthly withdrawal in a year",
)
def well_withdrawals(request: HttpRequest, pk: int, year: int | None = None) -> Any:
    year = year or timezone.localdate().year
    _check_period(year, None)
    if not allowed(request.user, "accounting.well_figures"):
        raise Http404
    well = visible_to(request.user, Action.VIEW, Well).filter(pk=pk).first()
    if well is None:
        raise Http404
    months = service.monthly(year, [well.pk])[well.pk]
    total = service.ZERO
    for v in months:
        total = total + v
    return {
        "id": well.pk, "code": well.code, "name": well.name, "township": str(well.township),
        "months": [_vol(v) for v in months], "total": _vol(total),
    }  # fmt: skip


class TaxLineOut(Schema):
    label: str
    volume_m3: float
    rate: float
    factor: float
    amount: float


class TaxOut(Schema):
    user: int
    name: str
    township: str
    use_type: str
    category: str
    volume: VolumeOut
    quota_m3: float | None
    over_quota_m3: float
    taxable_m3: float
    amount_yuan: float
    lines: list[TaxLineOut]
    notes: list[str]
    rate_source: str


@router.get(
    "/accounting/tax",
    response=list[TaxOut],
    operation_id="accounting_tax",
    summary="Water resource tax estimate per water user for a year or a month",
)
def tax_estimates(request: HttpRequest, year: int | None = None, month: int | None = None) -> Any:
    year = year or timezone.localdate().year
    _check_period(year, month)
    try:
        rows = reports.tax_rows(request.user, year, month)
    except PermissionDenied as exc:
        raise HttpError(403, str(exc)) from None
    out = []
    for r in rows:
        e = r.estimate
        assert e is not None
        out.append(
            {
                "user": r.user_id, "name": r.name, "township": r.township,
                "use_type": r.use_type, "category": r.category, "volume": _vol(r.volume),
                "quota_m3": None if e.quota_m3 is None else float(e.quota_m3),
                "over_quota_m3": float(e.over_quota_m3), "taxable_m3": float(e.taxable_m3),
                "amount_yuan": float(e.amount),
                "lines": [
                    {"label": ln.label, "volume_m3": float(ln.volume_m3), "rate": float(ln.rate),
                     "factor": float(ln.factor), "amount": float(ln.amount)}
                    for ln in e.lines
                ],
                "notes": r.notes, "rate_source": r.rate_source,
            }
        )  # fmt: skip
    return out


class RateOut(Schema):
    kind: str
    use_type: str
    water: str
    category: str
    value: float
    taxable_share: float | None
    exempt_within_quota: bool | None
    effective_from: dt.date
    effective_until: dt.date | None
    source: str
    confirmed: bool
    notes: str


@router.get(
    "/accounting/tax/rates",
    response=list[RateOut],
    operation_id="accounting_tax_rates",
    summary="The water resource tax rates and multipliers with their effective dates and sources",
)
def tax_rates(request: HttpRequest) -> Any:
    if not reports.may_see_tax(request.user):
        raise HttpError(403, _("您的角色无权查看水资源税估算。"))
    out: list[dict[str, Any]] = []
    for r in visible_to(request.user, Action.VIEW, TaxRate):
        out.append({
            "kind": "rate", "use_type": r.use_type, "water": r.water, "category": r.category,
            "value": float(r.yuan_per_m3), "taxable_share": float(r.taxable_share),
            "exempt_within_quota": r.exempt_within_quota, "effective_from": r.effective_from,
            "effective_until": r.effective_until, "source": r.source, "confirmed": r.confirmed,
            "notes": r.notes,
        })  # fmt: skip
    for m in visible_to(request.user, Action.VIEW, TaxMultiplier):
        out.append({
            "kind": m.kind, "use_type": "", "water": "groundwater",
            "category": f"> {m.above_pct}%", "value": float(m.factor), "taxable_share": None,
            "exempt_within_quota": None, "effective_from": m.effective_from,
            "effective_until": m.effective_until, "source": m.source, "confirmed": m.confirmed,
            "notes": m.notes,
        })  # fmt: skip
    return out


class RefreshIn(Schema):
    year: int
    months: list[int] | None = None


class RefreshOut(Schema):
    stored: int


@router.post(
    "/accounting/refresh",
    response=RefreshOut,
    operation_id="accounting_refresh",
    summary="Recompute the stored monthly figures of a year (bureau)",
)
def refresh(request: HttpRequest, payload: RefreshIn) -> Any:
    if not request.user.is_authenticated:
        raise HttpError(401, _("需要登录或 API 令牌。"))
    if not allowed(request.user, "accounting.refresh"):
        raise HttpError(403, _("只有县水务局可以重新核算。"))
    _check_period(payload.year, None)
    for m in payload.months or []:
        if not 1 <= m <= 12:
            raise ValidationError({"months": _("月份应为 1 至 12。")})
    return {"stored": service.refresh(payload.year, payload.months)}
