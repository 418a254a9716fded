"""Pages of the closure programme (URL names ``closure:<name>``): the programme list with its
filters and Excel export, the closure map coloured by status, an entry with its evidence and
actions, candidates (enrol from them), progress per township and zone, balance, supply works.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aquifer.closure import meteo, recovery, reports, services
from aquifer.closure.attribution import MIN_OBSERVATIONS, MIN_YEARS
from aquifer.closure.candidates import by_reason, narrow
from aquifer.closure.candidates import candidates as find_candidates
from aquifer.closure.filters import ClosureFilterSet
from aquifer.closure.models import (
    STATUS_COLOURS,
    TRANSITIONS,
    ClosureEntry,
    MeteoSeries,
    Method,
    Reason,
    Status,
)
from aquifer.closure.tables import ClosureTable
from aquifer.core.attachments import attachments_of
from aquifer.core.exports import CONTENT_TYPES, export_response, write_csv, write_xlsx
from aquifer.core.roles import Action
from aquifer.core.scoping import allowed, can, visible_to
from aquifer.core.tables import export_columns, sort
from aquifer.registry.models import CoverageArea, MonitoringWell, SupplyWork, Township, Well
from aquifer.registry.spatial import county_geometry
from aquifer.registry.supply import import_geojson

PAGE_SIZE = 50
#: An inspection's file labels (codes stored with the file) as the page shows them.
FILE_LABELS = {"photo": gettext_lazy("现场照片"), "signature": gettext_lazy("签字文件")}
View = Callable[..., HttpResponse]


def gated(capability: str = "closure.view") -> Callable[[View], View]:
    def wrap(view: View) -> View:
        @functools.wraps(view)
        def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not allowed(request.user, capability):
                raise PermissionDenied(_("您的角色无权使用关井压采。"))
            return view(request, *args, **kwargs)

        return inner

    return wrap


def _entries(request: HttpRequest) -> Any:
    return visible_to(request.user, Action.VIEW, ClosureEntry).select_related(
        "well", "township", "replacement_work"
    )


def _year(request: HttpRequest) -> int:
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        return timezone.localdate().year
    return year if 2000 <= year <= 2100 else timezone.localdate().year


@gated()
def index(request: HttpRequest) -> HttpResponse:
    filters = ClosureFilterSet(request.GET, queryset=_entries(request), request=request)
    qs = filters.qs
    table = ClosureTable(qs, attrs={"id": "closure-list", "class": "list"})
    table.request = request
    sort(table, request.GET.getlist(table.order_by_field))
    table.paginator = Paginator(table.rows, PAGE_SIZE)
    table.page = table.paginator.get_page(request.GET.get("page"))
    query = urlencode(
        [
            (n, request.GET[n])
            for n in filters.filters
            if request.GET.get(n) and n not in filters.errors
        ]
    )
    base = reverse("closure:export")
    exports = [
        (label, f"{base}?format={fmt}" + (f"&{query}" if query else ""))
        for fmt, label in (("xlsx", "Excel"), ("csv", "CSV"))
    ]
    counts = {s: 0 for s in Status.values}
    for s in _entries(request).values_list("status", flat=True):
        counts[s] += 1
    return render(
        request,
        "closure/index.html",
        {
            "form": filters.form,
            "table": table,
            "page_obj": table.page,
            "exports": exports,
            "counts": [(Status(s).label, STATUS_COLOURS[s], n) for s, n in counts.items()],
        },
    )


@gated()
def export(request: HttpRequest) -> HttpResponse:
    filters = ClosureFilterSet(request.GET, queryset=_entries(request), request=request)
    fmt = request.GET.get("format", "xlsx")
    if fmt not in ("xlsx", "csv"):
        fmt = "xlsx"
    return export_response(filters.qs, export_columns(ClosureTable, ClosureEntry), fmt, "closure")


@gated()
def closure_map(request: HttpRequest) -> HttpResponse:
    minx, miny, maxx, maxy = county_geometry().bounds
    labels = {s: str(Status(s).label) for s in Status.values}
    config = {
        "bounds": [[miny, minx], [maxy, maxx]],
        "url": reverse("closure:map_data"),
        "townships": reverse("api:map_townships"),
        "colours": STATUS_COLOURS,
        "labels": labels,
        "candidate_colour": "#6a3d9a",
        "candidate_label": _("候选"),
        "coverage_label": _("供水覆盖范围"),
    }
    legend = [(labels[k], v) for k, v in STATUS_COLOURS.items()]
    return render(request, "closure/map.html", {"map_config": config, "legend": legend})


@gated()
def map_data(request: HttpRequest) -> HttpResponse:
    """Programme wells (by status), coverage areas, and for the bureau the candidates."""
    feats: list[dict[str, Any]] = []
    for e in _entries(request):
        feats.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [e.well.lon, e.well.lat]},
                "properties": {
                    "kind": "entry",
                    "status": e.status,
                    "well": e.well.code,
                    "url": e.get_absolute_url(),
                    "reasons": e.reason_labels(),
                },
            }
        )
    if allowed(request.user, "closure.manage"):
        for c in find_candidates(timezone.localdate()):
            feats.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [c.well.lon, c.well.lat]},
                    "properties": {
                        "kind": "candidate",
                        "status": "candidate",
                        "well": c.well.code,
                        "url": reverse("closure:candidates"),
                        "reasons": c.reason_labels(),
                    },
                }
            )
    for a in visible_to(request.user, Action.VIEW, CoverageArea).select_related("work"):
        feats.append(
            {
                "type": "Feature",
                "geometry": a.geometry.get("geometry")
                if a.geometry.get("type") == "Feature"
                else a.geometry,
                "properties": {
                    "kind": "coverage",
                    "name": str(a),
                    "served_on": a.served_on.isoformat() if a.served_on else "",
                    "illustrative": a.work.is_illustrative,
                },
            }
        )
    return JsonResponse({"type": "FeatureCollection", "features": feats})


class EnrolForm(forms.Form):
    # The well by its code (a candidate row's link fills it in): a list of the county's
    # thousands of wells would weigh more than the page it sits on.
    well = forms.CharField(max_length=50, label=gettext_lazy("取水井编号"))
    deadline = forms.DateField(
        label=gettext_lazy("关停期限"), widget=forms.DateInput(attrs={"type": "date"})
    )
    method = forms.ChoiceField(choices=Method.choices, label=gettext_lazy("关停方式"))
    replacement_area = forms.ModelChoiceField(
        queryset=CoverageArea.objects.none(), required=False, label=gettext_lazy("供水覆盖范围")
    )
    connection = forms.CharField(max_length=200, required=False, label=gettext_lazy("接水方式"))

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["replacement_area"].queryset = visible_to(user, Action.VIEW, CoverageArea)  # type: ignore[attr-defined]

    def clean_well(self) -> Well:
        code = self.cleaned_data["well"].strip()
        found = visible_to(self.user, Action.VIEW, Well).filter(code__iexact=code).first()
        if found is None:
            raise ValidationError(_("没有编号为“%(code)s”的取水井。") % {"code": code})
        return found


class CandidateFilterForm(forms.Form):
    """The candidates' filter bar: township, reason, well code or name, and the order."""

    township = forms.ModelChoiceField(
        queryset=Township.objects.order_by("code"), required=False, label=gettext_lazy("乡镇")
    )
    reason = forms.ChoiceField(
        choices=[("", "---------"), *Reason.choices],
        required=False,
        label=gettext_lazy("关停理由"),
    )
    q = forms.CharField(max_length=50, required=False, label=gettext_lazy("井编号或名称"))
    sort = forms.ChoiceField(
        choices=[("code", gettext_lazy("按井编号")), ("-volume", gettext_lazy("取水量由大到小"))],
        required=False,
        label=gettext_lazy("排序"),
    )


