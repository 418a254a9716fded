"""REST API of the maintenance app: tickets (list, read, timeline, open, act), patrols, the
checklist and the upkeep figures.

Every queryset comes from ``visible_to``; the public and anonymous callers get empty lists, a
ticket out of scope is a 404, an action the role may not take a 403, a bad input a 422 naming
the field. Writes go through ``maintenance.services`` (the same checks as the pages).

Do not add ``from __future__ import annotations`` (django-ninja reads these annotations).
"""

import datetime as dt
from typing import Any, Literal

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from aquifer.core.crud import page
from aquifer.core.exports import export_response
from aquifer.core.filters import filter_errors, openapi_parameters
from aquifer.core.roles import Action
from aquifer.core.scoping import allowed, visible_to
from aquifer.core.tables import export_columns
from aquifer.maintenance import services
from aquifer.maintenance.figures import upkeep_figures
from aquifer.maintenance.filters import TicketFilterSet
from aquifer.maintenance.models import ChecklistItem, Patrol, Ticket
from aquifer.maintenance.tables import TicketTable
from aquifer.monitoring.models import Alarm
from aquifer.registry.models import Device

router = Router(tags=["maintenance"])


def _iso(t: Any) -> str | None:
    return t.isoformat() if t else None


class TicketOut(Schema):
    id: int
    number: str
    title: str
    description: str
    source: str
    priority: str
    state: str
    device_id: int | None
    alarm_id: int | None
    township_id: int | None
    owner_id: int | None
    reported_by: str | None
    assignee_id: int | None
    assignee: str | None
    opened_at: str
    due_at: str | None
    assigned_at: str | None
    started_at: str | None
    closed_at: str | None
    resolution: str
    overdue: bool
    actions: list[str]

    @staticmethod
    def of(t: Ticket, user: Any) -> dict[str, Any]:
        return {
            "id": t.pk,
            "number": t.number,
            "title": t.title,
            "description": t.description,
            "source": t.source,
            "priority": t.priority,
            "state": t.state,
            "device_id": t.device_id,
            "alarm_id": t.alarm_id,
            "township_id": t.township_id,
            "owner_id": t.owner_id,
            "reported_by": t.reported_by.get_username() if t.reported_by else None,
            "assignee_id": t.assignee_id,
            "assignee": t.assignee.get_username() if t.assignee else None,
            "opened_at": t.opened_at.isoformat(),
            "due_at": _iso(t.due_at),
            "assigned_at": _iso(t.assigned_at),
            "started_at": _iso(t.started_at),
            "closed_at": _iso(t.closed_at),
            "resolution": t.resolution,
            "overdue": t.overdue,
            "actions": services.permitted_actions(user, t),
        }


class TicketPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[TicketOut]


class TicketEventOut(Schema):
    at: str
    action: str
    from_state: str
    to_state: str
    username: str
    assignee: str
    note: str


class TicketIn(Schema):
    device_id: int | None = None
    alarm_id: int | None = None
    title: str = Field("", max_length=200)
    description: str = Field("", max_length=4000)
    priority: Literal["low", "normal", "high", "urgent"] = "normal"


class ActionIn(Schema):
    action: Literal["assign", "start", "note", "close", "cancel", "reopen"]
    assignee_id: int | None = None
    note: str = Field("", max_length=4000)
    resolution: str = Field("", max_length=4000)


def _tickets(request: HttpRequest) -> Any:
    return visible_to(request.user, Action.VIEW, Ticket).select_related("assignee", "reported_by")


def _ticket(request: HttpRequest, pk: int) -> Ticket:
    t: Ticket | None = _tickets(request).filter(pk=pk).first()
    if t is None:
        raise Http404
    return t


def _signed_in(request: HttpRequest) -> Any:
    if not request.user.is_authenticated:
        raise HttpError(401, _("需要登录或 API 令牌。"))
    return request.user


_TICKET_FILTERS: dict[str, Any] = {"parameters": openapi_parameters(TicketFilterSet)}


def _filtered(request: HttpRequest) -> Any:
    """The caller's tickets that pass the query's filters (the ticket list's FilterSet); an
    invalid filter value is a 422 naming it."""
    filters = TicketFilterSet(request.GET, queryset=_tickets(request), request=request)
    if not filters.is_valid():
        raise filter_errors(filters)
    return filters.qs


