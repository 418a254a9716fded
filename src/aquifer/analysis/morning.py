"""Analysis's figure on the home page (core/morning.py): the monitoring wells whose stored
level trend is falling (下降), of those the user may see."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils.translation import gettext as _

from aquifer.analysis.models import RecoveryStatus, WellTrend
from aquifer.core.morning import Figure, register
from aquifer.core.roles import Action
from aquifer.core.scoping import visible_to
from aquifer.registry.models import MonitoringWell


def wells_falling(user: Any) -> Figure:
    """One query: each visible monitoring well's newest stored trend status, counted."""
    newest = WellTrend.objects.filter(monitoring_well=OuterRef("pk")).order_by(
        "-computed_on", "-pk"
    )
    counts = (
        visible_to(user, Action.VIEW, MonitoringWell)
        .annotate(status=Subquery(newest.values("status")[:1]))
        .aggregate(
            falling=Count("pk", filter=Q(status=RecoveryStatus.FALLING)),
            known=Count("pk", filter=Q(status__isnull=False)),
        )
    )
    n = counts["falling"]
    return Figure(
        n,
        _("水位下降的监测井"),
        url=f"{reverse('analysis:well_trends')}?status={RecoveryStatus.FALLING.value}",
        tone="warn" if n else "ok",
        detail=_("有趋势判断的 %(n)s 眼中") % {"n": counts["known"]},
        key="analysis.wells_falling",
    )


register(
    "analysis.wells_falling",
    policy="analysis.morning",
    group="levels",
    order=10,
    compute=wells_falling,
)
