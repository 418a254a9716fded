"""Pages of the monitoring app: the alarm board (summary, groups, bulk actions: board.py) and
alarm detail, the device-health map, the network health charts, the review of quality flags
and the meter change form.

Every queryset comes from ``visible_to``: the board shows a township officer their township's
alarms, a water user their own devices' alarms, the public nothing (a 403; anonymous visitors
are sent to the login page). Acting on an alarm or a flag needs ``change`` on it.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import F
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from aquifer.core.roles import Action
from aquifer.core.scoping import allowed, can, require, visible_to
from aquifer.core.tables import sort
from aquifer.core.widgets import PlainSelect
from aquifer.monitoring import alarms as alarm_service
from aquifer.monitoring import arrival, board, health
from aquifer.monitoring.filters import ACTIVE, AlarmFilterSet
from aquifer.monitoring.models import (
    Alarm,
    AlarmKind,
    AlarmSeverity,
    AlarmState,
    DeviceHealthDaily,
    MeterChange,
    ReadingFinding,
    ReviewState,
)
from aquifer.monitoring.review import ReviewError, review_finding
from aquifer.monitoring.tables import AlarmTable
from aquifer.registry.models import Device, Township
from aquifer.registry.spatial import county_geometry

HEALTH_COLOURS = {"online": "#2ca02c", "late": "#ff9f1c", "offline": "#d62728", "unknown": "#999"}


def _signed_in(request: HttpRequest) -> HttpResponse | None:
    """None when the visitor may use monitoring pages; else the login redirect (or 403)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not allowed(request.user, "monitoring.pages"):
        raise PermissionDenied(_("公众账号无权查看监测预警。"))
    return None


def _alarms(request: HttpRequest, data: Any) -> AlarmFilterSet:
    """The user's alarms through the board's FilterSet (an invalid filter value is left out of
    the filtering and shown as the form's error)."""
    # No join of townships (their boundary polygons are large) nor of devices: the board
    # shows the township's name only.
    qs = (
        visible_to(request.user, Action.VIEW, Alarm)
        .annotate(township_name=F("township__name"))
        .defer("data", "detail")
        .order_by("-opened_at", "-id")
    )
    return AlarmFilterSet(data, queryset=qs, request=request)


def _labelled(alarms: Any) -> list[Alarm]:
    """The alarms with their choice labels resolved once per request (get_FOO_display hashes
    lazy strings on every call: a third of the board's rendering time)."""
    kinds = {k: str(v) for k, v in AlarmKind.choices}
    states = {k: str(v) for k, v in AlarmState.choices}
    severities = {k: str(v) for k, v in AlarmSeverity.choices}
    out = list(alarms)
    for a in out:
        a.kind_label = kinds.get(a.kind, a.kind)
        a.state_label = states.get(a.state, a.state)
        a.severity_label = severities.get(a.severity, a.severity)
        a.severity_icon = board.SEVERITY_ICONS.get(a.severity, "")
        a.url = reverse("monitoring:alarm_detail", args=[a.pk])
    return out


#: The query parameters the board's bulk form carries back (its filters, view and order).
_CARRIED = (*AlarmFilterSet.base_filters, "group", "sort")
#: The bulk form's fields, as named in its error messages.
_BULK_FIELDS = {"action": _lazy("操作"), "reason": _lazy("处理原因"), "ids": _lazy("所选告警")}


@dataclass
class _Bulk:
    """A bulk form sent back: what was chosen and why it was not done."""

    action: str = ""
    reason: str = ""
    picked: set[int] = field(default_factory=set)
    errors: list[tuple[str, str]] = field(default_factory=list)
    refusals: list[board.Refusal] = field(default_factory=list)


def _grouping(data: Any) -> str:
    """``kind`` (one row per kind, expandable) or ``none`` (one row per alarm). Unless asked,
    grouped — but flat when the board is narrowed to one kind or sorted by a column."""
    group = data.get("group")
    if group in ("kind", "none"):
        return str(group)
    return "none" if data.get("kind") or data.get("sort") else "kind"


