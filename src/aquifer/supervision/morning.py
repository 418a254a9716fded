"""Supervision's figures on the home page (core/morning.py): the township ranking and a
township's score, its work plan's progress, and the overdue rectification orders."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from aquifer.core.morning import Figure, register
from aquifer.core.roles import Action
from aquifer.core.scoping import visible_to
from aquifer.supervision.filters import OrderFilterSet
from aquifer.supervision.models import Assessment, PlanTask, Rectification, Score


def _round() -> Assessment | None:
    """This year's assessment round, else the newest one."""
    return Assessment.objects.filter(year__lte=timezone.localdate().year).order_by("-year").first()


def ranking(user: Any) -> Figure | None:
    """The ranking of the newest round: the first and the last township (two queries)."""
    a = _round()
    if a is None:
        return None
    scores = list(
        visible_to(user, Action.VIEW, Score)
        .filter(assessment=a, rank__isnull=False)
        .select_related("township")
        .order_by("rank")
        .values_list("rank", "township__name", "total")
    )
    if not scores:
        return None
    first, last = scores[0], scores[-1]
    return Figure(
        len(scores),
        _("%(year)s 年乡镇考核排名") % {"year": a.year},
        url=reverse("supervision:assessment", args=[a.year]),
        tone="info",
        detail=_("第一 %(first)s %(top).1f 分；末位 %(last)s %(low).1f 分")
        % {"first": first[1], "top": first[2], "last": last[1], "low": last[2]},
        key="supervision.ranking",
    )


def my_score(user: Any) -> Figure | None:
    """The township officer's township: its total and rank in the newest round."""
    a = _round()
    if a is None:
        return None
    score = (
        visible_to(user, Action.VIEW, Score)
        .filter(assessment=a, township_id=user.township_id)
        .first()
    )
    if score is None:
        return None
    of = Score.objects.filter(assessment=a, rank__isnull=False).count()
    return Figure(
        score.total,
        _("%(year)s 年考核得分") % {"year": a.year},
        unit=_("分"),
        url=reverse("supervision:assessment_township", args=[a.year, user.township_id]),
        tone="info",
        detail=_("排名 %(rank)s / %(of)s") % {"rank": score.rank or "—", "of": of},
        key="supervision.my_score",
    )


def plan_progress(user: Any) -> Figure | None:
    """The township's work plan this year: tasks done of all (one query)."""
    year = timezone.localdate().year
    tasks = visible_to(user, Action.VIEW, PlanTask).filter(
        plan__year=year, plan__township_id=user.township_id
    )
    counts = tasks.aggregate(
        n=Count("id"),
        done=Count("id", filter=Q(progress__gte=F("target"))),
        overdue=Count(
            "id",
            filter=Q(progress__lt=F("target"), deadline__lt=timezone.localdate()),
        ),
        plan=Count("plan", distinct=True),
    )
    if not counts["plan"]:
        return None
    plan = tasks.values_list("plan_id", flat=True).first()
    return Figure(
        counts["done"] / counts["n"] if counts["n"] else None,
        _("%(year)s 年工作计划完成") % {"year": year},
        unit="%",
        url=reverse("supervision:plan_detail", args=[plan]),
        tone="bad" if counts["overdue"] else "ok",
        detail=_("已完成 %(done)s / %(n)s 项，逾期 %(overdue)s 项") % counts,
        key="supervision.plan_progress",
    )


def overdue_orders(user: Any) -> Figure:
    filters = OrderFilterSet(
        {"overdue": "on"}, queryset=visible_to(user, Action.VIEW, Rectification), request=None
    )
    n = filters.qs.count()
    return Figure(
        n,
        _("逾期未销号的整改通知"),
        url=f"{reverse('supervision:inspection_list')}?overdue=on",
        tone="bad" if n else "ok",
        key="supervision.overdue_orders",
    )


register(
    "supervision.ranking",
    policy="supervision.morning_ranking",
    group="governance",
    order=20,
    compute=ranking,
)
register(
    "supervision.my_score",
    policy="supervision.morning_township",
    group="governance",
    order=20,
    compute=my_score,
)
register(
    "supervision.plan_progress",
    policy="supervision.morning_township",
    group="governance",
    order=30,
    compute=plan_progress,
)
register(
    "supervision.overdue_orders",
    policy="supervision.morning",
    group="governance",
    order=40,
    compute=overdue_orders,
)
