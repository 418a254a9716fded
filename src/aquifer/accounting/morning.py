"""Accounting's figure on the home page (core/morning.py): this month's withdrawal against
the same month last year, of the wells the user may see."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.db.models import F, Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from aquifer.accounting.models import WithdrawalMonth
from aquifer.core.morning import Figure, register
from aquifer.core.roles import Action
from aquifer.core.scoping import visible_to


def month_against_last_year(user: Any, *, level: str = "", key: str = "") -> Figure:
    """Month to date (the stored monthly volumes, metered and estimated) and the same month
    last year: one query over the stored months, not the meters."""
    today = timezone.localdate()
    y, m = today.year, today.month
    volume = F("metered_m3") + F("estimated_m3")
    sums = (
        visible_to(user, Action.VIEW, WithdrawalMonth)
        .filter(month=m, year__in=(y, y - 1))
        .aggregate(
            this=Sum(volume, filter=Q(year=y)),
            last=Sum(volume, filter=Q(year=y - 1)),
        )
    )
    this, last = float(sums["this"] or 0), sums["last"]
    if last:
        change = (this - float(last)) / float(last)
        detail = _("去年同月 %(last)s m³（%(change)+.0f%%）") % {
            "last": f"{float(last):,.0f}",
            "change": change * 100,
        }
        tone = "warn" if change > 0.1 else "ok"
    else:
        detail, tone = _("去年同月无数据"), "info"
    query = {"level": level, "year": y, "month": m} if level else {"year": y, "month": m}
    url = f"{reverse('accounting:withdrawals')}?{urlencode(query)}"
    return Figure(
        this,
        _("本月取水量"),
        unit="m³",
        url=url,
        tone=tone,
        detail=detail,
        key=key or "accounting.month_withdrawal",
    )


def my_month_against_last_year(user: Any) -> Figure:
    """A water user's own month: the list behind it is its wells' month (the county's months
    by township are not a water user's to see)."""
    return month_against_last_year(user, level="well", key="accounting.my_month_withdrawal")


register(
    "accounting.month_withdrawal",
    policy="accounting.morning",
    group="water",
    order=10,
    compute=month_against_last_year,
)
register(
    "accounting.my_month_withdrawal",
    policy="accounting.morning_own",
    group="mine",
    order=20,
    compute=my_month_against_last_year,
)