def _board(
    request: HttpRequest, query: Any, bulk: _Bulk | None = None, status: int = 200
) -> HttpResponse:
    data = query.copy()
    if "state" not in data:
        data["state"] = ACTIVE
    filters = _alarms(request, data)
    now = timezone.now()
    grouping = _grouping(data)
    context: dict[str, Any] = {
        "title": _("告警看板"),
        "filter_form": filters.form,
        "may_act": can(request.user, Action.CHANGE, Alarm),
        "now": now,
        "grouped": grouping == "kind",
        "carried": [(k, v) for k in _CARRIED for v in data.getlist(k) if k != "group"]
        + [("group", grouping)],
        "bulk": bulk or _Bulk(),
        "actions": [("acknowledge", _("确认")), ("resolve", _("解除"))],
    }
    table = AlarmTable(filters.qs)
    context["table"] = table
    if grouping == "kind":
        groups = board.groups(filters.qs, now)
        for g in groups:
            g.members = _labelled(g.members)
        context["groups"] = groups
        context["total"] = sum(g.count for g in groups)
        context["preview"] = board.GROUP_PREVIEW
    else:
        sorts = data.getlist(table.order_by_field)
        sort(table, sorts or ["due_at"])
        if not sorts:  # by due time, the soonest first (sort() alone puts no-due first on SQLite)
            table.data.data = board.by_due(filters.qs)
        page = Paginator(table.data.data, 50).get_page(data.get("page"))
        context["page_obj"] = page
        context["alarms"] = _labelled(page.object_list)
        context["total"] = page.paginator.count
    htmx = bool(request.htmx)  # type: ignore[attr-defined]
    if not htmx:  # the summary is the page's head; a filter change swaps the results only
        context["summary"] = board.summary(request.user, now)
    template = "monitoring/_alarm_results.html" if htmx else "monitoring/alarm_list.html"
    return render(request, template, context, status=status)


def alarm_list(request: HttpRequest) -> HttpResponse:
    """The alarm board (告警看板): summary, groups or rows by due time, bulk actions."""
    if (r := _signed_in(request)) is not None:
        return r
    return _board(request, request.GET)


def alarm_bulk(request: HttpRequest) -> HttpResponse:
    """POST from the board: acknowledge or resolve the ticked alarms (rows, whole groups or
    the whole filter) with one reason, all or nothing (``board.apply``). Done: back to the
    board with a message; refused or invalid: the board again (422) saying why, ticks kept."""
    if request.method != "POST":
        return HttpResponse(status=405)
    if (r := _signed_in(request)) is not None:
        return r
    post = request.POST
    query = QueryDict(mutable=True)
    for name in _CARRIED:
        if name in post:
            query.setlist(name, post.getlist(name))
    action, reason = post.get("action", ""), post.get("reason", "")
    raw = post.getlist("ids")
    explicit = [int(v) for v in raw if v.isdigit()]
    bulk = _Bulk(action=action, reason=reason, picked=set(explicit))
    pool = None
    if post.get("all") or post.getlist("kinds"):
        data = query.copy()
        if "state" not in data:
            data["state"] = ACTIVE
        pool = _alarms(request, data).qs
        if not post.get("all"):
            pool = pool.filter(kind__in=post.getlist("kinds"))
    try:
        if len(explicit) != len(raw):
            raise board.BulkInvalid({"ids": [_("告警编号无效。")]})
        done = board.apply(request.user, action, reason, board.selected(action, explicit, pool))
    except board.BulkInvalid as e:
        bulk.errors = [(str(_BULK_FIELDS[f]), m) for f, ms in e.errors.items() for m in ms]
    except board.BulkRefused as e:
        bulk.refusals = e.refusals
    else:
        if action == "acknowledge":
            messages.success(request, _("已确认 %(n)d 条告警。") % {"n": len(done)})
        else:
            messages.success(request, _("已解除 %(n)d 条告警。") % {"n": len(done)})
        url = reverse("monitoring:alarm_list")
        return redirect(f"{url}?{query.urlencode()}" if query else url)
    # the page's links ({% querystring %}) keep the board's filters
    request.GET = query  # type: ignore[assignment]
    return _board(request, query, bulk, status=422)