@gated("closure.manage")
def candidates(request: HttpRequest) -> HttpResponse:
    """The closure candidates of the county: how many per reason (with their volume before),
    filtered by township, reason and well, 50 to a page; each row puts its well into the
    enrol form below."""
    initial = {"well": request.GET.get("enrol", "")[:50]}
    form = EnrolForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            entry = services.enrol(
                request.user,
                d["well"],
                deadline=d["deadline"],
                method=d["method"],
                replacement_area=d["replacement_area"],
                connection=d["connection"],
            )
        except ValidationError as exc:
            for field, errs in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errs)
        else:
            messages.success(request, _("已列入关停计划。"))
            return redirect(entry.get_absolute_url())
    found = find_candidates(timezone.localdate())
    filters = CandidateFilterForm(request.GET)
    filters.is_valid()  # a bad field is shown as an error and left out of cleaned_data
    chosen = filters.cleaned_data
    township = chosen.get("township")
    rows = narrow(
        found,
        township_id=township.pk if township is not None else None,
        reason=chosen.get("reason") or "",
        q=chosen.get("q") or "",
    )
    if chosen.get("sort") == "-volume":
        rows.sort(key=lambda c: (-c.volume.m3, c.well.code))
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    reason_labels = dict(Reason.choices)
    return render(
        request,
        "closure/candidates.html",
        {
            "page_obj": page,
            "rows": page.object_list,
            "form": form,
            "filters": filters,
            "total": len(found),
            "total_m3": round(sum(c.volume.m3 for c in found), 1),
            "shown_m3": round(sum(c.volume.m3 for c in rows), 1),
            "by_reason": [(r, reason_labels[r], n, m3) for r, n, m3 in by_reason(found)],
        },
    )


