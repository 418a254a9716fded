"""What may be done to tickets and patrols, by whom — the one write path for pages and API.

Every change goes through here: it checks the scope (``core.scoping``) and the state machine
(``maintenance.workflow``), writes the ticket (audited by ``@track``) and a timeline event in
one transaction, and notifies on assignment and close.

Who may do what:

* open a ticket: bureau; township officers in their township; inspectors anywhere; a water
  user for their own devices (a fault report, R4.4);
* assign, cancel, reopen: bureau; township officers in their township; a water user may
  cancel their own report while it is still new;
* start, close: the assignee, or whoever may assign;
* note: anyone who may see the ticket, except the public.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from aquifer.core.roles import Action, Role
from aquifer.core.scoping import allowed, can, visible_to
from aquifer.core.texts import text
from aquifer.maintenance import workflow
from aquifer.maintenance.models import (
    ChecklistItem,
    CheckResult,
    Patrol,
    Priority,
    Ticket,
    TicketAction,
    TicketEvent,
    TicketSource,
    TicketState,
)
from aquifer.notifications.service import notify

__all__ = [
    "DUE_HOURS",
    "act",
    "assignable_users",
    "open_ticket",
    "permitted_actions",
    "record_patrol",
]

#: Default time to repair by priority, in hours (the bureau's working rule; a setting).
DUE_HOURS = {"urgent": 24, "high": 48, "normal": 72, "low": 168}

ASSIGNABLE_ROLES = (Role.BUREAU, Role.TOWNSHIP, Role.INSPECTOR)


def _due_hours() -> dict[str, int]:
    conf = settings.AQUIFER.get("MAINTENANCE", {})
    return {**DUE_HOURS, **conf.get("DUE_HOURS", {})}


def assignable_users(ticket: Ticket | None = None) -> models.QuerySet[Any]:
    """Active staff a ticket may be assigned to: bureau, inspectors, and the officers of the
    ticket's township."""
    User = get_user_model()
    q = models.Q(role__in=[Role.BUREAU, Role.INSPECTOR])
    if ticket is None:
        q |= models.Q(role=Role.TOWNSHIP)
    elif ticket.township_id is not None:
        q |= models.Q(role=Role.TOWNSHIP, township_id=ticket.township_id)
    return User.objects.filter(q, is_active=True).order_by("role", "username")


def _may_open(user: Any, ticket: Ticket) -> bool:
    return can(user, "open", ticket)


def permitted_actions(user: Any, ticket: Ticket) -> list[str]:
    """The actions ``user`` may take on ``ticket`` now (state machine ∩ role)."""
    if not allowed(user, "maintenance.use") or not can(user, Action.VIEW, ticket):
        return []
    manager = can(user, Action.CHANGE, ticket)
    is_assignee = ticket.assignee_id is not None and ticket.assignee_id == user.pk
    out = []
    for action in workflow.allowed_actions(ticket.state):
        if action in ("assign", "reopen"):
            ok = manager
        elif action == "cancel":
            ok = manager or (
                allowed(user, "maintenance.fault_report")
                and ticket.state == TicketState.NEW
                and ticket.reported_by_id == user.pk
            )
        elif action in ("start", "close"):
            ok = manager or is_assignee
        else:  # note
            ok = True
        if ok:
            out.append(action)
    return out


def _event(
    ticket: Ticket, action: str, before: str, by: Any, note: str = "", at: dt.datetime | None = None
) -> TicketEvent:
    return TicketEvent.objects.create(
        ticket=ticket,
        at=at or timezone.now(),
        action=action,
        from_state=before,
        to_state=ticket.state,
        user=by if getattr(by, "is_authenticated", False) else None,
        username=by.get_username() if getattr(by, "is_authenticated", False) else "",
        assignee_name=ticket.assignee.get_username() if ticket.assignee else "",
        note=note,
    )


def open_ticket(
    *,
    by: Any,
    title: str,
    description: str = "",
    device: Any = None,
    alarm: Any = None,
    source: str | None = None,
    priority: str = Priority.NORMAL,
    at: dt.datetime | None = None,
) -> Ticket:
    """Open a ticket (validated, scoped, audited); returns it. A water user's ticket is a
    fault report on one of their devices."""
    if source is None:
        source = (
            TicketSource.ALARM
            if alarm is not None
            else TicketSource.USER_REPORT
            if allowed(by, "maintenance.fault_report")
            else TicketSource.STAFF
        )
    if device is None and alarm is not None:
        device = alarm.device
    if device is None and alarm is None:
        raise ValidationError({"device": _("请选择故障设备（或从告警创建工单）。")})
    ticket = Ticket(
        title=(title or "").strip(),
        description=description,
        device=device,
        alarm=alarm,
        source=source,
        priority=priority,
        reported_by=by if getattr(by, "is_authenticated", False) else None,
        opened_at=at or timezone.now(),
    )
    ticket.derive_place()
    ticket.due_at = ticket.opened_at + dt.timedelta(hours=_due_hours().get(priority, 72))
    if not ticket.title:
        ticket.title = str(device) if device is not None else (alarm.display_title if alarm else "")
    ticket.full_clean()
    if not _may_open(by, ticket):
        raise PermissionDenied(_("该设备不在您的管辖范围内，不能创建工单。"))
    with transaction.atomic():
        ticket.save()
        _event(ticket, TicketAction.OPEN, "", by, description, at=ticket.opened_at)
    return ticket