def alarm_detail(request: HttpRequest, pk: int) -> HttpResponse:
    if (r := _signed_in(request)) is not None:
        return r
    alarm = get_object_or_404(
        visible_to(request.user, Action.VIEW, Alarm).select_related(
            "township", "device", "well", "acknowledged_by", "closed_by"
        ),
        pk=pk,
    )
    return render(
        request,
        "monitoring/alarm_detail.html",
        {
            "alarm": alarm,
            "events": alarm.events.all(),
            "may_act": can(request.user, Action.CHANGE, alarm) and alarm.is_open,
            "data_json": json.dumps(alarm.data, ensure_ascii=False, indent=1),
        },
    )


def alarm_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """POST: acknowledge / resolve / close as false (from the board with htmx, or the page)."""
    if request.method != "POST":
        return HttpResponse(status=405)
    if (r := _signed_in(request)) is not None:
        return r
    alarm = get_object_or_404(visible_to(request.user, Action.VIEW, Alarm), pk=pk)
    require(request.user, Action.CHANGE, alarm)
    note = request.POST.get("note", "").strip()
    error = ""
    try:
        if action == "acknowledge":
            alarm_service.acknowledge(alarm, request.user, note)
        elif action == "resolve":
            alarm_service.resolve(alarm, request.user, note)
        elif action == "close":
            alarm_service.close_false(alarm, request.user, note)
        else:
            return HttpResponse(status=404)
    except alarm_service.AlarmError:
        if not note and action != "acknowledge":
            error = _("请填写处理说明。")
        else:
            error = _("该告警当前状态不允许此操作。")
    if request.htmx:  # type: ignore[attr-defined]
        alarm.refresh_from_db()
        response = render(
            request,
            "monitoring/_alarm_row.html",
            {"a": _labelled([alarm])[0], "may_act": True, "error": error, "now": timezone.now()},
        )
        if error:
            response.status_code = 422
        return response
    if error:
        messages.error(request, error)
    return redirect(alarm.get_absolute_url())


# --- device health map and figures ---------------------------------------------------------


def health_map(request: HttpRequest) -> HttpResponse:
    if (r := _signed_in(request)) is not None:
        return r

    minx, miny, maxx, maxy = county_geometry().bounds
    config: dict[str, object] = {
        "bounds": [[miny, minx], [maxy, maxx]],
        "url": reverse("api:device_health_geojson"),
        "townships": reverse("api:map_townships"),
        "colours": HEALTH_COLOURS,
        "labels": {
            "online": _("在线"),
            "late": _("延迟"),
            "offline": _("离线"),
            "unknown": _("未知"),
        },
    }
    labels: dict[str, str] = config["labels"]  # type: ignore[assignment]
    legend = [(labels[k], v) for k, v in HEALTH_COLOURS.items()]
    return render(request, "monitoring/health_map.html", {"map_config": config, "legend": legend})


