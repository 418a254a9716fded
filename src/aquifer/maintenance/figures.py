"""Upkeep figures per township and per device: time to acknowledge an alarm (opened →
acknowledged), time to repair (ticket opened → closed), open and overdue tickets.

An alarm counts as acknowledged at ``acknowledged_at``; one closed by a person without being
acknowledged first counts at ``closed_at`` (the person saw it then). Alarms resolved by the
system (their condition cleared, no ``closed_by``) and never acknowledged are left out: nobody
acknowledged them. Everything is read through ``visible_to``: each role sees its own scope.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils import timezone

from aquifer.core.roles import Action
from aquifer.core.scoping import visible_to
from aquifer.maintenance import workflow
from aquifer.maintenance.models import Ticket
from aquifer.maintenance.workflow import DurationStats, summarize
from aquifer.monitoring.models import Alarm
from aquifer.registry.models import Device, Township

__all__ = ["Row", "upkeep_figures"]


@dataclass
class Row:
    key: int | None
    label: str
    ack: DurationStats = field(default_factory=lambda: summarize([]))
    repair: DurationStats = field(default_factory=lambda: summarize([]))
    open: int = 0
    overdue: int = 0


def _alarm_model() -> Any:
    return Alarm


def upkeep_figures(
    user: Any, *, since: dt.datetime, until: dt.datetime, by: str = "township"
) -> list[Row]:
    """Rows per township (``by="township"``) or per device (``by="device"``), county total
    first for townships. Durations over alarms opened and tickets closed in [since, until)."""
    Alarm = _alarm_model()
    now = timezone.now()
    key = "township_id" if by == "township" else "device_id"
    ack: dict[Any, list[float]] = defaultdict(list)
    repair: dict[Any, list[float]] = defaultdict(list)
    open_: dict[Any, int] = defaultdict(int)
    overdue: dict[Any, int] = defaultdict(int)
    alarms = visible_to(user, Action.VIEW, Alarm).filter(opened_at__gte=since, opened_at__lt=until)
    for k, opened, acked, closed, closed_by in alarms.filter(
        models.Q(acknowledged_at__isnull=False) | models.Q(closed_by__isnull=False)
    ).values_list(key, "opened_at", "acknowledged_at", "closed_at", "closed_by_id"):
        at = acked or (closed if closed_by else None)
        if at is not None:
            ack[k].append(max((at - opened).total_seconds(), 0.0))
    tickets = visible_to(user, Action.VIEW, Ticket)
    for k, opened, closed in tickets.filter(
        state=workflow.CLOSED, closed_at__gte=since, closed_at__lt=until
    ).values_list(key, "opened_at", "closed_at"):
        repair[k].append(max((closed - opened).total_seconds(), 0.0))
    for k, due in tickets.filter(state__in=workflow.OPEN_STATES).values_list(key, "due_at"):
        open_[k] += 1
        if due is not None and due < now:
            overdue[k] += 1
    keys = set(ack) | set(repair) | set(open_)
    labels = _labels(by, {k for k in keys if k is not None})
    rows = [
        Row(
            k,
            labels.get(k, "—") if k is not None else "—",
            summarize(ack[k]),
            summarize(repair[k]),
            open_[k],
            overdue[k],
        )
        for k in keys
    ]
    rows.sort(key=lambda r: (-r.overdue, -r.open, r.label))
    if by == "township":
        total = Row(
            None,
            "",
            summarize([v for vs in ack.values() for v in vs]),
            summarize([v for vs in repair.values() for v in vs]),
            sum(open_.values()),
            sum(overdue.values()),
        )
        rows.insert(0, total)
    return rows


def _labels(by: str, keys: set[int]) -> dict[int, str]:
    if by == "township":
        return dict(Township.objects.filter(pk__in=keys).values_list("pk", "name"))
    return {d.pk: str(d) for d in Device.objects.filter(pk__in=keys)}
