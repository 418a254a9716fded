"""Alarms: raise, clear, and the lifecycle actions people take (COMMON.md interface 2).

Any app raises an alarm for a condition it detects::

    raise_alarm(kind="quota_80", key="quota_80:permit:17:2026", message="quota_80",
                params={"permit": "…", "year": 2026, "pct": 85, "used": …, "quota": …},
                township=t)

The title and detail are a message code and its params (``monitoring.messages``): pages, the
API and notifications render them in the reader's (or the default) language; the stored
``title`` / ``detail`` are that rendering in the default language. A caller without a code
passes ``title`` / ``detail`` text, shown as it is.

At most one open (open or acknowledged) alarm exists per ``(kind, key)``: raising again while
it is open updates it (``last_seen``, ``count``, a higher severity, the latest detail and data)
and returns it. ``clear_alarm`` resolves the open one when the condition has gone. People
acknowledge, resolve or close as false (:func:`acknowledge`, :func:`resolve`,
:func:`close_false`); every step is kept in :class:`AlarmEvent` and in the audit trail.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from aquifer.core import audit
from aquifer.monitoring import conf, messages
from aquifer.monitoring.models import (
    OPEN_STATES,
    SEVERITY_RANK,
    Alarm,
    AlarmEvent,
    AlarmKind,
    AlarmSeverity,
    AlarmState,
)
from aquifer.notifications.service import notify

__all__ = [
    "AlarmError",
    "acknowledge",
    "clear_alarm",
    "close_false",
    "escalate_overdue",
    "raise_alarm",
    "resolve",
    "sla_hours",
]

log = logging.getLogger(__name__)


class AlarmError(ValueError):
    """An action that the alarm's state does not allow (the message says why)."""


def sla_hours(kind: str, severity: str) -> float:
    """Hours to resolve an alarm of ``kind`` and ``severity`` (settings SLA_HOURS…)."""
    by_kind = conf.get("SLA_HOURS_BY_KIND")
    if kind in by_kind:
        value = by_kind[kind]
        return float(value[severity] if isinstance(value, dict) else value)
    return float(conf.get("SLA_HOURS")[severity])


def _notify(event: str, alarm: Alarm, township: Any = None) -> None:
    """notify() of the notifications app; a failure is logged only."""
    with translation.override(settings.LANGUAGE_CODE):  # as sent: the default language
        title, body = alarm.display_title, alarm.display_detail
    try:
        notify(
            event=event,
            title=title,
            body=body,
            message=messages.NOTICE_PREFIX + alarm.message if alarm.message else "",
            params=alarm.params if alarm.message else None,
            township=township,
            url=alarm.get_absolute_url(),
            severity=alarm.severity,
            # the water user whose device or well it is hears of it too (rules permitting)
            users=[alarm.owner] if alarm.owner_id else None,
        )
    except Exception:  # a notification must never undo or block the alarm
        log.exception("notify(%s) failed for alarm %s", event, alarm.pk)


def _event(alarm: Alarm, action: str, note: str = "", user: Any = None, at: Any = None) -> None:
    AlarmEvent.objects.create(
        alarm=alarm,
        action=action,
        at=at or timezone.now(),
        user=user if getattr(user, "pk", None) else None,
        username=user.get_username() if getattr(user, "pk", None) else "",
        note=note[:2000],
    )


def _derive_owner(device: Any, well: Any) -> tuple[Any, Any, Any]:
    """(township, owner, well) from a device or a well."""
    if well is None and device is not None:
        well = device.well
    if well is None:
        return None, None, None
    return well.township, well.owner, well