class ActForm(forms.Form):
    to = forms.ChoiceField(choices=Status.choices, label=gettext_lazy("改为"))
    note = forms.CharField(required=False, max_length=4000, label=gettext_lazy("备注"))


class InspectForm(forms.Form):
    inspected_at = forms.DateTimeField(
        label=gettext_lazy("检查时间"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    lon = forms.FloatField(label=gettext_lazy("经度"), min_value=-180, max_value=180)
    lat = forms.FloatField(label=gettext_lazy("纬度"), min_value=-90, max_value=90)
    signed_by = forms.CharField(max_length=100, required=False, label=gettext_lazy("签字人"))
    findings = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), label=gettext_lazy("检查情况")
    )
    photo = forms.FileField(required=False, label=gettext_lazy("现场照片"))
    signature = forms.FileField(
        required=False, label=gettext_lazy("签字文件（签字页照片或扫描件）")
    )


def _entry(request: HttpRequest, pk: int) -> ClosureEntry:
    entry: ClosureEntry = get_object_or_404(_entries(request), pk=pk)
    return entry


@gated("closure.use")
def entry_detail(request: HttpRequest, pk: int) -> HttpResponse:
    e = _entry(request, pk)
    return _detail(request, e, ActForm(initial={"to": TRANSITIONS.get(e.status)}), InspectForm())


def _detail(
    request: HttpRequest, e: ClosureEntry, act: ActForm, inspect: InspectForm
) -> HttpResponse:
    nxt = TRANSITIONS.get(e.status)
    may_move = nxt is not None and can(
        request.user, "verify" if nxt == Status.VERIFIED else Action.CHANGE, e
    )
    return render(
        request,
        "closure/entry.html",
        {
            "entry": e,
            "telemetry": services.telemetry_since_closure(e),
            "inspections": [
                (i, [(a, FILE_LABELS.get(a.label, a.label)) for a in attachments_of(i)])
                for i in e.inspections.all()
            ],
            "next": Status(nxt).label if nxt else None,
            "may_move": may_move,
            "may_inspect": can(request.user, "inspect", e) and e.status == Status.CLOSED,
            "act_form": act,
            "inspect_form": inspect,
        },
    )


@gated()
def entry_act(request: HttpRequest, pk: int) -> HttpResponse:
    e = _entry(request, pk)
    if request.method != "POST":
        return redirect(e.get_absolute_url())
    if not can(request.user, Action.CHANGE, e) and not can(request.user, "inspect", e):
        raise PermissionDenied(_("无权执行此操作。"))
    act, inspect = ActForm(), InspectForm()
    try:
        if "inspect" in request.POST:
            inspect = InspectForm(request.POST, request.FILES)
            if inspect.is_valid():
                d = dict(inspect.cleaned_data)
                photo, signature = d.pop("photo"), d.pop("signature")
                services.inspect(
                    request.user,
                    e,
                    photos=[photo] if photo else [],
                    signatures=[signature] if signature else [],
                    **d,
                )
                messages.success(request, _("已记录现场核查。"))
                return redirect(e.get_absolute_url())
        else:
            act = ActForm(request.POST)
            if act.is_valid():
                services.advance(
                    request.user, e, act.cleaned_data["to"], note=act.cleaned_data["note"]
                )
                messages.success(request, _("状态已更新。"))
                return redirect(e.get_absolute_url())
    except ValidationError as exc:
        form = inspect if "inspect" in request.POST else act
        for field, errs in exc.message_dict.items():
            field = {"photos": "photo", "signatures": "signature"}.get(field, field)
            form.add_error(field if field in form.fields else None, errs)
    return _detail(request, e, act, inspect)


