"""The closure programme's figure on the home page (core/morning.py): wells closed of those
planned, and the withdrawal removed against the year's reduction target."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from aquifer.closure import reports
from aquifer.closure.models import ClosureEntry
from aquifer.core.morning import Figure, register
from aquifer.core.roles import Action
from aquifer.core.scoping import visible_to


def closure_progress(user: Any) -> Figure | None:
    """The programme's progress this year (closure/reports.progress over the entries the
    user may see: a township officer's, its township's line against its own target)."""
    year = timezone.localdate().year
    report = reports.progress(year, visible_to(user, Action.VIEW, ClosureEntry))
    line = report.county
    township_id = getattr(user, "township_id", None)
    if township_id:
        line = next(
            (p for p in report.townships if p.key.pk == township_id), reports.Progress(None)
        )
    if not line.wells and not line.target_m3:
        return None
    percent = line.percent
    tone = "info" if percent is None else "ok" if percent >= 100 else "warn"
    detail = _("已关停 %(closed)s / %(wells)s 眼") % {"closed": line.closed, "wells": line.wells}
    return Figure(
        percent / 100 if percent is not None else None,
        _("压采目标完成率"),
        unit="%",
        url=f"{reverse('closure:progress')}?year={year}",
        tone=tone,
        detail=detail,
        key="closure.progress",
    )


register(
    "closure.progress",
    policy="closure.morning",
    group="governance",
    order=10,
    compute=closure_progress,
)
