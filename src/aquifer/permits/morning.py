"""The permits' figures on the home page (core/morning.py): quota overruns and applications
due (bureau, township officer); a water user's quota used / allowed with its projection to
the year's end, and its permits' expiry."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, Max, Min, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from aquifer.core.morning import Figure, register
from aquifer.permits import reports
from aquifer.permits.filters import PermitFilterSet, over_quota, used_this_year
from aquifer.permits.models import PermitStatus

#: Applications whose decision is due within this many working days (issue 20).
DUE_WORKING_DAYS = 10
#: Permits whose term ends within this many days.
EXPIRY_DAYS = 90


def _list(name: str, **params: Any) -> str:
    return f"{reverse(name)}?{urlencode(params)}"


def overruns(user: Any) -> Figure:
    year = timezone.localdate().year
    n = over_quota(reports.permits_visible(user), year).count()
    return Figure(
        n,
        _("超许可水量的许可证"),
        url=_list("permits:quota_use", year=year, over_quota="on"),
        tone="bad" if n else "ok",
        detail=_("%(year)s 年") % {"year": year},
        key="permits.over_quota",
    )


def applications_due(user: Any) -> Figure:
    """Permits with an open application due within ``DUE_WORKING_DAYS`` working days (or
    overdue): the permit list's ``due_within`` filter, counted."""
    f = PermitFilterSet(
        {"due_within": DUE_WORKING_DAYS}, queryset=reports.permits_visible(user), request=None
    )
    n = f.qs.count()
    return Figure(
        n,
        _("%(n)s 个工作日内到期的许可申请") % {"n": DUE_WORKING_DAYS},
        url=_list("permits:permit_list", due_within=DUE_WORKING_DAYS),
        tone="warn" if n else "ok",
        key="permits.applications_due",
    )


def my_quota(user: Any) -> Figure | None:
    """Used / allowed this year over the user's active permits, and the use projected
    linearly to the year's end: one query."""
    today = timezone.localdate()
    year = today.year
    sums = (
        reports.permits_visible(user)
        .filter(status=PermitStatus.ACTIVE)
        .annotate(used_m3=Coalesce(used_this_year(year), Value(0.0)))
        .aggregate(quota=Sum("annual_quota_m3"), used=Sum("used_m3"), n=Count("id"))
    )
    if not sums["n"]:
        return None
    quota, used = float(sums["quota"] or 0), float(sums["used"] or 0)
    start = dt.date(year, 1, 1)
    elapsed = (today - start).days + 1
    days = (dt.date(year + 1, 1, 1) - start).days
    projected = used * days / elapsed
    share = projected / quota if quota else None
    tone = "ok" if share is None or share <= 0.9 else "warn" if share <= 1 else "bad"
    return Figure(
        f"{used:,.0f} / {quota:,.0f}",
        _("今年已用 / 许可水量"),
        unit="m³",
        url=_list("permits:quota_use", year=year),
        tone=tone,
        detail=_("按目前进度全年约 %(projected)s m³（许可的 %(share)s%%）")
        % {"projected": f"{projected:,.0f}", "share": f"{(share or 0) * 100:.0f}"},
        key="permits.my_quota",
    )


def my_expiry(user: Any) -> Figure | None:
    active = reports.permits_visible(user).filter(status=PermitStatus.ACTIVE)
    last = timezone.localdate() + dt.timedelta(days=EXPIRY_DAYS)
    figures = active.aggregate(
        n=Count("id", filter=Q(valid_until__lte=last)), first=Min("valid_until"), any=Max("id")
    )
    if figures["any"] is None:
        return None
    n = figures["n"]
    return Figure(
        n,
        _("%(days)s 天内到期的许可证") % {"days": EXPIRY_DAYS},
        url=_list("permits:permit_list", expires_within=EXPIRY_DAYS),
        tone="warn" if n else "ok",
        detail=_("最近到期：%(date)s") % {"date": figures["first"]} if figures["first"] else "",
        key="permits.my_expiry",
    )


register("permits.over_quota", policy="permits.morning", group="water", order=20, compute=overruns)
register(
    "permits.applications_due",
    policy="permits.morning",
    group="water",
    order=30,
    compute=applications_due,
)
register("permits.my_quota", policy="permits.morning_own", group="mine", order=10, compute=my_quota)
register(
    "permits.my_expiry", policy="permits.morning_own", group="mine", order=50, compute=my_expiry
)
