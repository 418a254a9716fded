"""The water-rights market's figure on a water user's home page (core/morning.py): its
trades — under way (awaiting approval or in announcement) and completed this year."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from aquifer.core.morning import Figure, register
from aquifer.core.roles import Action
from aquifer.core.scoping import visible_to
from aquifer.rights.models import OPEN_TRADE, Trade, TradeParty, TradeStatus


def my_trades(user: Any) -> Figure | None:
    """The trades the water user is a party to (one query)."""
    parties = visible_to(user, Action.VIEW, TradeParty).values("trade_id")
    year = timezone.localdate().year
    counts = Trade.objects.filter(pk__in=parties).aggregate(
        all=Count("id"),
        open=Count("id", filter=Q(status__in=OPEN_TRADE)),
        done=Count("id", filter=Q(status=TradeStatus.COMPLETED, completed_at__year=year)),
    )
    if not counts["all"]:
        return None
    return Figure(
        counts["open"],
        _("进行中的水权交易"),
        url=reverse("rights:account"),
        tone="info",
        detail=_("今年已成交 %(done)s 笔") % {"done": counts["done"]},
        key="rights.my_trades",
    )


register("rights.my_trades", policy="rights.morning_own", group="mine", order=60, compute=my_trades)
