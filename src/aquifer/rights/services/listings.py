"""Listings (挂牌): saved water offered publicly, bid on, awarded to the best bids."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aquifer.rights import conf, market_rules
from aquifer.rights.ledger import Holder
from aquifer.rights.models import (
    Bid,
    BidStatus,
    HolderKind,
    Listing,
    ListingStatus,
    Trade,
    TradeMode,
)
from aquifer.rights.services.common import (
    MarketError,
    _check_input,
    _next_number,
    _refuse,
    _username,
    rules,
)
from aquifer.rights.services.parties import (
    _hold,
    _holder_name,
    _Lot,
    _party,
    _reasons,
    _release,
    _seller_proposal,
    holder_use_type,
)
from aquifer.rights.services.trades import propose_trade

__all__ = ["close_listing", "create_listing", "place_bid"]


def create_listing(
    *,
    seller: Holder,
    use_type: str,
    source: str,
    zone: Any,
    volume_m3: int,
    min_price: Decimal,
    start_year: int,
    end_year: int,
    is_lease: bool = False,
    closes_at: dt.datetime | None = None,
    by: Any = None,
) -> Listing:
    """List saved water publicly (挂牌); the volume is held until the listing closes."""
    if min_price is None or min_price < 0:
        raise _refuse("min_price", _("底价不能为负数。"))
    _check_input(
        use_type=use_type, source=source, volume=volume_m3, price=min_price,
        price_field="min_price", years=(start_year, end_year),
    )  # fmt: skip
    closes_at = closes_at or timezone.now() + dt.timedelta(days=int(conf.get("LISTING_DAYS")))
    if closes_at <= timezone.now():
        raise _refuse("closes_at", _("截止时间应晚于现在。"))
    lot = _Lot(seller, use_type, source, zone, start_year, end_year)
    name = _username(by)
    with transaction.atomic():
        nobody = market_rules.Party(kind="", holder_id=0, use_type="")
        problems = market_rules.check_seller(_seller_proposal(lot, nobody, volume_m3), rules())
        if problems:
            raise _reasons(problems)
        listing = Listing.objects.create(
            number=_next_number("GP", Listing),
            account_key=lot.account(start_year).key,
            water_user_id=seller.water_user_id,
            township_id=seller.township_id,
            zone=zone,
            seller_name=_holder_name(seller),
            use_type=use_type,
            source=source,
            volume_m3=volume_m3,
            min_price=min_price,
            start_year=start_year,
            end_year=end_year,
            is_lease=is_lease,
            closes_at=closes_at,
        )
        _hold(lot, volume_m3, f"listing:{listing.pk}", name)
    return listing


def _listing_lot(listing: Listing) -> _Lot:
    kind = HolderKind.WATER_USER if listing.water_user_id else HolderKind.TOWNSHIP
    return _Lot(
        Holder(kind, listing.water_user_id, listing.township_id, listing.seller_name),
        listing.use_type, listing.source, listing.zone, listing.start_year, listing.end_year,
    )  # fmt: skip


def place_bid(
    listing: Listing,
    *,
    bidder: Holder,
    zone: Any,
    volume_m3: int,
    price: Decimal,
    by: Any = None,
) -> Bid:
    """Bid on an open listing: at or above its floor price, at most its volume, and only
    where the rules let the water go (zone, trade type)."""
    _check_input(volume=volume_m3, price=price)
    errors: list[tuple[str, str]] = []
    if listing.status != ListingStatus.OPEN or timezone.now() >= listing.closes_at:
        errors.append(("listing", _("该挂牌已截止。")))
    if price is None or price < listing.min_price:
        errors.append(("price", _("报价不得低于挂牌底价 %(p)s 元/m³。") % {"p": listing.min_price}))
    if volume_m3 <= 0 or volume_m3 > listing.volume_m3:
        errors.append(
            ("volume_m3", _("竞买水量应在 1 至 %(v)d m³ 之间。") % {"v": listing.volume_m3})
        )
    if errors:
        raise MarketError(errors)
    lot = _listing_lot(listing)
    seller = _party(lot.holder, lot.use_type, lot.zone, lot.source)
    buyer = _party(bidder, holder_use_type(bidder) or lot.use_type, zone, lot.source)
    kind = market_rules.trade_type(seller, buyer)
    problems = [kind] if isinstance(kind, market_rules.Reason) else []
    problems += market_rules.check_buyer(seller, buyer, rules())
    if problems:
        raise _reasons(problems)
    return Bid.objects.create(
        listing=listing,
        water_user_id=bidder.water_user_id,
        township_id=bidder.township_id,
        zone=zone,
        bidder_name=_holder_name(bidder),
        volume_m3=volume_m3,
        price=price,
    )


def close_listing(listing: Listing, *, by: Any = None, cancel: bool = False) -> list[Trade]:
    """Close a listing: bids in order of price (then time) win until its volume is gone, each
    becoming a trade (awaiting approval); the rest of the volume is released. ``cancel``
    withdraws the listing with no award."""
    name = _username(by)
    trades: list[Trade] = []
    with transaction.atomic():
        lst = Listing.objects.select_for_update().get(pk=listing.pk)
        if lst.status != ListingStatus.OPEN:
            raise _refuse("status", _("该挂牌已结束。"))
        lot = _listing_lot(lst)
        left = lst.volume_m3
        bids = list(lst.bids.filter(status=BidStatus.OPEN).order_by("-price", "created_at", "id"))
        for bid in bids:
            take = 0 if cancel else min(left, bid.volume_m3)
            if take <= 0:
                bid.status = BidStatus.LOST
                bid.save()
                continue
            kind = HolderKind.WATER_USER if bid.water_user_id else HolderKind.TOWNSHIP
            try:
                t = propose_trade(
                    seller=lot.holder,
                    buyer=Holder(kind, bid.water_user_id, bid.township_id, bid.bidder_name),
                    use_type=lot.use_type, source=lot.source, seller_zone=lot.zone,
                    buyer_zone=bid.zone, volume_m3=take, price=bid.price,
                    start_year=lot.start_year, end_year=lot.end_year, is_lease=lst.is_lease,
                    mode=TradeMode.LISTING, by=by, listing=lst, already_held=True,
                )  # fmt: skip
            except MarketError:
                bid.status = BidStatus.LOST
                bid.save()
                continue
            trades.append(t)
            bid.status, bid.filled_m3 = BidStatus.WON, take
            bid.save()
            left -= take
        _release(lot, left, f"listing:{lst.pk}", name)
        if cancel:
            lst.status = ListingStatus.CANCELLED
        else:
            lst.status = ListingStatus.AWARDED if trades else ListingStatus.CLOSED
        lst.save()
    return trades
