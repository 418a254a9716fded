"""Pages of the maintenance app: tickets (list, board, detail with timeline, new), patrols
(list, form, detail), devices with their upkeep, the figures, and the patrol checklist.

Every queryset comes from ``visible_to``; a ticket out of sight is a 404. Water users see
their own devices' tickets and report faults; the public sees nothing here.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aquifer.core.roles import Action
from aquifer.core.scoping import allowed, can_see_history, visible_to
from aquifer.core.tables import sort
from aquifer.core.views import history_of
from aquifer.maintenance import services, workflow
from aquifer.maintenance.figures import upkeep_figures
from aquifer.maintenance.filters import ALL, OPEN, TicketFilterSet
from aquifer.maintenance.forms import (
    ActionForm,
    ChecklistItemForm,
    PatrolForm,
    TicketForm,
)
from aquifer.maintenance.models import (
    ChecklistItem,
    Patrol,
    Priority,
    Ticket,
    TicketState,
)
from aquifer.maintenance.tables import TicketTable
from aquifer.monitoring.models import Alarm
from aquifer.registry.models import Device

PAGE_SIZE = 50


View = Callable[..., HttpResponse]


def gated(capability: str = "maintenance.use") -> Callable[[View], View]:
    """Only who has ``capability``: an anonymous visitor is sent to log in, others get a 403."""

    def wrap(view: View) -> View:
        @functools.wraps(view)
        def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not allowed(request.user, capability):
                raise PermissionDenied(_("您的角色无权使用设备运维。"))
            return view(request, *args, **kwargs)

        return inner

    return wrap


def _tickets(request: HttpRequest) -> models.QuerySet[Ticket]:
    return visible_to(request.user, Action.VIEW, Ticket).select_related(
        "device", "township", "assignee", "owner"
    )


@gated()
def ticket_list(request: HttpRequest) -> HttpResponse:
    """Tickets with filters; ``?view=board`` shows them as columns by state."""
    # An invalid filter value is left out of the filtering and shown as the form's error.
    filters = TicketFilterSet(request.GET, queryset=_tickets(request), request=request)
    qs = filters.qs
    form = filters.form
    state = form.cleaned_data.get("state") or OPEN
    board = request.GET.get("view") == "board"
    context: dict[str, Any] = {"form": form, "board": board, "can_report": True}
    if board:
        columns = []
        for value, label in TicketState.choices:
            if state not in (OPEN, ALL, value):
                continue
            if state == OPEN and value not in workflow.OPEN_STATES:
                continue
            items = list(qs.filter(state=value)[:100])
            columns.append({"state": value, "label": label, "tickets": items})
        context["columns"] = columns
        context["count"] = qs.count()
    else:
        table = TicketTable(qs, attrs={"id": "ticket-list", "class": "list"})
        table.request = request
        sort(table, request.GET.getlist(table.order_by_field))
        table.paginator = Paginator(table.rows, PAGE_SIZE)
        table.page = table.paginator.get_page(request.GET.get("page"))
        context["table"] = table
        context["page_obj"] = table.page
        query = urlencode(
            [
                (name, request.GET[name])
                for name in filters.filters
                if request.GET.get(name) and name not in filters.errors
            ]
        )
        api = reverse("api:api-root") + "maintenance/tickets/export"
        context["exports"] = [
            (label, f"{api}?format={fmt}" + (f"&{query}" if query else ""))
            for fmt, label in (("xlsx", "Excel"), ("csv", "CSV"))
        ]
    htmx = getattr(request, "htmx", None)
    if htmx and not htmx.history_restore_request:
        return render(request, "maintenance/_ticket_results.html", context)
    return render(request, "maintenance/ticket_list.html", context)


def _detail_context(request: HttpRequest, ticket: Ticket) -> dict[str, Any]:
    user = request.user
    actions = services.permitted_actions(user, ticket)
    return {
        "ticket": ticket,
        "events": ticket.events.all(),
        "patrols": visible_to(user, Action.VIEW, Patrol).filter(ticket=ticket),
        "actions": actions,
        "assignees": services.assignable_users(ticket) if "assign" in actions else [],
        "history": history_of(ticket) if can_see_history(user, ticket) else None,
        "alarm_url": ticket.alarm.get_absolute_url() if ticket.alarm_id and ticket.alarm else "",
    }


@gated()
def ticket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = get_object_or_404(_tickets(request), pk=pk)
    return render(request, "maintenance/ticket_detail.html", _detail_context(request, ticket))


@require_POST
@gated()
def ticket_act(request: HttpRequest, pk: int) -> HttpResponse:
    """Apply one action from the ticket page; a refused one re-renders it with the reason."""
    ticket = get_object_or_404(_tickets(request), pk=pk)
    form = ActionForm(request.POST)
    errors: list[str] = []
    if not form.is_valid():
        errors = [f"{k}: {m}" for k, ms in form.errors.items() for m in ms]
    else:
        d = form.cleaned_data
        assignee = None
        if d["action"] == "assign" and d.get("assignee"):
            assignee = get_user_model().objects.filter(pk=d["assignee"]).first()
        try:
            services.act(
                ticket,
                d["action"],
                by=request.user,
                note=d.get("note") or "",
                assignee=assignee,
                resolution=d.get("resolution") or "",
            )
        except ValidationError as exc:
            errors = [str(m) for ms in exc.message_dict.values() for m in ms]
        else:
            messages.success(request, _("工单已更新。"))
            return redirect(ticket.get_absolute_url())
    ticket.refresh_from_db()
    context = _detail_context(request, ticket)
    context["errors"] = errors
    return render(request, "maintenance/ticket_detail.html", context, status=422)


@gated()
def ticket_new(request: HttpRequest) -> HttpResponse:
    """Open a ticket: a water user reports a fault on one of their devices; staff open one for
    any device in their scope (``?device=<id>`` preselects; ``?alarm=<id>`` opens from an
    alarm)."""
    user = request.user
    alarm = None
    if request.GET.get("alarm"):
        alarm = get_object_or_404(
            visible_to(user, Action.VIEW, Alarm), pk=_int(request.GET["alarm"])
        )
    initial: dict[str, Any] = {}
    if request.GET.get("device"):
        initial["device"] = _int(request.GET["device"])
    if alarm is not None:
        initial.update(
            device=alarm.device_id,
            title=alarm.display_title,
            description=alarm.display_detail or alarm.display_title,
            priority="high" if alarm.severity == "critical" else "normal",
        )
    form = TicketForm(request.POST or None, user=user, initial=initial)
    if alarm is not None and alarm.device_id is None:
        form.fields["device"].required = False  # e.g. a frame from an unregistered station
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            ticket = services.open_ticket(
                by=user,
                title=d.get("title") or "",
                description=d["description"],
                device=d.get("device"),
                alarm=alarm,
                priority=d.get("priority") or Priority.NORMAL,
            )
        except ValidationError as exc:
            for field, msgs in exc.message_dict.items():
                for m in msgs:
                    form.add_error(field if field in form.fields else None, m)
        else:
            messages.success(request, _("已创建运维工单 %s。") % ticket.number)
            return redirect(ticket.get_absolute_url())
    title = _("报告设备故障") if allowed(user, "maintenance.fault_report") else _("新建运维工单")
    return render(
        request,
        "maintenance/form.html",
        {
            "form": form,
            "title": title,
            "alarm": alarm,
            "cancel_url": reverse("maintenance:ticket_list"),
        },
        status=422 if form.is_bound and form.errors else 200,
    )


def _int(value: str) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@gated()
def device_list(request: HttpRequest) -> HttpResponse:
    """The devices in scope with their open tickets and last patrol; a fault report link."""
    user = request.user
    devices = visible_to(user, Action.VIEW, Device).select_related("well", "well__township")
    q = request.GET.get("q", "").strip()
    if q:
        devices = devices.filter(
            models.Q(station_address__icontains=q) | models.Q(well__code__icontains=q)
        )
    page = Paginator(devices.order_by("station_address"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    ids = [d.pk for d in page]
    open_counts = dict(
        visible_to(user, Action.VIEW, Ticket)
        .filter(device_id__in=ids, state__in=workflow.OPEN_STATES)
        .values("device_id")
        .annotate(n=models.Count("id"))
        .values_list("device_id", "n")
    )
    last_patrol = dict(
        visible_to(user, Action.VIEW, Patrol)
        .filter(device_id__in=ids)
        .values("device_id")
        .annotate(last=models.Max("visited_at"))
        .values_list("device_id", "last")
    )
    rows = [
        {"device": d, "open": open_counts.get(d.pk, 0), "last_patrol": last_patrol.get(d.pk)}
        for d in page
    ]
    return render(
        request,
        "maintenance/device_list.html",
        {"rows": rows, "page_obj": page, "q": q, "can_patrol": allowed(user, "maintenance.staff")},
    )


@gated()
def patrol_list(request: HttpRequest) -> HttpResponse:
    qs = visible_to(request.user, Action.VIEW, Patrol).select_related(
        "device", "township", "inspector", "ticket"
    )
    device = _int(request.GET.get("device", ""))
    if device:
        qs = qs.filter(device_id=device)
    if request.GET.get("faults") == "1":
        qs = qs.filter(models.Q(ticket__isnull=False) | ~models.Q(findings=""))
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "maintenance/patrol_list.html",
        {
            "page_obj": page,
            "can_patrol": allowed(request.user, "maintenance.staff"),
            "device": device,
        },
    )


@gated()
def patrol_detail(request: HttpRequest, pk: int) -> HttpResponse:
    patrol = get_object_or_404(
        visible_to(request.user, Action.VIEW, Patrol).select_related("device", "ticket"), pk=pk
    )
    return render(request, "maintenance/patrol_detail.html", {"patrol": patrol})


@gated("maintenance.staff")
def patrol_new(request: HttpRequest) -> HttpResponse:
    user = request.user
    initial: dict[str, Any] = {"visited_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")}
    if request.GET.get("device"):
        initial["device"] = _int(request.GET["device"])
    form = PatrolForm(request.POST or None, user=user, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            patrol = services.record_patrol(
                by=user,
                device=d["device"],
                results={i.code: d[f"check_{i.code}"] for i in form.items},
                notes={i.code: d[f"note_{i.code}"] for i in form.items},
                findings=d.get("findings") or "",
                meter_reading=d.get("meter_reading"),
                visited_at=d["visited_at"],
                open_ticket_for_faults=bool(d.get("open_ticket")),
            )
        except ValidationError as exc:
            for field, msgs in exc.message_dict.items():
                for m in msgs:
                    form.add_error(field if field in form.fields else None, m)
        else:
            messages.success(request, _("巡检记录已保存。"))
            return redirect(patrol.get_absolute_url())
    return render(
        request,
        "maintenance/patrol_form.html",
        {"form": form, "title": _("记录巡检"), "cancel_url": reverse("maintenance:patrol_list")},
        status=422 if form.is_bound and form.errors else 200,
    )


@gated("maintenance.staff")
def figures(request: HttpRequest) -> HttpResponse:
    """Time to acknowledge, time to repair, open and overdue tickets per township or device."""
    by = "device" if request.GET.get("by") == "device" else "township"
    days = _int(request.GET.get("days", "")) or 90
    days = min(max(days, 1), 3660)
    until = timezone.now()
    since = until - dt.timedelta(days=days)
    rows = upkeep_figures(request.user, since=since, until=until, by=by)
    return render(
        request,
        "maintenance/figures.html",
        {"rows": rows, "by": by, "days": days, "since": since, "until": until},
    )


@gated("maintenance.staff")
def checklist(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """The patrol checklist; the bureau adds and edits items (others read it)."""
    is_bureau = allowed(request.user, "maintenance.checklist_edit")
    instance = get_object_or_404(ChecklistItem, pk=pk) if pk is not None else None
    form = None
    if is_bureau:
        form = ChecklistItemForm(request.POST or None, instance=instance)
        if request.method == "POST" and form.is_valid():
            form.save()
            messages.success(request, _("巡检项目已保存。"))
            return redirect("maintenance:checklist")
    elif request.method == "POST":
        raise PermissionDenied(_("只有县水务局可以修改巡检项目。"))
    return render(
        request,
        "maintenance/checklist.html",
        {"items": ChecklistItem.objects.all(), "form": form, "editing": instance},
        status=422 if form is not None and form.is_bound and form.errors else 200,
    )
