"""Pages of the accounting app: withdrawal by level and period, tax estimates, tax settings.

Scoping is :mod:`aquifer.accounting.reports`'s; a level the role may not see is a 403, the
tax pages are for the bureau, township officers and water users. Every table exports to Excel
and CSV (``?format=xlsx``/``csv``) with exactly what the page shows.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aquifer.accounting import reports, service
from aquifer.accounting.models import TaxMultiplier, TaxRate
from aquifer.accounting.volumes import VolumeFlag
from aquifer.core.exports import export_response
from aquifer.core.roles import Action
from aquifer.core.scoping import visible_to

FLAG_LABELS = {
    VolumeFlag.GAP: gettext_lazy("数据缺测"),
    VolumeFlag.RATE_ESTIMATED: gettext_lazy("按平均日取水量估算"),
    VolumeFlag.BACKWARDS: gettext_lazy("读数倒退（未计入）"),
    VolumeFlag.ROLLOVER: gettext_lazy("表码归零翻转"),
    VolumeFlag.REPLACEMENT: gettext_lazy("换表"),
    VolumeFlag.UNREGISTERED_RESET: gettext_lazy("未登记的表码重置"),
    VolumeFlag.UNMETERED: gettext_lazy("无计量设施（估算）"),
    VolumeFlag.NO_DATA: gettext_lazy("无数据"),
}


def flag_labels(bits: int) -> list[str]:
    return [str(label) for flag, label in FLAG_LABELS.items() if bits & flag]


def _period(request: HttpRequest) -> tuple[int, int | None]:
    this = timezone.localdate().year
    try:
        year = int(request.GET.get("year") or this)
        raw = request.GET.get("month") or ""
        month = int(raw) if raw else None
    except ValueError:
        raise Http404 from None
    if not 1990 <= year <= this + 1 or (month is not None and not 1 <= month <= 12):
        raise Http404
    return year, month


def _fmt(request: HttpRequest) -> str | None:
    fmt = request.GET.get("format") or None
    if fmt not in (None, "xlsx", "csv"):
        raise Http404
    return fmt


def _page(request: HttpRequest, rows: list[Any]) -> Any:
    """One page (?page=) of a table's rows; totals and charts use all of them."""
    return Paginator(rows, settings.AQUIFER["PAGE_SIZE"]).get_page(request.GET.get("page"))


def withdrawals(request: HttpRequest) -> HttpResponse:
    """Withdrawal per well/user/zone/township/county, by month and year (public: annual)."""
    user = request.user
    levels = reports.allowed_levels(user)
    level = request.GET.get("level") or ("township" if "township" in levels else levels[0])
    if level not in reports.LEVEL_LABELS():
        raise Http404
    if level not in levels:
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        raise PermissionDenied(_("您的角色无权查看该层级的取水量。"))
    year, month = _period(request)
    monthly = reports.may_see_monthly(user, level)
    if month is not None and not monthly:
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        raise PermissionDenied(_("您的角色只能查看年度合计。"))
    rows = reports.withdrawal_rows(user, level, year, month)
    fmt = _fmt(request)
    label = reports.LEVEL_LABELS()[level]
    if fmt:
        columns: list[Any] = [
            ("code", _("编码"), lambda r: r.code),
            ("name", label, lambda r: r.name),
        ]
        if level in ("well", "user"):
            columns.append(("township", _("乡镇"), lambda r: r.township))
        if monthly and month is None:
            for i in range(12):
                columns.append(
                    (f"m{i + 1}", _("%d月 (m³)") % (i + 1),
                     lambda r, i=i: round(r.months[i].total_m3, 1))
                )  # fmt: skip
        columns += [
            ("metered", _("计量水量 (m³)"), lambda r: round(r.total.metered_m3, 1)),
            ("estimated", _("估算水量 (m³)"), lambda r: round(r.total.estimated_m3, 1)),
            ("total", _("合计 (m³)"), lambda r: round(r.total.total_m3, 1)),
            ("flags", _("说明"), lambda r: "、".join(flag_labels(r.total.flags))),
        ]
        name = f"withdrawal-{level}-{year}" + (f"-{month:02d}" if month else "")
        return export_response(rows, columns, fmt, name)
    total_met = sum(r.total.metered_m3 for r in rows)
    total_est = sum(r.total.estimated_m3 for r in rows)
    if monthly and month is None:
        chart = {
            "x": [_("%d月") % (i + 1) for i in range(12)],
            "metered": [round(sum(r.months[i].metered_m3 for r in rows), 1) for i in range(12)],
            "estimated": [round(sum(r.months[i].estimated_m3 for r in rows), 1) for i in range(12)],
        }
    else:
        top = sorted(rows, key=lambda r: -r.total.total_m3)[:30]
        chart = {
            "x": [r.name or r.code for r in top],
            "metered": [round(r.total.metered_m3, 1) for r in top],
            "estimated": [round(r.total.estimated_m3, 1) for r in top],
        }
    chart["labels"] = {"metered": _("计量"), "estimated": _("估算"), "unit": "m³"}
    this = timezone.localdate().year
    items = [{"row": r, "flags": "、".join(flag_labels(r.total.flags))} for r in rows]
    return render(
        request,
        "accounting/withdrawals.html",
        {
            "rows": items,
            "page_obj": _page(request, items),
            "level": level,
            "level_label": label,
            "levels": [(k, reports.LEVEL_LABELS()[k]) for k in levels],
            "year": year,
            "month": month,
            "years": list(range(this, this - 6, -1)),
            "months": list(range(1, 13)),
            "monthly": monthly,
            "show_months": monthly and month is None,
            "total_metered": total_met,
            "total_estimated": total_est,
            "chart": chart,
            "may_see_tax": reports.may_see_tax(user),
            "nav": "accounting",
        },
    )