@router.get(
    "/maintenance/tickets/",
    response=TicketPage,
    operation_id="maintenance_ticket_list",
    openapi_extra=_TICKET_FILTERS,
)
def ticket_list(
    request: HttpRequest,
    limit: int = Query(50, ge=1, le=500),  # type: ignore[type-arg]
    offset: int = Query(0, ge=0),  # type: ignore[type-arg]
) -> Any:
    """Tickets the caller may see (water users: their own devices'; officers: their
    township's); ``state=open`` (default) is new, assigned and in progress."""
    return page(_filtered(request), limit, offset, lambda t: TicketOut.of(t, request.user))


@router.get(
    "/maintenance/tickets/export",
    operation_id="maintenance_ticket_export",
    response={200: None},
    openapi_extra=_TICKET_FILTERS,
)
def ticket_export(request: HttpRequest, format: Literal["xlsx", "csv"] = "xlsx") -> HttpResponse:
    """Excel (or CSV) of the filtered tickets, with the ticket list's columns
    (maintenance/tables.py)."""
    qs = _filtered(request).select_related("device", "township")
    return export_response(qs, export_columns(TicketTable, Ticket), format, "tickets")


@router.get("/maintenance/tickets/{pk}", response=TicketOut, operation_id="maintenance_ticket_read")
def ticket_read(request: HttpRequest, pk: int) -> Any:
    return TicketOut.of(_ticket(request, pk), request.user)


@router.get(
    "/maintenance/tickets/{pk}/events",
    response=list[TicketEventOut],
    operation_id="maintenance_ticket_events",
    summary="The ticket's timeline",
)
def ticket_events(request: HttpRequest, pk: int) -> Any:
    t = _ticket(request, pk)
    return [
        {
            "at": e.at.isoformat(),
            "action": e.action,
            "from_state": e.from_state,
            "to_state": e.to_state,
            "username": e.username,
            "assignee": e.assignee_name,
            "note": e.note,
        }
        for e in t.events.all()
    ]


def _device(user: Any, device_id: int) -> Any:
    """The device in the user's scope; else a 422 naming ``device_id``."""
    device = visible_to(user, Action.VIEW, Device).filter(pk=device_id).first()
    if device is None:
        raise ValidationError({"device_id": _("不存在编号为 %s 的监测设备。") % device_id})
    return device


@router.post(
    "/maintenance/tickets/",
    response={201: TicketOut},
    operation_id="maintenance_ticket_create",
    summary="Open a ticket (a water user: report a fault on one of their devices)",
)
def ticket_create(request: HttpRequest, payload: TicketIn) -> Any:
    user = _signed_in(request)
    if not allowed(user, "maintenance.use"):
        raise PermissionDenied(_("您的角色无权使用设备运维。"))
    device = alarm = None
    if payload.device_id is not None:
        device = _device(user, payload.device_id)
    if payload.alarm_id is not None:
        alarm = visible_to(user, Action.VIEW, Alarm).filter(pk=payload.alarm_id).first()
        if alarm is None:
            raise ValidationError({"alarm_id": _("不存在编号为 %s 的告警。") % payload.alarm_id})
    ticket = services.open_ticket(
        by=user,
        title=payload.title,
        description=payload.description,
        device=device,
        alarm=alarm,
        priority="normal" if allowed(user, "maintenance.fault_report") else payload.priority,
    )
    return Status(201, TicketOut.of(ticket, user))


@router.post(
    "/maintenance/tickets/{pk}/actions",
    response=TicketOut,
    operation_id="maintenance_ticket_act",
    summary="Assign, start, note, close, cancel or reopen a ticket",
)
def ticket_act(request: HttpRequest, pk: int, payload: ActionIn) -> Any:
    user = _signed_in(request)
    ticket = _ticket(request, pk)
    assignee = None
    if payload.action == "assign":
        if payload.assignee_id is None:
            raise ValidationError({"assignee_id": _("请选择处理人。")})
        assignee = get_user_model().objects.filter(pk=payload.assignee_id).first()
        if assignee is None:
            raise ValidationError(
                {"assignee_id": _("不存在编号为 %s 的用户。") % payload.assignee_id}
            )
    try:
        services.act(
            ticket,
            payload.action,
            by=user,
            note=payload.note,
            assignee=assignee,
            resolution=payload.resolution,
        )
    except ValidationError as exc:
        if "assignee" in getattr(exc, "error_dict", {}):
            raise ValidationError({"assignee_id": exc.message_dict["assignee"]}) from None
        raise
    return TicketOut.of(_ticket(request, pk), user)


class CheckOut(Schema):
    code: str
    label: str
    result: str
    note: str = ""


