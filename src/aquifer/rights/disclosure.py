"""What the public sees of the market: completed trades (volume, price, zone, date; parties as
the ``DISCLOSE_PARTIES`` setting allows), trades under announcement, and price history per use
type. Only this module decides what of a trade leaves the bureau's and the parties' sight."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet

from aquifer.rights import conf
from aquifer.rights.models import Trade, TradeStatus

__all__ = ["announced_trades", "completed_trades", "mask", "party_names", "price_history", "row"]


def mask(name: str) -> str:
    """The first and last character of a name, the rest as asterisks (凤城供水站 → 凤***站)."""
    name = name.strip()
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def party_names(t: Trade, how: str | None = None) -> tuple[str, str]:
    """(seller, buyer) as the public may see them; ``how``: the county's DISCLOSE_PARTIES
    when the caller has read it already (a list of trades reads it once)."""
    how = how or conf.get("DISCLOSE_PARTIES")
    if how == "full":
        return t.seller_name, t.buyer_name
    if how == "masked":
        return mask(t.seller_name), mask(t.buyer_name)
    return "—", "—"


#: What a trade row never shows of its zones and townships: their outlines (GeoJSON, parsed
#: per row when loaded).
_OUTLINES = (
    "seller_zone__geometry",
    "buyer_zone__geometry",
    "seller_township__boundary",
    "buyer_township__boundary",
)


def completed_trades() -> QuerySet[Trade]:
    return (
        Trade.objects.filter(status=TradeStatus.COMPLETED)
        .select_related("seller_zone", "buyer_zone", "seller_township", "buyer_township")
        .defer(*_OUTLINES)
        .order_by("-completed_at", "-id")
    )


def announced_trades() -> QuerySet[Trade]:
    return (
        Trade.objects.filter(status=TradeStatus.ANNOUNCED)
        .select_related("seller_zone", "buyer_zone", "seller_township", "buyer_township")
        .defer(*_OUTLINES)
        .order_by("announcement_ends", "id")
    )


def rows(trades: Iterable[Trade]) -> list[dict[str, Any]]:
    """Trades as the public sees them, the disclosure setting read once for all."""
    how = conf.get("DISCLOSE_PARTIES")
    return [row(t, how) for t in trades]


def row(t: Trade, how: str | None = None) -> dict[str, Any]:
    """A trade as the public sees it (``how``: as for :func:`party_names`)."""
    seller, buyer = party_names(t, how)
    return {
        "id": t.pk,
        "number": t.number,
        "mode": t.mode,
        "trade_type": t.trade_type,
        "trade_type_label": str(t.get_trade_type_display()),
        "use_type": t.use_type,
        "use_type_label": str(t.get_use_type_display()),
        "source": t.source,
        "volume_m3": t.volume_m3,
        "price": float(t.price),
        "start_year": t.start_year,
        "end_year": t.end_year,
        "seller": seller,
        "buyer": buyer,
        "seller_township": str(t.seller_township),
        "buyer_township": str(t.buyer_township),
        "seller_zone": str(t.seller_zone) if t.seller_zone_id else "",
        "buyer_zone": str(t.buyer_zone) if t.buyer_zone_id else "",
        "status": t.status,
        "announcement_ends": t.announcement_ends.isoformat() if t.announcement_ends else None,
        "completed_at": t.completed_at.isoformat() if t.completed_at else None,
    }


def price_history() -> dict[str, list[dict[str, Any]]]:
    """Completed trades' prices by use type, oldest first: {use_type: [{date, price, volume}]}."""
    out: dict[str, list[dict[str, Any]]] = {}
    for t in completed_trades().order_by("completed_at", "id"):
        out.setdefault(t.use_type, []).append(
            {
                "date": t.completed_at.date().isoformat() if t.completed_at else None,
                "price": float(t.price),
                "volume_m3": t.volume_m3,
                "number": t.number,
            }
        )
    return out
