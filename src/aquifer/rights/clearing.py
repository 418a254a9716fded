"""Sealed-bid double auction with one uniform clearing price (the pilot trading mode).

Pure functions over plain data (no Django). The design follows the Fox Canyon groundwater
market (Ventura County, California; run by the Fox Canyon Groundwater Management Agency since
2019-2020): buyers and sellers submit sealed bids and offers for a trading period; at the close
the market finds the one price at which the aggregate demand curve meets the aggregate supply
curve, and every trade clears at that price. docs/rights.md gives the sources and says which
details of the tie rules are ours (the published descriptions do not spell them out).

The rules implemented here:

1. **Volume first.** The cleared volume is the largest volume that can trade: buys sorted by
   price from the highest, sells by price from the lowest, each side in priority order among
   equal prices, are matched while the marginal buy price is at least the marginal sell price.
2. **Priority.** Among orders at the same price, the earlier order (``time``) goes first, and
   at the same time the smaller ``order_id``. Only the marginal order of the long side is
   partly filled; there is no pro-rata sharing.
3. **Price.** Any price ``p`` with ``lo <= p <= hi`` supports the cleared volume, where ``lo``
   is the highest of the last matched sell price and the best price left unfilled on the buy
   side, and ``hi`` the lowest of the last matched buy price and the best price left unfilled
   on the sell side. Where the curves cross on a *vertical* segment (``lo < hi``: a range of
   prices supports the same volume) the clearing price is the midpoint ``(lo + hi) / 2``,
   rounded half-even to ``price_places`` decimals and kept inside ``[lo, hi]``. Where they
   cross on a *horizontal* segment (supply and demand overlap over a range of volumes at one
   price) the price is that price and the volume is the largest of the range, the long side
   rationed by priority.
4. **Consequences** (tested with hypothesis): no fill exceeds its order; every filled buy bid
   at least the clearing price and every filled sell asked at most it; total bought equals
   total sold; the same orders give the same result in any input order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum

__all__ = ["Clearing", "ClearingError", "Order", "Side", "clear"]


class Side(StrEnum):
    """Which side of the market an order is on."""

    BUY = "buy"
    SELL = "sell"


class ClearingError(ValueError):
    """An order that cannot take part in an auction (bad volume, price or a repeated id)."""


@dataclass(frozen=True)
class Order:
    """A sealed order: ``volume`` whole m³ (> 0) at a limit ``price`` (yuan/m³, >= 0).

    ``time`` orders priority among equal prices (smaller is earlier: a timestamp or a
    sequence number); ``order_id`` breaks a tie of time.
    """

    order_id: str
    side: Side
    volume: int
    price: Decimal
    time: float = 0.0

    def __post_init__(self) -> None:
        if not self.order_id:
            raise ClearingError("order_id is empty")
        if isinstance(self.volume, bool) or not isinstance(self.volume, int) or self.volume <= 0:
            raise ClearingError(f"order {self.order_id}: volume must be a whole number > 0")
        if not isinstance(self.price, Decimal) or not self.price.is_finite() or self.price < 0:
            raise ClearingError(f"order {self.order_id}: price must be a finite number >= 0")


@dataclass(frozen=True)
class Clearing:
    """The result: the uniform price (None when nothing trades), the volume and each fill."""

    clearing_price: Decimal | None
    cleared_volume: int
    fills: dict[str, int] = field(default_factory=dict)
    price_low: Decimal | None = None
    price_high: Decimal | None = None

    def fill(self, order_id: str) -> int:
        """The volume filled for an order (0 if none)."""
        return self.fills.get(order_id, 0)


def _key(o: Order) -> tuple[float, str]:
    return (o.time, o.order_id)


def clear(orders: Iterable[Order], *, price_places: int = 2) -> Clearing:
    """Clear a sealed-bid double auction at one uniform price (rules in the module docstring).

    Parameters
    ----------
    orders:
        Buy and sell orders; ``order_id`` values must be unique.
    price_places:
        Decimal places of the clearing price (the midpoint is rounded half-even to these,
        and never leaves the supporting interval).

    Returns
    -------
    Clearing
        ``fills`` holds only orders with a fill > 0.
    """
    buys: list[Order] = []
    sells: list[Order] = []
    seen: set[str] = set()
    for o in orders:
        if o.order_id in seen:
            raise ClearingError(f"order_id {o.order_id} appears twice")
        seen.add(o.order_id)
        (buys if o.side is Side.BUY else sells).append(o)
    buys.sort(key=lambda o: (-o.price, *_key(o)))
    sells.sort(key=lambda o: (o.price, *_key(o)))

    fills: dict[str, int] = {}
    i = j = 0
    left_b = buys[0].volume if buys else 0
    left_s = sells[0].volume if sells else 0
    last_b: Decimal | None = None
    last_s: Decimal | None = None
    total = 0
    while i < len(buys) and j < len(sells) and buys[i].price >= sells[j].price:
        q = min(left_b, left_s)
        b, s = buys[i], sells[j]
        fills[b.order_id] = fills.get(b.order_id, 0) + q
        fills[s.order_id] = fills.get(s.order_id, 0) + q
        total += q
        last_b, last_s = b.price, s.price
        left_b -= q
        left_s -= q
        if left_b == 0:
            i += 1
            left_b = buys[i].volume if i < len(buys) else 0
        if left_s == 0:
            j += 1
            left_s = sells[j].volume if j < len(sells) else 0
    if total == 0 or last_b is None or last_s is None:
        return Clearing(None, 0, {})

    # The next unfilled (or partly filled) order on each side bounds the price.
    lo = last_s if i >= len(buys) else max(last_s, buys[i].price)
    hi = last_b if j >= len(sells) else min(last_b, sells[j].price)
    quantum = Decimal(1).scaleb(-price_places)
    mid = ((lo + hi) / 2).quantize(quantum, rounding=ROUND_HALF_EVEN)
    price = min(max(mid, lo), hi)
    return Clearing(price, total, fills, lo, hi)
