"""Pages of the analysis app: maps, level trends per well, the annual balance, water quality.

Every queryset comes from ``visible_to``; a record out of scope is a 404. Zone-level results
(recovery status, quality class, balance) are public (R5.1); well-level ones follow the well.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from aquifer.accounting import service as accounting
from aquifer.analysis import balance as bal
from aquifer.analysis import levels, samples, soundings, trends
from aquifer.analysis.filters import QualitySampleFilterSet
from aquifer.analysis.models import (
    CLASS_COLOURS,
    STATUS_COLOURS,
    LevelElement,
    LevelMeasurement,
    QualitySample,
    RecoveryStatus,
    WellTrend,
)
from aquifer.analysis.quality import CLASS_LABELS, load_standard
from aquifer.analysis.tables import QualitySampleTable, WellTrendTable
from aquifer.core.exports import export_response
from aquifer.core.roles import Action
from aquifer.core.scoping import allowed, can, visible_to
from aquifer.core.tables import export_columns, sort
from aquifer.registry.models import MonitoringWell, Well
from aquifer.registry.spatial import county_geometry


def _grade_label(g: str) -> str:
    return {
        "none": _("未超采"),
        "general": _("一般超采"),
        "serious": _("严重超采"),
        "not enough data": _("数据不足"),
    }.get(g, g)


def _status_label(s: str) -> str:
    try:
        return str(RecoveryStatus(s).label)
    except ValueError:
        return s


def _signed_in(request: HttpRequest) -> HttpResponse | None:
    """Redirect the anonymous to the login page; refuse the public (well-level pages)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not allowed(request.user, "analysis.wells"):
        raise PermissionDenied(_("您的角色无权查看此页面。"))
    return None


def _year(request: HttpRequest) -> int:
    raw = request.GET.get("year", "")
    this = timezone.localdate().year
    if not raw:
        return this
    try:
        year = int(raw)
    except ValueError:
        raise Http404 from None
    if not 1990 <= year <= this + 1:
        raise Http404
    return year


# --- Maps ------------------------------------------------------------------------------------


def overview(request: HttpRequest) -> HttpResponse:
    """Two zone maps: recovery status and quality class (public)."""

    minx, miny, maxx, maxy = county_geometry().bounds
    config = {
        "bounds": [[miny, minx], [maxy, maxx]],
        "url": reverse("api:analysis_zones_geojson"),
        "statusColours": STATUS_COLOURS,
        "classColours": CLASS_COLOURS,
        "text": {
            "status": _("恢复状态"),
            "klass": _("水质类别"),
            "none": _("无数据"),
            "loadError": _("地图数据加载失败，请刷新页面重试。"),
        },
    }
    context = {
        "map_config": config,
        "status_legend": [(_status_label(k), c) for k, c in STATUS_COLOURS.items()],
        "class_legend": [(k or _("无样品"), c) for k, c in CLASS_COLOURS.items()],
        "signed_in": allowed(request.user, "analysis.wells"),
    }
    return render(request, "analysis/overview.html", context)


# --- Level trends ----------------------------------------------------------------------------


def _trend_rows(user: Any) -> list[dict[str, Any]]:
    wells = (
        visible_to(user, Action.VIEW, MonitoringWell)
        .select_related("well", "well__township", "well__zone")
        .defer("well__township__boundary", "well__zone__geometry")  # not shown; decoded per row
    )
    latest = levels.latest_well_trends(wells)
    return [{"id": mw.pk, "mw": mw, "trend": latest.get(mw.pk)} for mw in wells]


def well_trends(request: HttpRequest) -> HttpResponse:
    """Monitoring wells in scope with their newest trend; ?format=xlsx exports it."""
    denied = _signed_in(request)
    if denied:
        return denied
    rows = _trend_rows(request.user)
    # ?status=falling: the wells whose newest trend has that recovery status (the home
    # page's "wells falling" links here); an unknown status is ignored.
    status = request.GET.get("status")
    if status in RecoveryStatus.values:
        rows = [r for r in rows if r["trend"] is not None and r["trend"].status == status]
    fmt = request.GET.get("format")
    if fmt:
        return export_response(rows, export_columns(WellTrendTable), fmt, "level-trends")
    table = WellTrendTable(rows, attrs={"id": "trend-list", "class": "list"})
    _paged(table, request, 100)
    return _list_page(
        request, "analysis/well_trends.html", {"table": table, "page_obj": table.page}
    )