def health_figures(request: HttpRequest) -> HttpResponse:
    if (r := _signed_in(request)) is not None:
        return r

    end = timezone.localdate() - dt.timedelta(days=1)
    try:
        days = max(1, min(366, int(request.GET.get("days", "30"))))
    except ValueError:
        days = 30
    start = end - dt.timedelta(days=days - 1)
    qs = visible_to(request.user, Action.VIEW, DeviceHealthDaily)
    county = health.figures(qs, "county", start, end)
    towns = health.figures(qs, "township", start, end)
    names = dict(Township.objects.values_list("pk", "name"))
    series: dict[str, dict[str, list[Any]]] = {}
    for f in towns:
        s = series.setdefault(names.get(f.key or 0, "—"), {"x": [], "online": [], "complete": []})
        s["x"].append(f.day.isoformat())
        s["online"].append(f.online_rate)
        s["complete"].append(f.completeness)
    chart = {
        "county": {
            "x": [f.day.isoformat() for f in county],
            "online": [f.online_rate for f in county],
            "complete": [f.completeness for f in county],
        },
        "townships": series,
        "text": {
            "online": _("在线率"),
            "complete": _("数据完整率"),
            "county": _("全县"),
        },
    }
    latest = towns[-len(series) :] if series else []
    table = sorted(
        ({"name": names.get(f.key or 0, "—"), "f": f} for f in latest if f.day == end),
        key=lambda r: str(r["name"]),
    )
    # 到报率 over the whole period (received / expected reports by each device's schedule).
    rows = arrival.by_device(visible_to(request.user, Action.VIEW, Device), start, end)
    arrivals = [
        {"name": names.get(a.key or 0, "—"), "a": a} for a in arrival.summarise(rows, "township")
    ]
    arrivals.sort(key=lambda r: str(r["name"]))
    county_arrival = arrival.summarise(rows, "county")
    return render(
        request,
        "monitoring/health_figures.html",
        {
            "chart": chart,
            "table": table,
            "county": county[-1] if county else None,
            "days": days,
            "arrivals": arrivals,
            "county_arrival": county_arrival[0] if county_arrival else None,
            "arrival_target": arrival.TARGET,
        },
    )


# --- quality flags review ------------------------------------------------------------------


def finding_list(request: HttpRequest) -> HttpResponse:
    if (r := _signed_in(request)) is not None:
        return r
    qs = visible_to(request.user, Action.VIEW, ReadingFinding).select_related("device")
    review = request.GET.get("review", "pending")
    if review in ReviewState.values:
        qs = qs.filter(review=review)
    page = Paginator(qs.order_by("-observed_at", "-id"), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "monitoring/finding_list.html",
        {
            "page_obj": page,
            "review": review,
            "reviews": ReviewState.choices,
            "may_review": can(request.user, Action.CHANGE, ReadingFinding),
        },
    )


def finding_review(request: HttpRequest, pk: int) -> HttpResponse:
    if request.method != "POST":
        return HttpResponse(status=405)
    if (r := _signed_in(request)) is not None:
        return r
    finding = get_object_or_404(visible_to(request.user, Action.VIEW, ReadingFinding), pk=pk)
    require(request.user, Action.CHANGE, finding)
    decision = request.POST.get("decision")
    if decision not in ("confirm", "override"):
        messages.error(request, _("请选择确认或撤销。"))
    else:
        try:
            review_finding(
                finding,
                request.user,
                confirm=decision == "confirm",
                reason=request.POST.get("reason", ""),
            )
            messages.success(request, _("已复核。"))
        except ReviewError:
            messages.error(request, _("请填写复核理由。"))
    return redirect(reverse("monitoring:finding_list"))


class MeterChangeForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = MeterChange
        fields = [
            "device",
            "element",
            "changed_at",
            "old_final",
            "new_initial",
            "old_serial",
            "new_serial",
            "note",
        ]
        widgets = {
            "changed_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "device": PlainSelect,  # the county's devices: thousands of options
        }

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["device"].queryset = visible_to(user, Action.CHANGE, Device)  # type: ignore[attr-defined]


def meter_change_new(request: HttpRequest) -> HttpResponse:
    if (r := _signed_in(request)) is not None:
        return r
    if not can(request.user, Action.ADD, MeterChange):
        raise PermissionDenied(_("您的角色无权登记换表。"))
    form = MeterChangeForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        change = form.save(commit=False)
        require(request.user, Action.ADD, change)
        change.save()
        messages.success(request, _("换表已登记。"))
        return redirect(reverse("monitoring:finding_list"))
    changes = visible_to(request.user, Action.VIEW, MeterChange).select_related("device")[:50]
    return render(request, "monitoring/meter_change.html", {"form": form, "changes": changes})