def raise_alarm(
    *,
    kind: str,
    key: str,
    title: str = "",
    message: str = "",
    params: dict[str, Any] | None = None,
    severity: str = "warning",
    township: Any = None,
    device: Any = None,
    well: Any = None,
    detail: str = "",
    data: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> Alarm:
    """Open an alarm for the condition ``(kind, key)``, or update the open one.

    The owner township (and water user) come from ``township`` or else from the device's or
    the well's. A new alarm notifies ``alarm.opened``. With a ``message`` code (a key of
    ``messages.TITLES``) and its ``params`` the title and detail are rendered from them.
    """
    if kind not in AlarmKind.values:
        raise ValueError(f"unknown alarm kind {kind!r}")
    if severity not in AlarmSeverity.values:
        raise ValueError(f"unknown severity {severity!r}")
    if not key:
        raise ValueError("an alarm needs a key")
    if message:
        if message not in messages.TITLES:
            raise ValueError(f"unknown alarm message {message!r}")
        params = dict(params or {})
        title, detail = messages.in_default_language(message, params, title)
    elif not title:
        raise ValueError("an alarm needs a title or a message code")
    text = _Text(title, detail, message, dict(params or {}) if message else {})
    at = at or timezone.now()
    existing = Alarm.objects.filter(kind=kind, key=key, state__in=OPEN_STATES).first()
    if existing is not None:
        return _repeat(existing, severity, text, data, at)
    d_township, owner, well = _derive_owner(device, well)
    township = township if township is not None else d_township
    alarm = Alarm(
        kind=kind,
        key=key[:160],
        title=title[:200],
        message=text.message,
        params=text.params,
        severity=severity,
        township=township,
        owner=owner,
        device=device,
        well=well,
        detail=detail,
        data=data or {},
        opened_at=at,
        last_seen=at,
        due_at=at + dt.timedelta(hours=sla_hours(kind, severity)),
    )
    try:
        with transaction.atomic():
            alarm.save()
            _event(alarm, "opened", detail, at=at)
            audit.record("create", alarm, None, _snapshot(alarm))
    except IntegrityError:  # another process opened it between our read and write
        existing = Alarm.objects.get(kind=kind, key=key, state__in=OPEN_STATES)
        return _repeat(existing, severity, text, data, at)
    _notify("alarm.opened", alarm, township)
    return alarm


@dataclass(frozen=True)
class _Text:
    """What an alarm says: the default-language text and the code and params behind it."""

    title: str
    detail: str
    message: str
    params: dict[str, Any]


def _repeat(
    alarm: Alarm, severity: str, text: _Text, data: dict[str, Any] | None, at: dt.datetime
) -> Alarm:
    alarm.count += 1
    alarm.last_seen = max(alarm.last_seen, at)
    fields = ["count", "last_seen"]
    if SEVERITY_RANK[severity] > SEVERITY_RANK[alarm.severity]:
        alarm.severity = severity
        due = alarm.opened_at + dt.timedelta(hours=sla_hours(alarm.kind, severity))
        alarm.due_at = min(alarm.due_at, due) if alarm.due_at else due
        fields += ["severity", "due_at"]
    if text.title and text.title[:200] != alarm.title:
        alarm.title = text.title[:200]
        fields.append("title")
    if text.detail and text.detail != alarm.detail:
        alarm.detail = text.detail
        fields.append("detail")
    if (text.message, text.params) != (alarm.message, alarm.params):
        alarm.message, alarm.params = text.message, text.params
        fields += ["message", "params"]
    if data is not None and data != alarm.data:
        alarm.data = data
        fields.append("data")
    Alarm.objects.filter(pk=alarm.pk).update(**{f: getattr(alarm, f) for f in fields})
    return alarm


def _snapshot(alarm: Alarm) -> dict[str, Any]:
    return {
        "kind": alarm.kind,
        "key": alarm.key,
        "state": alarm.state,
        "severity": alarm.severity,
        "title": alarm.title,
        "note": alarm.note,
    }


def _close(alarm: Alarm, state: str, action: str, note: str, user: Any, at: Any = None) -> Alarm:
    before = _snapshot(alarm)
    alarm.state = state
    alarm.closed_at = at or timezone.now()
    alarm.closed_by = user if getattr(user, "pk", None) else None
    if note:
        alarm.note = note
    with transaction.atomic():
        alarm.save(update_fields=["state", "closed_at", "closed_by", "note"])
        _event(alarm, action, note, user, at=alarm.closed_at)
        audit.record("update", alarm, before, _snapshot(alarm), reason=note)
    return alarm


def clear_alarm(*, kind: str, key: str, note: str = "") -> Alarm | None:
    """Resolve the open alarm of ``(kind, key)`` because its condition has cleared."""
    alarm = Alarm.objects.filter(kind=kind, key=key, state__in=OPEN_STATES).first()
    if alarm is None:
        return None
    return _close(alarm, AlarmState.RESOLVED, "cleared", note, None)


def _require_open(alarm: Alarm) -> None:
    if alarm.state not in OPEN_STATES:
        raise AlarmError(f"alarm {alarm.pk} is {alarm.state}, not open")


def acknowledge(alarm: Alarm, user: Any, note: str = "") -> Alarm:
    """Someone has seen the alarm and takes care of it (open → acknowledged)."""
    if alarm.state != AlarmState.OPEN:
        raise AlarmError(f"alarm {alarm.pk} is {alarm.state}, not open")
    before = _snapshot(alarm)
    alarm.state = AlarmState.ACKNOWLEDGED
    alarm.acknowledged_at = timezone.now()
    alarm.acknowledged_by = user if getattr(user, "pk", None) else None
    with transaction.atomic():
        alarm.save(update_fields=["state", "acknowledged_at", "acknowledged_by"])
        _event(alarm, "acknowledged", note, user, at=alarm.acknowledged_at)
        audit.record("update", alarm, before, _snapshot(alarm), reason=note)
    return alarm


def resolve(alarm: Alarm, user: Any, note: str) -> Alarm:
    """The condition was dealt with (open or acknowledged → resolved); a note is required."""
    _require_open(alarm)
    if not note.strip():
        raise AlarmError("a note saying what was done is required")
    return _close(alarm, AlarmState.RESOLVED, "resolved", note.strip(), user)


def close_false(alarm: Alarm, user: Any, note: str) -> Alarm:
    """The alarm was false (误报); a reason is required."""
    _require_open(alarm)
    if not note.strip():
        raise AlarmError("a reason is required to close an alarm as false")
    return _close(alarm, AlarmState.FALSE, "false", note.strip(), user)


def escalate_overdue(now: dt.datetime | None = None) -> int:
    """Escalate to the bureau every open alarm past its SLA, once; returns how many."""
    now = now or timezone.now()
    overdue = Alarm.objects.filter(
        state__in=OPEN_STATES, due_at__lt=now, escalated_at__isnull=True
    ).order_by("due_at")
    n = 0
    for alarm in overdue.iterator(chunk_size=500):
        updated = Alarm.objects.filter(pk=alarm.pk, escalated_at__isnull=True).update(
            escalated_at=now
        )
        if not updated:
            continue
        alarm.escalated_at = now
        _event(alarm, "escalated", "SLA exceeded", at=now)
        # The bureau hears of every escalation; the township's officers too (default rules).
        _notify("alarm.escalated", alarm, alarm.township)
        n += 1
    return n