def _list_page(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    """The page, or only its results (the table) for htmx (sorting, paging)."""
    htmx = getattr(request, "htmx", None)
    if htmx and not htmx.history_restore_request:
        return render(request, "analysis/_list_results.html", context)
    return render(request, template, context)


def _paged(table: Any, request: HttpRequest, per_page: int) -> None:
    table.request = request
    sort(table, request.GET.getlist(table.order_by_field))
    table.paginator = Paginator(table.rows, per_page)
    table.page = table.paginator.get_page(request.GET.get("page"))


def _line(monthly: list[float | None], test: str) -> list[float | None]:
    """The Sen-slope trend line over the monthly grid (pymannkendall's intercept)."""
    import numpy as np

    x = np.array([np.nan if v is None else v for v in monthly], dtype=float)
    if (~np.isnan(x)).sum() < 12:
        return []
    if test == "seasonal":
        r = trends.seasonal_mann_kendall(x)
        per = 12.0
    else:
        r = trends.mann_kendall(x)
        per = 1.0
    slope, intercept = float(r.slope[0]), float(r.intercept[0])
    return [intercept + slope * k / per for k in range(len(x))]


def _month(first: dt.date, k: int) -> str:
    m = first.year * 12 + first.month - 1 + k
    return f"{m // 12:04d}-{m % 12 + 1:02d}-01"


def well_detail(
    request: HttpRequest,
    pk: int,
    sounding_errors: dict[str, list[str]] | None = None,
    sounding_form: dict[str, str] | None = None,
) -> HttpResponse:
    """A monitoring well's monthly levels, trend line, status, forecast and quality samples."""
    denied = _signed_in(request)
    if denied:
        return denied
    mw = (
        visible_to(request.user, Action.VIEW, MonitoringWell)
        .select_related("well", "well__township", "well__zone")
        .filter(pk=pk)
        .first()
    )
    if mw is None:
        raise Http404
    trend = WellTrend.objects.filter(monitoring_well=mw).order_by("-computed_on").first()
    series = levels.level_series(mw)
    today = timezone.localdate()
    first, grid = levels.monthly_grid(series, today)
    monthly = [None if math.isnan(v) else round(float(v), 4) for v in grid]
    line = _line(monthly, trend.test if trend else "original") if monthly else []
    fc = levels.compute_forecast(mw, today)
    chart = {
        "x": [_month(first, k) for k in range(len(monthly))],
        "y": monthly,
        "line": line,
        "reversed": series.element == LevelElement.DEPTH,
        "forecast": fc.points if fc.enough_data else None,
        "text": {
            "monthly": _("月均值"),
            "trend": _("Sen 趋势线"),
            "forecast": _("预测"),
            "band": _("95% 区间"),
            "fitted": _("模型拟合"),
            "axis": str(LevelElement(series.element).label) + " (m)",
        },
    }
    samples_qs = visible_to(request.user, Action.VIEW, QualitySample).filter(well=mw.well)[:50]
    recent = LevelMeasurement.objects.filter(monitoring_well=mw).order_by("-measured_at")[:20]
    context = {
        "soundings": recent,
        "can_add_sounding": mw.monitors_level
        and can(request.user, Action.ADD, LevelMeasurement(monitoring_well=mw)),
        "sounding_errors": sounding_errors or {},
        "sounding_form": sounding_form or {},
        "mw": mw,
        "trend": trend,
        "status_label": _status_label(trend.status) if trend else _("数据不足"),
        "series": series,
        "chart": chart,
        "forecast": fc,
        "samples": samples_qs,
        "can_add_sample": can(request.user, Action.ADD, QualitySample(well=mw.well)),
    }
    status = 422 if sounding_errors else 200
    return render(request, "analysis/well_detail.html", context, status=status)


def sounding_new(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a manual sounding from the well page (POST); errors are shown on the page."""
    denied = _signed_in(request)
    if denied:
        return denied
    # A monitoring well out of the user's sight is a 404, whatever the method.
    get_object_or_404(visible_to(request.user, Action.VIEW, MonitoringWell), pk=pk)
    if request.method != "POST":
        return redirect("analysis:well_detail", pk)
    post = request.POST
    raw_value = post.get("value", "").strip()
    try:
        value = float(raw_value) if raw_value else None
    except ValueError:
        value = None
    raw_time = post.get("measured_at", "").strip()
    at = samples._parse_time(raw_time) if raw_time else None
    try:
        soundings.record(
            request.user, pk, post.get("element", ""), at, value, post.get("note", "").strip()
        )
    except ValidationError as exc:
        errors = exc.message_dict
        if raw_value and value is None:
            errors["value"] = [_("不是数字。")]
        if raw_time and at is None:
            errors["measured_at"] = [_("无法识别的时间。")]
        if (
            "monitoring_well" in errors
            and not visible_to(request.user, Action.VIEW, MonitoringWell).filter(pk=pk).exists()
        ):
            raise Http404 from None
        if "monitoring_well" in errors:
            raise PermissionDenied(errors["monitoring_well"][0]) from None
        return well_detail(request, pk, errors, {k: post.get(k, "") for k in post})
    messages.success(request, _("人工测量已保存。"))
    return redirect("analysis:well_detail", pk)


# --- Balance ---------------------------------------------------------------------------------


def balance(request: HttpRequest) -> HttpResponse:
    """The annual balance per zone (public) and per township (signed in); ?format=xlsx."""
    year = _year(request)
    public = not allowed(request.user, "analysis.wells")
    # both tables from one reading of the year's volumes
    vols = accounting.totals_by(("zone",) if public else ("zone", "township"), year)
    zone_rows = bal.zone_rows(request.user, year, vols["zone"])
    fmt = request.GET.get("format")
    if fmt:
        cols = [
            ("zone", "分区", lambda r: r.zone.name),
            ("code", "编号", lambda r: r.zone.code),
            ("kind", "分区类型", lambda r: r.zone.get_kind_display()),
            ("layer", "含水层", lambda r: r.zone.get_layer_display()),
            ("allowable", "可开采量(m³)", lambda r: r.zone.allowable_extraction_m3),
            ("metered", "计量开采量(m³)", lambda r: r.balance.metered_m3 if r.balance else None),
            (
                "estimated",
                "估算开采量(m³)",
                lambda r: r.balance.estimated_m3 if r.balance else None,
            ),
            ("k", "开采系数", lambda r: r.balance.coefficient if r.balance else None),
            ("slope", "水位变化(m/年)", lambda r: r.level_slope),
            ("status", "恢复状态", lambda r: r.status),
            ("grade", "超采等级", lambda r: r.balance.grade if r.balance else "not enough data"),
        ]
        return export_response(zone_rows, cols, fmt, f"zone-balance-{year}")
    township_rows = [] if public else bal.township_rows(request.user, year, vols["township"])
    for r in zone_rows:
        r.status_label = _status_label(r.status)  # type: ignore[attr-defined]
        r.grade_label = _grade_label(r.balance.grade if r.balance else "not enough data")  # type: ignore[attr-defined]
    context = {
        "year": year,
        "years": list(range(timezone.localdate().year, timezone.localdate().year - 6, -1)),
        "zone_rows": zone_rows,
        "township_rows": township_rows,
        "show_townships": not public,
        "thresholds": bal.thresholds(),
    }
    return render(request, "analysis/balance.html", context)


# --- Quality ---------------------------------------------------------------------------------


def sample_list(request: HttpRequest) -> HttpResponse:
    denied = _signed_in(request)
    if denied:
        return denied
    qs = visible_to(request.user, Action.VIEW, QualitySample).select_related(
        "well", "well__township"
    )
    # An invalid filter value is left out of the filtering and shown as the form's error.
    filters = QualitySampleFilterSet(request.GET, queryset=qs, request=request)
    fmt = request.GET.get("format")
    if fmt:
        return export_response(
            filters.qs, export_columns(QualitySampleTable, QualitySample), fmt, "quality-samples"
        )
    table = QualitySampleTable(filters.qs, attrs={"id": "sample-list", "class": "list"})
    _paged(table, request, 50)
    query = urlencode(
        [
            (name, request.GET[name])
            for name in filters.filters
            if request.GET.get(name) and name not in filters.errors
        ]
    )
    context = {
        "table": table,
        "page_obj": table.page,
        "filter_form": filters.form,
        "query": query,
        "can_add": can(request.user, Action.ADD, QualitySample),
    }
    return _list_page(request, "analysis/sample_list.html", context)


def sample_detail(request: HttpRequest, pk: int) -> HttpResponse:
    denied = _signed_in(request)
    if denied:
        return denied
    sample = (
        visible_to(request.user, Action.VIEW, QualitySample)
        .select_related("well", "well__township")
        .filter(pk=pk)
        .first()
    )
    if sample is None:
        raise Http404
    return render(
        request,
        "analysis/sample_detail.html",
        {
            "sample": sample,
            "results": sample.results.all(),
            "warning": samples.warning_reason(sample),
            "colour": CLASS_COLOURS.get(sample.label if sample.klass else ""),
        },
    )


def _form_rows(post: Any) -> list[samples.IndicatorInput]:
    out = []
    names = post.getlist("indicator")
    values = post.getlist("value")
    units = post.getlist("unit")
    dls = post.getlist("detection_limit")
    nds = set(post.getlist("below_detection"))
    for i, name in enumerate(names):
        if not name.strip():
            continue
        raw = values[i].strip() if i < len(values) else ""
        value: float | str | None
        try:
            value = float(raw) if raw else None
        except ValueError:
            value = raw
        dl_raw = dls[i].strip() if i < len(dls) else ""
        try:
            dl = float(dl_raw) if dl_raw else None
        except ValueError:
            dl = None
        out.append(
            samples.IndicatorInput(
                indicator=name.strip(),
                value=value,
                unit=units[i].strip() if i < len(units) else "",
                detection_limit=dl,
                below_detection=str(i) in nds,
            )
        )
    return out


def sample_new(request: HttpRequest) -> HttpResponse:
    """Enter a lab sample (bureau; township officers for wells in their township)."""
    denied = _signed_in(request)
    if denied:
        return denied
    if not can(request.user, Action.ADD, QualitySample):
        raise PermissionDenied(_("您的角色无权录入水质样品。"))
    wells = visible_to(request.user, Action.ADD, Well).order_by("code")
    errors: dict[str, list[str]] = {}
    form: dict[str, Any] = {"rows": [{} for _ in range(8)], "well": request.GET.get("well", "")}
    if request.method == "POST":
        post = request.POST
        well = wells.filter(code=post.get("well", "").strip()).first()
        at = samples._parse_time(post.get("sampled_at", "")) if post.get("sampled_at") else None
        data = samples.SampleInput(
            sample_id=post.get("sample_id", ""),
            well=well,
            sampled_at=at,
            lab=post.get("lab", ""),
            indicators=_form_rows(post),
        )
        try:
            checked = samples.validate_sample(data, request.user)
        except ValidationError as exc:
            errors = exc.message_dict
            if post.get("well") and well is None:
                errors["well"] = [
                    _("没有编号为 %(c)s 的井，或您无权为其录入。") % {"c": post.get("well")}
                ]
            if post.get("sampled_at") and at is None:
                errors["sampled_at"] = [_("无法识别的时间。")]
        else:
            sample = samples.store_sample(checked)
            messages.success(request, _("样品 %(id)s 已保存。") % {"id": sample.sample_id})
            return redirect("analysis:sample_detail", sample.pk)
        form = {
            "sample_id": post.get("sample_id", ""),
            "well": post.get("well", ""),
            "sampled_at": post.get("sampled_at", ""),
            "lab": post.get("lab", ""),
            "rows": [
                {
                    "indicator": n,
                    "value": v,
                    "unit": u,
                    "detection_limit": d,
                    "nd": str(i) in post.getlist("below_detection"),
                }
                for i, (n, v, u, d) in enumerate(
                    zip(
                        post.getlist("indicator"),
                        post.getlist("value"),
                        post.getlist("unit"),
                        post.getlist("detection_limit"),
                        strict=False,
                    )
                )
            ],
        }
    indicator_errors = {k: v for k, v in errors.items() if k.startswith("indicators")}
    context = {
        "wells": wells[:2000],
        "form": form,
        "errors": errors,
        "indicator_errors": indicator_errors,
        "indicators": sorted(load_standard().values(), key=lambda i: (i.table, i.name_cn)),
    }
    return render(request, "analysis/sample_form.html", context, status=422 if errors else 200)


def sample_import(request: HttpRequest) -> HttpResponse:
    """Import samples from Excel: all rows or none, with a row/column error list."""
    denied = _signed_in(request)
    if denied:
        return denied
    if not can(request.user, Action.ADD, QualitySample):
        raise PermissionDenied(_("您的角色无权导入水质样品。"))
    if request.GET.get("template"):
        resp = HttpResponse(
            samples.template_workbook(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        resp["Content-Disposition"] = 'attachment; filename="quality-samples-template.xlsx"'
        return resp
    report = None
    file_error = ""
    status = 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            file_error = _("请选择文件。")
            status = 422
        else:
            try:
                report = samples.import_workbook(
                    upload.read(), request.user, dry_run=bool(request.POST.get("dry_run"))
                )
            except ValidationError as exc:
                file_error = "；".join(m for ms in exc.message_dict.values() for m in ms)
                status = 422
            else:
                if report.errors:
                    status = 422
                elif not report.dry_run:
                    messages.success(request, _("已导入 %(n)d 个样品。") % {"n": report.created})
                    return redirect("analysis:sample_list")
    return render(
        request,
        "analysis/sample_import.html",
        {"report": report, "file_error": file_error},
        status=status,
    )


def chart_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)


__all__ = [
    "CLASS_LABELS",
    "balance",
    "overview",
    "sample_detail",
    "sample_import",
    "sample_list",
    "sample_new",
    "sounding_new",
    "well_detail",
    "well_trends",
]
