"""Auction rounds (pilot): sealed orders, cleared at one uniform price into trades."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aquifer.rights import clearing, market_rules
from aquifer.rights.ledger import Holder
from aquifer.rights.models import (
    AuctionOrder,
    AuctionRound,
    HolderKind,
    RoundStatus,
    Trade,
    TradeMode,
)
from aquifer.rights.services.common import (
    FIRST_YEAR,
    LAST_YEAR,
    MarketError,
    _check_input,
    _next_number,
    _pk,
    _refuse,
    _username,
    rules,
    this_year,
)
from aquifer.rights.services.parties import (
    _hold,
    _holder_name,
    _Lot,
    _reasons,
    _release,
    _seller_proposal,
)
from aquifer.rights.services.trades import propose_trade

__all__ = ["clear_round", "open_round", "submit_order"]


def open_round(
    *, source: str, zone: Any, year: int, closes_at: dt.datetime, by: Any = None
) -> AuctionRound:
    """The bureau opens a periodic auction round (pilot mode)."""
    if closes_at <= timezone.now():
        raise _refuse("closes_at", _("截止时间应晚于现在。"))
    _check_input(source=source)
    if year < this_year():
        raise _refuse("year", _("不能交易已过年度的水权。"))
    if year > LAST_YEAR:
        raise _refuse(
            "year", _("年度应在 %(a)d 至 %(b)d 之间。") % {"a": FIRST_YEAR, "b": LAST_YEAR}
        )
    return AuctionRound.objects.create(
        number=_next_number("PM", AuctionRound),
        source=source,
        zone=zone,
        year=year,
        closes_at=closes_at,
    )


def submit_order(
    rnd: AuctionRound,
    *,
    holder: Holder,
    side: str,
    use_type: str,
    zone: Any,
    volume_m3: int,
    price: Decimal,
    by: Any = None,
) -> AuctionOrder:
    """A sealed order in an open round. Sell: saved water, held until clearing. Buy: only
    where the rules let water go (a round for one zone admits only that zone's holders; a
    county-wide round no buyer in a zone whose extraction must not rise)."""
    _check_input(use_type=use_type, volume=volume_m3, price=price)
    rs = rules()
    errors: list[tuple[str, str]] = []
    if rnd.status != RoundStatus.OPEN or timezone.now() >= rnd.closes_at:
        errors.append(("round", _("该场次已截止。")))
    if side not in ("buy", "sell"):
        errors.append(("side", _("方向应为 buy 或 sell。")))
    if volume_m3 <= 0:
        errors.append(("volume_m3", _("水量应大于 0。")))
    if price is None or price < 0:
        errors.append(("price", _("限价不能为负数。")))
    if rnd.zone_id and _pk(zone) != rnd.zone_id:
        errors.append(("zone", _("本场次只接受分区 %(z)s 内的报价。") % {"z": rnd.zone}))
    kind = getattr(zone, "kind", None)
    if side == "buy" and kind in rs.prohibited_zone_kinds:
        errors.append(("zone", _("不得向禁采区转入水权。")))
    if side == "buy" and not rnd.zone_id and kind in rs.no_increase_zone_kinds:
        errors.append(("zone", _("该分区开采量不得增加：请参加本分区的场次。")))
    if errors:
        raise MarketError(errors)
    name = _username(by)
    with transaction.atomic():
        order = AuctionOrder.objects.create(
            round=rnd, side=side, account_key="", water_user_id=holder.water_user_id,
            township_id=holder.township_id, zone=zone, holder_name=_holder_name(holder),
            use_type=use_type, volume_m3=volume_m3, price=price,
        )  # fmt: skip
        if side == "sell":
            lot = _Lot(holder, use_type, rnd.source, zone, rnd.year, rnd.year)
            nobody = market_rules.Party(kind="", holder_id=0, use_type="")
            problems = market_rules.check_seller(_seller_proposal(lot, nobody, volume_m3), rs)
            if problems:
                raise _reasons(problems)
            _hold(lot, volume_m3, f"order:{order.pk}", name)
            order.account_key = lot.account(rnd.year).key
            order.save(update_fields=["account_key"])
    return order


def clear_round(rnd: AuctionRound, *, by: Any = None) -> list[Trade]:
    """Clear a round at one uniform price (:func:`aquifer.rights.clearing.clear`); the fills,
    paired in priority order, become trades at the clearing price, awaiting approval; unfilled
    sell volume is released."""
    name = _username(by)
    with transaction.atomic():
        r = AuctionRound.objects.select_for_update().get(pk=rnd.pk)
        if r.status != RoundStatus.OPEN:
            raise _refuse("status", _("该场次已出清或取消。"))
        orders = list(r.orders.filter(withdrawn=False).order_by("created_at", "id"))
        core = [
            clearing.Order(str(o.pk), clearing.Side(o.side), int(o.volume_m3),
                           Decimal(o.price), o.created_at.timestamp())
            for o in orders
        ]  # fmt: skip
        result = clearing.clear(core)
        by_id = {str(o.pk): o for o in orders}
        for oid, v in result.fills.items():
            by_id[oid].filled_m3 = v
            by_id[oid].save(update_fields=["filled_m3"])
        trades = _fill_trades(r, orders, result.clearing_price or Decimal(0), by, name)
        for o in orders:
            if o.side == "sell" and o.volume_m3 > o.filled_m3:
                lot = _Lot(_order_holder(o), o.use_type, r.source, o.zone, r.year, r.year)
                _release(lot, o.volume_m3 - o.filled_m3, f"order:{o.pk}", name)
        r.status = RoundStatus.CLEARED
        r.clearing_price = result.clearing_price
        r.cleared_volume_m3 = result.cleared_volume
        r.cleared_at = timezone.now()
        r.save()
    return trades


def _fill_trades(
    r: AuctionRound, orders: list[AuctionOrder], price: Decimal, by: Any, name: str
) -> list[Trade]:
    """The filled orders paired in priority order (buys by price descending, sells ascending,
    then time), each pair a trade at the clearing ``price``; a pair that may not trade has its
    volume released."""
    buys = sorted(
        (o for o in orders if o.side == "buy" and o.filled_m3),
        key=lambda o: (-o.price, o.created_at, o.pk),
    )
    sells = sorted(
        (o for o in orders if o.side == "sell" and o.filled_m3),
        key=lambda o: (o.price, o.created_at, o.pk),
    )
    trades: list[Trade] = []
    bi = si = 0
    bleft = buys[0].filled_m3 if buys else 0
    sleft = sells[0].filled_m3 if sells else 0
    while bi < len(buys) and si < len(sells):
        q = min(bleft, sleft)
        b, s = buys[bi], sells[si]
        seller = _order_holder(s)
        buyer = _order_holder(b)
        try:
            trades.append(
                propose_trade(
                    seller=seller, buyer=buyer, use_type=s.use_type, source=r.source,
                    seller_zone=s.zone, buyer_zone=b.zone, volume_m3=q, price=price,
                    start_year=r.year, end_year=r.year, mode=TradeMode.AUCTION, by=by,
                    auction=r, already_held=True,
                )
            )  # fmt: skip
        except MarketError:
            # e.g. a holder on both sides: this pair does not trade; its volume is released
            _release(_Lot(seller, s.use_type, r.source, s.zone, r.year, r.year), q,
                     f"order:{s.pk}", name)  # fmt: skip
        bleft -= q
        sleft -= q
        if bleft == 0:
            bi += 1
            bleft = buys[bi].filled_m3 if bi < len(buys) else 0
        if sleft == 0:
            si += 1
            sleft = sells[si].filled_m3 if si < len(sells) else 0
    return trades


def _order_holder(o: AuctionOrder) -> Holder:
    kind = HolderKind.WATER_USER if o.water_user_id else HolderKind.TOWNSHIP
    return Holder(kind, o.water_user_id, o.township_id, o.holder_name)