def _tax_access(request: HttpRequest) -> HttpResponse | None:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not reports.may_see_tax(request.user):
        raise PermissionDenied(_("您的角色无权查看水资源税估算。"))
    return None


def tax(request: HttpRequest) -> HttpResponse:
    """The water resource tax estimate per water user for a year or a month."""
    denied = _tax_access(request)
    if denied:
        return denied
    year, month = _period(request)
    rows = reports.tax_rows(request.user, year, month)
    fmt = _fmt(request)
    if fmt:
        columns: list[Any] = [
            ("name", _("取用水户"), lambda r: r.name),
            ("township", _("乡镇"), lambda r: r.township),
            ("use_type", _("用水类型"), lambda r: r.use_type_label),
            ("category", _("税目"), lambda r: r.category),
            ("metered", _("计量水量 (m³)"), lambda r: round(r.volume.metered_m3, 1)),
            ("estimated", _("估算水量 (m³)"), lambda r: round(r.volume.estimated_m3, 1)),
            ("quota", _("许可水量 (m³)"),
             lambda r: "" if r.estimate.quota_m3 is None else float(r.estimate.quota_m3)),
            ("over", _("超许可水量 (m³)"), lambda r: float(r.estimate.over_quota_m3)),
            ("taxable", _("计税水量 (m³)"), lambda r: float(r.estimate.taxable_m3)),
            ("amount", _("估算税额 (元)"), lambda r: float(r.estimate.amount)),
            ("notes", _("说明"), lambda r: " ".join(r.notes)),
        ]  # fmt: skip
        name = f"water-tax-{year}" + (f"-{month:02d}" if month else "")
        return export_response(rows, columns, fmt, name)
    this = timezone.localdate().year
    return render(
        request,
        "accounting/tax.html",
        {
            "rows": rows,
            "page_obj": _page(request, rows),
            "year": year,
            "month": month,
            "years": list(range(this, this - 6, -1)),
            "months": list(range(1, 13)),
            "total": sum((r.estimate.amount for r in rows if r.estimate), start=0),
            "as_of": service.as_of(year, month),
            "nav": "accounting",
        },
    )


def rates(request: HttpRequest) -> HttpResponse:
    """The tax rates and multipliers in the bureau's settings, with dates and sources."""
    denied = _tax_access(request)
    if denied:
        return denied
    return render(
        request,
        "accounting/rates.html",
        {
            "rates": visible_to(request.user, Action.VIEW, TaxRate),
            "multipliers": visible_to(request.user, Action.VIEW, TaxMultiplier),
            "nav": "accounting",
        },
    )