@gated()
def progress(request: HttpRequest) -> HttpResponse:
    year = _year(request)
    rep = reports.progress(year, _entries(request))
    fmt = request.GET.get("format")
    if fmt in ("xlsx", "csv"):
        level = {"township": _("乡镇"), "zone": _("分区"), "county": _("全县")}
        rows = (
            [(level["township"], p) for p in rep.townships]
            + [(level["zone"], p) for p in rep.zones]
            + [(level["county"], rep.county)]
        )
        columns: list[tuple[str, str, Any]] = [
            ("level", _("级别"), lambda r: r[0]),
            ("name", _("名称"), lambda r: str(r[1].key) if r[1].key is not None else _("全县")),
            ("wells", _("计划井数"), lambda r: r[1].wells),
            ("closed", _("已关停"), lambda r: r[1].closed),
            ("before", _("关停前年取水量 (m³)"), lambda r: round(r[1].before_m3, 1)),
            ("removed", _("压减水量 (m³/年)"), lambda r: round(r[1].removed_m3, 1)),
            ("target", _("压采目标 (m³/年)"), lambda r: r[1].target_m3),
            ("percent", _("完成率"), lambda r: r[1].percent),
        ]
        body = (
            write_xlsx(rows, columns, sheet="progress")
            if fmt == "xlsx"
            else write_csv(rows, columns)
        )
        response = HttpResponse(body, content_type=CONTENT_TYPES[fmt])
        response["Content-Disposition"] = f'attachment; filename="closure-progress-{year}.{fmt}"'
        return response
    chart = {
        "names": [str(p.key) for p in rep.townships],
        "removed": [round(p.removed_m3) for p in rep.townships],
        "target": [p.target_m3 or 0 for p in rep.townships],
        "zone_names": [str(p.key) for p in rep.zones],
        "zone_removed": [round(p.removed_m3) for p in rep.zones],
        "zone_target": [p.target_m3 or 0 for p in rep.zones],
    }
    labels = {"removed": _("压减水量"), "target": _("压采目标")}
    return render(
        request,
        "closure/progress.html",
        {"rep": rep, "year": year, "chart": chart, "chart_labels": labels},
    )


@gated()
def balance(request: HttpRequest) -> HttpResponse:
    year = _year(request)
    towns, zones = reports.balance(year)
    seen = set(visible_to(request.user, Action.VIEW, Township).values_list("pk", flat=True))
    towns = [r for r in towns if r.key.pk in seen]
    return render(request, "closure/balance.html", {"towns": towns, "zones": zones, "year": year})


