"""Initial rights, the market's rules and a trade's life, on the ledger."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from aquifer.rights import ledger, services
from aquifer.rights.models import (
    Account,
    AuctionOrder,
    Bid,
    ListingStatus,
    MarketSettings,
    TradeStatus,
    WaterRight,
)
from aquifer.rights.services import MarketError
from tests.rights.conftest import make_zone


def free(holder: Any, year: int, use_type: str, zone: Any = None) -> int:
    return ledger.balance(ledger.holder_account(holder, year, use_type, "shallow", zone))


def codes(exc: pytest.ExceptionInfo[MarketError]) -> set[str]:
    return {f for f, _m in exc.value.errors}


def conserved() -> None:
    result = ledger.audit()
    assert result.ok, result


def test_grant_allocates_each_year_from_the_reserve(market: Any) -> None:
    y = market.year
    assert [free(market.holder_a, y + k, "domestic") for k in range(3)] == [10_000] * 3
    assert free(market.holder_a, y + 3, "domestic") == 0
    conserved()


def test_grant_stays_within_the_township_and_county_totals(market: Any) -> None:
    y = market.year
    MarketSettings.objects.create(
        values={"TOWNSHIP_TOTALS_M3": {market.township_a.code: 15_000}, "COUNTY_TOTAL_M3": 30_000}
    )
    with pytest.raises(MarketError) as exc:
        services.grant_right(
            holder=market.holder_a, use_type="industrial", source="shallow", zone=None,
            volume_m3=6_000, start_year=y, end_year=y,
        )  # fmt: skip
    assert "超过乡镇总量" in str(exc.value)
    services.grant_right(
        holder=market.holder_a, use_type="industrial", source="shallow", zone=None,
        volume_m3=5_000, start_year=y, end_year=y,
    )  # fmt: skip
    # County: 30,000 issued, 25,000 allocated; 6,000 more does not fit.
    with pytest.raises(MarketError, match="县级预留"):
        services.grant_right(
            holder=market.holder_b, use_type="industrial", source="shallow", zone=None,
            volume_m3=6_000, start_year=y, end_year=y,
        )  # fmt: skip
    assert WaterRight.objects.count() == 3  # the refused ones left nothing behind
    conserved()


def test_revoke_returns_the_unheld_balance(market: Any) -> None:
    back = services.revoke_right(market.right_a, reason="test")
    assert back == 30_000
    assert free(market.holder_a, market.year, "domestic") == 0
    conserved()


def negotiated(world: Any, volume: int = 3_000, **kw: Any) -> Any:
    args = dict(
        seller=world.holder_a, buyer=world.holder_b, use_type="domestic", source="shallow",
        seller_zone=None, buyer_zone=None, volume_m3=volume, price=Decimal("1.20"),
        start_year=world.year, end_year=world.year,
    )  # fmt: skip
    args.update(kw)
    return services.propose_trade(**args)


def test_a_trade_from_proposal_to_completion(market: Any) -> None:
    from aquifer.permits.models import Permit

    bureau = market.accounts["bureau"]
    t = negotiated(market)
    assert t.status == TradeStatus.PENDING and t.trade_type == "permit"
    assert free(market.holder_a, market.year, "domestic") == 7_000  # held
    services.approve(t, by=bureau)
    t.refresh_from_db()
    assert t.status == TradeStatus.ANNOUNCED and t.announcement_ends > timezone.now()
    with pytest.raises(MarketError, match="公示期未满"):
        services.complete(t, by=bureau)
    obj = services.file_objection(t, name="村民", contact="", text="影响灌溉")
    later = t.announcement_ends + dt.timedelta(seconds=1)
    assert services.complete_due(now=later) == 0  # an objection is open
    services.decide_objection(obj, upheld=False, by=bureau, note="不影响")
    assert services.complete_due(now=later) == 1
    t.refresh_from_db()
    assert t.status == TradeStatus.COMPLETED
    assert free(market.holder_b, market.year, "agricultural") == 13_000
    assert Permit.objects.get(number="P-0").annual_quota_m3 == 47_000
    assert Permit.objects.get(number="P-1").annual_quota_m3 == 53_000
    conserved()


def test_upheld_objection_and_rejection_return_the_volume(market: Any) -> None:
    bureau = market.accounts["bureau"]
    t = negotiated(market)
    services.approve(t, by=bureau)
    obj = services.file_objection(t, name="村民", contact="", text="影响灌溉")
    services.decide_objection(obj, upheld=True, by=bureau, note="成立")
    t.refresh_from_db()
    assert t.status == TradeStatus.REJECTED
    t2 = negotiated(market)
    with pytest.raises(MarketError):
        services.reject(t2, by=bureau, note="")
    services.reject(t2, by=bureau, note="材料不全")
    assert free(market.holder_a, market.year, "domestic") == 10_000
    conserved()


def test_the_same_water_cannot_be_sold_twice(market: Any) -> None:
    negotiated(market, volume=8_000)
    with pytest.raises(MarketError) as exc:
        negotiated(market, volume=3_000)
    assert codes(exc) == {"saved_water"}


def test_seller_sells_only_saved_water(market: Any, used: Any) -> None:
    used[(market.user_a.pk, "shallow", market.year)] = 9_000
    with pytest.raises(MarketError) as exc:
        negotiated(market, volume=2_000)
    assert "节余水量 1000" in str(exc.value)
    negotiated(market, volume=1_000)


def test_zone_rules(market: Any) -> None:
    balanced = make_zone("BAL", "balanced", 112.573, 35.533)
    with pytest.raises(MarketError) as exc:
        negotiated(market, buyer_zone=market.zone)  # prohibited
    assert codes(exc) == {"prohibited_zone"}
    with pytest.raises(MarketError) as exc:
        negotiated(market, buyer_zone=balanced)
    assert codes(exc) == {"zone_increase"}


def test_term_limit_and_permit_term(market: Any) -> None:
    MarketSettings.objects.create(values={"MAX_TERM_YEARS": 1})
    with pytest.raises(MarketError) as exc:
        negotiated(market, end_year=market.year + 1)
    assert "term" in codes(exc)


def test_mixed_holders_cannot_trade(market: Any) -> None:
    from aquifer.rights.ledger import Holder

    with pytest.raises(MarketError) as exc:
        negotiated(market, buyer=Holder.of_township(market.township_b))
    assert "mixed_holders" in codes(exc)


def test_permit_refusal_fails_the_trade_and_returns_the_volume(market: Any) -> None:
    from aquifer.permits.models import Permit

    Permit.objects.filter(number="P-1").update(status="expired")
    MarketSettings.objects.create(values={"CHANGE_PERMITS": True})
    # The buyer has no active permit now: the trade is proposed (the seller's side is fine)…
    t = negotiated(market)
    services.approve(t, by=market.accounts["bureau"])
    t.refresh_from_db()
    services.complete(t, now=t.announcement_ends + dt.timedelta(seconds=1))
    t.refresh_from_db()
    # …and fails at completion with the reason; the seller has the water back.
    assert t.status == TradeStatus.FAILED
    assert t.reasons[0]["code"] == "no_permit"
    assert free(market.holder_a, market.year, "domestic") == 10_000
    assert Permit.objects.get(number="P-0").annual_quota_m3 == 50_000
    conserved()


def test_irrigation_trade_of_one_year_needs_no_approval(market: Any) -> None:
    from aquifer.registry.models import WaterUser
    from aquifer.rights.ledger import Holder

    farmer = WaterUser.objects.create(
        name="农户", use_type="agricultural", township=market.township_b
    )
    t = services.propose_trade(
        seller=market.holder_b, buyer=Holder.of_user(farmer), use_type="agricultural",
        source="shallow", seller_zone=None, buyer_zone=None, volume_m3=500,
        price=Decimal("0.5"), start_year=market.year, end_year=market.year,
    )  # fmt: skip
    assert t.trade_type == "irrigation" and not t.needs_approval
    assert t.status == TradeStatus.ANNOUNCED


def test_listing_bids_and_award(market: Any) -> None:
    from aquifer.registry.models import WaterUser
    from aquifer.rights.ledger import Holder

    other = WaterUser.objects.create(name="工厂", use_type="industrial", township=market.township_b)
    lst = services.create_listing(
        seller=market.holder_a, use_type="domestic", source="shallow", zone=None,
        volume_m3=4_000, min_price=Decimal("1.00"), start_year=market.year,
        end_year=market.year,
    )  # fmt: skip
    assert free(market.holder_a, market.year, "domestic") == 6_000
    with pytest.raises(MarketError) as exc:
        services.place_bid(
            lst, bidder=market.holder_b, zone=None, volume_m3=10, price=Decimal("0.5")
        )
    assert codes(exc) == {"price"}
    services.place_bid(
        lst, bidder=market.holder_b, zone=None, volume_m3=3_000, price=Decimal("1.5")
    )
    services.place_bid(lst, bidder=Holder.of_user(other), zone=None, volume_m3=3_000,
                       price=Decimal("1.8"))  # fmt: skip
    trades = services.close_listing(lst)
    lst.refresh_from_db()
    assert lst.status == ListingStatus.AWARDED
    assert [(t.buyer_name, t.volume_m3, t.price) for t in trades] == [
        ("工厂", 3_000, Decimal("1.80")), ("北留农业合作社", 1_000, Decimal("1.50")),
    ]  # fmt: skip
    assert Bid.objects.filter(status="won").count() == 2
    assert free(market.holder_a, market.year, "domestic") == 6_000  # all 4,000 in trades
    for t in trades:
        services.reject(t, by=market.accounts["bureau"], note="测试")
    assert free(market.holder_a, market.year, "domestic") == 10_000
    conserved()


def test_auction_round_clears_at_one_price(market: Any) -> None:
    from aquifer.registry.models import WaterUser
    from aquifer.rights.ledger import Holder

    bureau = market.accounts["bureau"]
    rnd = services.open_round(
        source="shallow", zone=None, year=market.year,
        closes_at=timezone.now() + dt.timedelta(days=1), by=bureau,
    )  # fmt: skip
    other = WaterUser.objects.create(name="工厂", use_type="industrial", township=market.township_b)
    services.submit_order(rnd, holder=market.holder_a, side="sell", use_type="domestic", zone=None,
                          volume_m3=2_000, price=Decimal("1.0"))  # fmt: skip
    services.submit_order(rnd, holder=market.holder_b, side="sell", use_type="agricultural",
                          zone=None, volume_m3=2_000, price=Decimal("2.5"))  # fmt: skip
    services.submit_order(rnd, holder=Holder.of_user(other), side="buy", use_type="industrial",
                          zone=None, volume_m3=3_000, price=Decimal("2.0"))  # fmt: skip
    with pytest.raises(MarketError) as exc:
        services.submit_order(rnd, holder=Holder.of_user(other), side="buy", use_type="industrial",
                              zone=market.zone, volume_m3=1, price=Decimal("9"))  # fmt: skip
    assert codes(exc) == {"zone"}
    trades = services.clear_round(rnd, by=bureau)
    rnd.refresh_from_db()
    assert rnd.cleared_volume_m3 == 2_000 and rnd.clearing_price == Decimal("2.00")
    assert [(t.seller_name, t.volume_m3, t.price) for t in trades] == [
        ("凤城供水站", 2_000, Decimal("2.00"))
    ]
    assert AuctionOrder.objects.get(volume_m3=3_000).filled_m3 == 2_000
    assert free(market.holder_b, market.year, "agricultural") == 10_000  # unfilled: released
    conserved()


def test_accounts_are_scoped(market: Any) -> None:
    from aquifer.core.scoping import visible_to

    mine = visible_to(market.accounts["water_user"], "view", Account)
    assert mine.exists() and not mine.exclude(water_user=market.user_a).exists()
    town = visible_to(market.accounts["township"], "view", Account)
    assert not town.exclude(township=market.township_a).exists()
    assert not visible_to(market.accounts["public"], "view", Account).exists()


def test_lease_quota_returns_after_its_term(market: Any) -> None:
    from aquifer.permits.models import Permit

    t = negotiated(market, is_lease=True)
    services.approve(t, by=market.accounts["bureau"])
    t.refresh_from_db()
    services.complete(t, now=t.announcement_ends + dt.timedelta(seconds=1))
    assert Permit.objects.get(number="P-1").annual_quota_m3 == 53_000
    assert services.revert_leases(market.year) == 0  # the lease year is not over
    assert services.revert_leases(market.year + 1) == 1
    assert Permit.objects.get(number="P-0").annual_quota_m3 == 50_000
    assert Permit.objects.get(number="P-1").annual_quota_m3 == 50_000
    assert services.revert_leases(market.year + 1) == 0  # once


def test_jobs_close_listings_and_clear_rounds_when_due(market: Any) -> None:
    from aquifer.rights import jobs
    from aquifer.rights.models import AuctionRound, Listing

    lst = services.create_listing(
        seller=market.holder_a, use_type="domestic", source="shallow", zone=None,
        volume_m3=1_000, min_price=Decimal("1"), start_year=market.year, end_year=market.year,
    )  # fmt: skip
    services.place_bid(lst, bidder=market.holder_b, zone=None, volume_m3=400, price=Decimal("1"))
    rnd = services.open_round(
        source="shallow", zone=None, year=market.year,
        closes_at=timezone.now() + dt.timedelta(hours=1),
    )  # fmt: skip
    assert jobs.close_due_listings() == 0 and jobs.clear_due_rounds() == 0
    past = timezone.now() - dt.timedelta(seconds=1)
    Listing.objects.filter(pk=lst.pk).update(closes_at=past)
    AuctionRound.objects.filter(pk=rnd.pk).update(closes_at=past)
    assert jobs.close_due_listings() == 1 and jobs.clear_due_rounds() == 1
    assert free(market.holder_a, market.year, "domestic") == 9_600  # 400 in the trade
    assert jobs.complete_due_trades() == 0  # awaiting approval
    conserved()


def test_a_permits_transfer_function_is_used_when_there(
    market: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aquifer.permits import rules as prules
    from aquifer.permits import services as permit_services

    calls = []

    def transfer_quota(src: Any, dst: Any, volume: int, **kw: Any) -> Any:
        calls.append((src.number, dst.number, volume, kw["source"]))
        reason = prules.Reason("balanced_zone", "平衡区", "balanced", ())
        return prules.Decision(False, (reason,))

    monkeypatch.setattr(permit_services, "transfer_quota", transfer_quota, raising=False)
    t = negotiated(market)
    services.approve(t, by=market.accounts["bureau"])
    t.refresh_from_db()
    services.complete(t, now=t.announcement_ends + dt.timedelta(seconds=1))
    t.refresh_from_db()
    assert calls == [("P-0", "P-1", 3_000, "rights")]
    assert t.status == TradeStatus.FAILED and t.reasons[0]["code"] == "balanced_zone"
    conserved()