class PatrolOut(Schema):
    id: int
    device_id: int
    township_id: int | None
    owner_id: int | None
    inspector: str | None
    visited_at: str
    checks: list[CheckOut]
    meter_reading: float | None
    findings: str
    ticket_id: int | None

    @staticmethod
    def of(p: Patrol) -> dict[str, Any]:
        return {
            "id": p.pk,
            "device_id": p.device_id,
            "township_id": p.township_id,
            "owner_id": p.owner_id,
            "inspector": p.inspector.get_username() if p.inspector else None,
            "visited_at": p.visited_at.isoformat(),
            "checks": p.checks,
            "meter_reading": p.meter_reading,
            "findings": p.findings,
            "ticket_id": p.ticket_id,
        }


class PatrolPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[PatrolOut]


class PatrolIn(Schema):
    device_id: int
    visited_at: dt.datetime | None = None
    checks: dict[str, Literal["ok", "fault", "na"]]
    notes: dict[str, str] = {}
    findings: str = Field("", max_length=4000)
    meter_reading: float | None = Field(None, ge=0)
    open_ticket: bool = False


@router.get("/maintenance/patrols/", response=PatrolPage, operation_id="maintenance_patrol_list")
def patrol_list(
    request: HttpRequest,
    device_id: int | None = None,
    township_id: int | None = None,
    limit: int = Query(50, ge=1, le=500),  # type: ignore[type-arg]
    offset: int = Query(0, ge=0),  # type: ignore[type-arg]
) -> Any:
    qs = visible_to(request.user, Action.VIEW, Patrol).select_related("inspector")
    if device_id is not None:
        qs = qs.filter(device_id=device_id)
    if township_id is not None:
        qs = qs.filter(township_id=township_id)
    return page(qs, limit, offset, PatrolOut.of)


@router.get("/maintenance/patrols/{pk}", response=PatrolOut, operation_id="maintenance_patrol_read")
def patrol_read(request: HttpRequest, pk: int) -> Any:
    p = visible_to(request.user, Action.VIEW, Patrol).filter(pk=pk).first()
    if p is None:
        raise Http404
    return PatrolOut.of(p)


@router.post(
    "/maintenance/patrols/",
    response={201: PatrolOut},
    operation_id="maintenance_patrol_create",
    summary="Record a patrol visit; every active checklist item needs a result",
)
def patrol_create(request: HttpRequest, payload: PatrolIn) -> Any:
    user = _signed_in(request)
    device = _device(user, payload.device_id)
    if payload.visited_at is not None and timezone.is_naive(payload.visited_at):
        raise ValidationError({"visited_at": _("时间须带时区，如 2026-05-01T09:30:00+08:00。")})
    patrol = services.record_patrol(
        by=user,
        device=device,
        results=dict(payload.checks),
        notes=dict(payload.notes),
        findings=payload.findings,
        meter_reading=payload.meter_reading,
        visited_at=payload.visited_at,
        open_ticket_for_faults=payload.open_ticket,
    )
    return Status(201, PatrolOut.of(patrol))


class ChecklistItemOut(Schema):
    code: str
    label: str
    help_text: str
    order: int
    active: bool


@router.get(
    "/maintenance/checklist",
    response=list[ChecklistItemOut],
    operation_id="maintenance_checklist",
)
def checklist(request: HttpRequest) -> Any:
    if not allowed(request.user, "maintenance.use"):
        return []
    return list(ChecklistItem.objects.all())


class StatsOut(Schema):
    n: int
    mean_h: float | None
    median_h: float | None
    p90_h: float | None


class FigureRow(Schema):
    key: int | None = Field(..., description="township or device id; null: the county total")
    label: str
    time_to_acknowledge: StatsOut
    time_to_repair: StatsOut
    open_tickets: int
    overdue_tickets: int


@router.get(
    "/maintenance/figures",
    response=list[FigureRow],
    operation_id="maintenance_figures",
    summary="Time to acknowledge, time to repair, open and overdue tickets",
)
def figures(
    request: HttpRequest,
    by: Literal["township", "device"] = "township",
    days: int = Query(90, ge=1, le=3660),  # type: ignore[type-arg]
) -> Any:
    if not allowed(request.user, "maintenance.staff"):
        if not request.user.is_authenticated:
            raise HttpError(401, _("需要登录或 API 令牌。"))
        raise PermissionDenied(_("您的角色无权查看运维统计。"))
    until = timezone.now()
    rows = upkeep_figures(request.user, since=until - dt.timedelta(days=days), until=until, by=by)
    return [
        {
            "key": r.key,
            "label": r.label,
            "time_to_acknowledge": r.ack.__dict__,
            "time_to_repair": r.repair.__dict__,
            "open_tickets": r.open,
            "overdue_tickets": r.overdue,
        }
        for r in rows
    ]