class ImportForm(forms.Form):
    work = forms.ModelChoiceField(queryset=SupplyWork.objects.all(), label=gettext_lazy("供水工程"))
    served_on = forms.DateField(
        required=False,
        label=gettext_lazy("通水日期"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    file = forms.FileField(label=gettext_lazy("GeoJSON 文件"))


@gated()
def supply(request: HttpRequest) -> HttpResponse:
    works = visible_to(request.user, Action.VIEW, SupplyWork).prefetch_related("areas")
    form = ImportForm() if allowed(request.user, "closure.manage") else None
    return render(request, "closure/supply.html", {"works": works, "form": form})


@gated("closure.manage")
def supply_import(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        raw = form.cleaned_data["file"].read(5_000_000)
        try:
            data = json.loads(raw.decode("utf-8-sig"))
            areas = import_geojson(form.cleaned_data["work"], data, form.cleaned_data["served_on"])
        except (ValueError, UnicodeDecodeError) as exc:
            form.add_error("file", _("不是有效的 GeoJSON：%(e)s") % {"e": exc})
        except ValidationError as exc:
            form.add_error("file", "; ".join(m for ms in exc.message_dict.values() for m in ms))
        else:
            messages.success(request, _("已导入 %(n)d 个覆盖范围。") % {"n": len(areas)})
            return redirect("closure:supply")
    works = visible_to(request.user, Action.VIEW, SupplyWork).prefetch_related("areas")
    return render(request, "closure/supply.html", {"works": works, "form": form})


def _month(request: HttpRequest) -> Any:
    raw = request.GET.get("month", "")
    try:
        y, m = (int(x) for x in raw.split("-")[:2])
        return timezone.localdate().replace(year=y, month=m, day=1)
    except ValueError:
        today = timezone.localdate()
        return today.replace(day=1)


@gated()
def recovery_report(request: HttpRequest) -> HttpResponse:
    """Level change per monitoring well, township and zone in the bulletin's classes; with
    ``?format=xlsx`` (or csv) the sheet the county reports upward."""
    month = _month(request)
    wells = visible_to(request.user, Action.VIEW, MonitoringWell)
    rep = recovery.report(month, wells)
    fmt = request.GET.get("format")
    if fmt in ("xlsx", "csv"):
        columns, rows = recovery.export_rows(rep)
        body = (
            write_xlsx(rows, columns, sheet="recovery")
            if fmt == "xlsx"
            else write_csv(rows, columns)
        )
        response = HttpResponse(body, content_type=CONTENT_TYPES[fmt])
        response["Content-Disposition"] = f'attachment; filename="recovery-{month:%Y-%m}.{fmt}"'
        return response
    return render(
        request,
        "closure/recovery.html",
        {"rep": rep, "month": month, "labels": recovery.CLASS_LABELS},
    )


#: Why an attribution could not be made, as the page says it.
TOO_SHORT = {
    "too_few_observations": gettext_lazy("水位观测少于 %(n)d 次，数据太少，不作归因。"),
    "too_short_period": gettext_lazy("水位序列短于 %(years)g 年，数据太短，不作归因。"),
    "no_period_after_programme": gettext_lazy("关井压采开始后还不到一年的水位数据，不作归因。"),
    "no_baseline_observations": gettext_lazy("基准年没有水位观测，无法比较，不作归因。"),
    "weather_does_not_cover": gettext_lazy("气象序列未覆盖水位序列及其前一年的预热期，不作归因。"),
}


def too_short_text(code: str) -> str:
    return str(TOO_SHORT.get(code, code)) % {"n": MIN_OBSERVATIONS, "years": MIN_YEARS}


class AttributionForm(forms.Form):
    monitoring_well = forms.ModelChoiceField(
        queryset=MonitoringWell.objects.none(), label=gettext_lazy("监测井")
    )
    radius_m = forms.FloatField(
        label=gettext_lazy("开采井搜索半径 (m)"), min_value=50, max_value=20_000, initial=1000
    )
    station = forms.ChoiceField(label=gettext_lazy("气象站"), required=False)

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["monitoring_well"].queryset = visible_to(  # type: ignore[attr-defined]
            user, Action.VIEW, MonitoringWell.objects.filter(monitors_level=True)
        ).select_related("well")
        stations = sorted(set(MeteoSeries.objects.values_list("station", flat=True)))
        self.fields["station"].choices = [("", "—")] + [(s, s) for s in stations]  # type: ignore[attr-defined]


@gated()
def attribution(request: HttpRequest) -> HttpResponse:
    """The pastas model of one monitoring well: how much of its change since the programme
    began comes from less pumping, how much from the weather."""
    form = AttributionForm(request.GET or None, user=request.user)
    result = None
    if request.GET and form.is_valid():
        d = form.cleaned_data
        result = meteo.attribute_well(
            d["monitoring_well"], radius_m=d["radius_m"], station=d["station"] or None
        )
    return render(
        request,
        "closure/attribution.html",
        {
            "form": form,
            "result": result,
            "too_short": too_short_text(result.message)
            if result and not result.enough_data
            else "",
            "chart": result.chart if result and result.enough_data else None,
            "chart_labels": {
                "observed": _("观测水位"),
                "simulated": _("模拟水位"),
                "weather": _("降水蒸发贡献"),
                "pumping": _("开采贡献"),
            },
            "start": meteo.programme_start(),
        },
    )


class MeteoForm(forms.Form):
    station = forms.CharField(max_length=100, label=gettext_lazy("站名"))
    kind = forms.ChoiceField(choices=MeteoSeries.Kind.choices, label=gettext_lazy("要素"))
    source = forms.CharField(max_length=200, required=False, label=gettext_lazy("来源"))
    file = forms.FileField(label=gettext_lazy("Excel 或 CSV 文件（日期, 毫米/日）"))
    replace = forms.BooleanField(required=False, label=gettext_lazy("替换已有数值"))


@gated()
def meteo_series(request: HttpRequest) -> HttpResponse:
    form = MeteoForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not allowed(request.user, "closure.manage"):
            raise PermissionDenied(_("无权执行此操作。"))
        if form.is_valid():
            d = form.cleaned_data
            try:
                _series, added = meteo.import_series(
                    station=d["station"],
                    kind=d["kind"],
                    content=d["file"].read(20_000_000),
                    filename=d["file"].name,
                    source=d["source"],
                    replace=d["replace"],
                )
            except ValidationError as exc:
                for field, errs in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errs)
            else:
                messages.success(request, _("已导入 %(n)d 天。") % {"n": added})
                return redirect("closure:meteo")
    rows = []
    for s in MeteoSeries.objects.order_by("station", "kind"):
        days = s.values.order_by("day").values_list("day", flat=True)
        rows.append((s, days.count(), days.first(), days.last()))
    return render(
        request,
        "closure/meteo.html",
        {"rows": rows, "form": form if allowed(request.user, "closure.manage") else None},
    )
