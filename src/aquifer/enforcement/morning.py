"""Enforcement's figures on the home page (core/morning.py): the open cases by the step they
stand at, and by deadline — past it, and due within the next days."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.db.models import Count
from django.urls import reverse
from django.utils.translation import gettext as _

from aquifer.core.morning import Figure, register
from aquifer.core.roles import Action
from aquifer.core.scoping import visible_to
from aquifer.enforcement import workflow
from aquifer.enforcement.filters import CaseFilterSet
from aquifer.enforcement.models import Case, CaseState

#: "Due soon": a deadline within this many days.
DUE_DAYS = 7


def _list(**params: Any) -> str:
    return f"{reverse('enforcement:case_list')}?{urlencode(params)}"


def cases_by_step(user: Any) -> list[Figure]:
    """Open cases per state (the step the procedure stands at), in the procedure's order."""
    counts = dict(
        visible_to(user, Action.VIEW, Case)
        .filter(state__in=workflow.OPEN_STATES)
        .order_by()
        .values_list("state")
        .annotate(n=Count("id"))
    )
    return [
        Figure(
            counts.get(s.value, 0),
            str(s.label),
            url=_list(state=s.value),
            tone="info",
            key=f"enforcement.state.{s.value}",
        )
        for s in CaseState
        if s.value in workflow.OPEN_STATES
    ]


def cases_by_deadline(user: Any) -> list[Figure]:
    qs = visible_to(user, Action.VIEW, Case)
    overdue = CaseFilterSet({"overdue": "on"}, queryset=qs, request=None).qs.count()
    soon = CaseFilterSet({"due_within": DUE_DAYS}, queryset=qs, request=None).qs.count()
    return [
        Figure(
            overdue,
            _("已超期案件"),
            url=_list(overdue="on"),
            tone="bad" if overdue else "ok",
            key="enforcement.overdue",
        ),
        Figure(
            soon,
            _("%(days)s 天内到期案件") % {"days": DUE_DAYS},
            url=_list(due_within=DUE_DAYS),
            tone="warn" if soon else "ok",
            key="enforcement.due_soon",
        ),
    ]


register(
    "enforcement.cases_by_deadline",
    policy="enforcement.morning",
    group="cases",
    order=10,
    compute=cases_by_deadline,
)
register(
    "enforcement.cases_by_step",
    policy="enforcement.morning_steps",
    group="cases",
    order=20,
    compute=cases_by_step,
)