def act(
    ticket: Ticket,
    action: str,
    *,
    by: Any,
    note: str = "",
    assignee: Any = None,
    resolution: str = "",
    at: dt.datetime | None = None,
) -> Ticket:
    """Apply one action of the state machine. Raises ValidationError (bad input or a state
    that does not allow it) or PermissionDenied (the role may not)."""
    if action not in workflow.ACTIONS:
        raise ValidationError({"action": _("未知的操作：%s") % action})
    if action not in workflow.allowed_actions(ticket.state):
        raise ValidationError(
            {
                "action": _("工单当前状态为“%(state)s”，不能执行该操作。")
                % {"state": ticket.get_state_display()}
            }
        )
    if action not in permitted_actions(by, ticket):
        raise PermissionDenied(_("您无权对该工单执行此操作。"))
    # Check every input before touching the ticket: a refused action changes nothing.
    resolution = (resolution or "").strip()
    if action == "assign":
        if assignee is None:
            raise ValidationError({"assignee": _("请选择处理人。")})
        if not assignable_users(ticket).filter(pk=assignee.pk).exists():
            raise ValidationError(
                {"assignee": _("该用户不能处理此工单（须为本乡镇、执法或县局人员）。")}
            )
    elif action == "close" and not resolution:
        raise ValidationError({"resolution": _("完成工单时必须填写处理结果。")})
    elif action == "cancel" and not note.strip():
        raise ValidationError({"note": _("撤销工单时请说明原因。")})
    elif action == "reopen" and not note.strip():
        raise ValidationError({"note": _("重新打开工单时请说明原因。")})
    elif action == "note" and not note.strip():
        raise ValidationError({"note": _("请填写备注内容。")})
    now = at or timezone.now()
    before = ticket.state
    ticket.state = workflow.next_state(ticket.state, action)
    notify_event = ""
    if action == "assign":
        ticket.assignee, ticket.assigned_at = assignee, now
        notify_event = "ticket.assigned"
    elif action == "start":
        ticket.started_at = now
    elif action == "close":
        ticket.resolution, ticket.closed_at = resolution, now
        if ticket.started_at is None:
            ticket.started_at = now
        notify_event = "ticket.closed"
    elif action == "cancel":
        ticket.closed_at = now
    elif action == "reopen":
        ticket.closed_at = None
        if ticket.assignee_id is None:
            ticket.state = TicketState.NEW
    with transaction.atomic():
        ticket.save()
        _event(ticket, action, before, by, note or resolution, at=now)
        if notify_event:
            _notify(ticket, notify_event)
    return ticket


def _notify(ticket: Ticket, event: str) -> None:
    severity = {"urgent": "critical", "high": "warning"}.get(ticket.priority, "info")
    if event == "ticket.assigned":
        title = text(
            gettext_noop("运维工单 %(number)s 已派给您：%(title)s"),
            number=ticket.number,
            title=ticket.title,
        )
        users: list[Any] = [ticket.assignee]
    else:
        title = text(
            gettext_noop("运维工单 %(number)s 已完成：%(title)s"),
            number=ticket.number,
            title=ticket.title,
        )
        users = [u for u in (ticket.reported_by, ticket.owner) if u is not None]
    notify(
        event=event,
        title=title,
        body=ticket.resolution if event == "ticket.closed" else ticket.description,
        township=ticket.township_id,
        url=ticket.get_absolute_url(),
        severity=severity,
        users=users,
    )


def checklist() -> list[ChecklistItem]:
    return list(ChecklistItem.objects.filter(active=True))


def record_patrol(
    *,
    by: Any,
    device: Any,
    results: dict[str, str],
    notes: dict[str, str] | None = None,
    findings: str = "",
    meter_reading: float | None = None,
    visited_at: dt.datetime | None = None,
    open_ticket_for_faults: bool = False,
) -> Patrol:
    """Record a patrol visit; every active checklist item needs a result. With
    ``open_ticket_for_faults`` a fault opens a ticket for the device, linked to the patrol."""
    if not allowed(by, "maintenance.staff"):
        raise PermissionDenied(_("只有县局、乡镇和执法人员可以记录巡检。"))
    if not visible_to(by, Action.VIEW, type(device)).filter(pk=device.pk).exists():
        raise ValidationError({"device": _("不存在该设备。")})
    notes = notes or {}
    errors: dict[str, str] = {}
    checks = []
    for item in checklist():
        result = results.get(item.code, "")
        if result not in CheckResult.values:
            errors[f"checks.{item.code}"] = _("请选择“%(label)s”的检查结果。") % {
                "label": item.label
            }
            continue
        checks.append(
            {
                "code": item.code,
                "label": item.label,
                "result": result,
                "note": notes.get(item.code, "")[:300],
            }
        )
    unknown = set(results) - {i.code for i in checklist()}
    for code in sorted(unknown):
        errors[f"checks.{code}"] = _("没有这个检查项。")
    if errors:
        raise ValidationError(errors)
    patrol = Patrol(
        device=device,
        inspector=by,
        checks=checks,
        findings=findings,
        meter_reading=meter_reading,
        visited_at=visited_at or timezone.now(),
    )
    patrol.full_clean()
    if not can(by, "patrol", device):
        raise PermissionDenied(_("该设备不在您的管辖范围内。"))
    with transaction.atomic():
        if open_ticket_for_faults and (patrol.faults or findings.strip()):
            faults = "、".join(c["label"] for c in patrol.faults)
            patrol.ticket = open_ticket(
                by=by,
                title=_("巡检发现异常：%s") % (faults or findings[:60]),
                description=findings,
                device=device,
                source=TicketSource.PATROL,
                at=patrol.visited_at,
            )
        patrol.save()
    return patrol
