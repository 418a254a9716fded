"""Pages and API of the rights app, for every role (own township vs other, anonymous too)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from aquifer.rights import services
from aquifer.rights.models import MarketSettings, Objection, Trade, TradeStatus

ROLES = ["bureau", "township", "water_user", "inspector", "public", "anonymous"]


@pytest.fixture
def scene(market: Any) -> Any:
    """A pending trade A→B, an announced trade, a listing by A, a round; plus a trade between
    two users of township B that the township-A officer must not see."""
    from aquifer.registry.models import WaterUser
    from aquifer.rights.ledger import Holder

    w = market
    y = w.year
    w.pending = services.propose_trade(
        seller=w.holder_a, buyer=w.holder_b, use_type="domestic", source="shallow",
        seller_zone=None, buyer_zone=None, volume_m3=1_000, price=Decimal("1.1"),
        start_year=y, end_year=y,
    )  # fmt: skip
    farmer = WaterUser.objects.create(name="农户乙", use_type="agricultural", township=w.township_b)
    w.other = services.propose_trade(
        seller=w.holder_b,
        buyer=Holder.of_user(farmer),
        use_type="agricultural",
        source="shallow",
        seller_zone=None,
        buyer_zone=None,
        volume_m3=500,
        price=Decimal("0.6"),
        start_year=y,
        end_year=y,
    )  # fmt: skip  (irrigation, 1 year: announced at once)
    w.listing = services.create_listing(
        seller=w.holder_a, use_type="domestic", source="shallow", zone=None, volume_m3=500,
        min_price=Decimal("1"), start_year=y, end_year=y,
    )  # fmt: skip
    w.round = services.open_round(
        source="shallow", zone=None, year=y, closes_at=timezone.now() + dt.timedelta(days=3)
    )
    return w


# page → roles that get 200 (others: 404, or a redirect to login for the anonymous)
def pages(w: Any) -> list[tuple[str, set[str]]]:
    everyone = set(ROLES)
    return [
        (reverse("rights:market"), everyone),
        (reverse("rights:rules"), everyone),
        (reverse("rights:announcement", args=[w.other.pk]), everyone),
        (reverse("rights:announcement", args=[w.pending.pk]), set()),  # not announced
        (reverse("rights:listing_detail", args=[w.listing.pk]), everyone),
        (reverse("rights:round_detail", args=[w.round.pk]), everyone),
        (reverse("rights:trade_detail", args=[w.pending.pk]),
         {"bureau", "township", "water_user", "inspector"}),
        (reverse("rights:trade_detail", args=[w.other.pk]), {"bureau", "inspector"}),
        (reverse("rights:right_detail", args=[w.right_a.pk]),
         {"bureau", "township", "water_user", "inspector"}),
        (reverse("rights:right_detail", args=[w.right_b.pk]), {"bureau", "inspector"}),
        # WaterRight's view policy: a filtered list; the public has no rule (403).
        (reverse("rights:right_list"), {"bureau", "township", "water_user", "inspector"}),
        (reverse("rights:account"), {"township", "water_user"}),
        (reverse("rights:approvals"), {"bureau"}),
        (reverse("rights:ledger"), {"bureau"}),
        (reverse("rights:right_grant"), {"bureau"}),
        (reverse("rights:round_new"), {"bureau"}),
    ]  # fmt: skip


@pytest.mark.parametrize("role", ROLES)
def test_every_page_for_every_role(scene: Any, role: str) -> None:
    c = scene.client(role)
    for url, ok in pages(scene):
        r = c.get(url)
        if role in ok:
            assert r.status_code == 200, (url, r.status_code)
        elif url.endswith("/account/") and role == "bureau":
            assert r.status_code == 403  # the regulator has no trading account
        else:
            assert r.status_code in (302, 403, 404), (url, role, r.status_code)
            assert r.status_code != 200


def test_public_sees_masked_parties_and_no_private_details(scene: Any) -> None:
    body = scene.client("anonymous").get(reverse("rights:announcement", args=[scene.other.pk]))
    text = body.content.decode()
    assert "北留农业合作社" not in text and "北*****社" in text
    MarketSettings.objects.create(values={"DISCLOSE_PARTIES": "full"})
    text = scene.client("anonymous").get(reverse("rights:announcement", args=[scene.other.pk]))
    assert "北留农业合作社" in text.content.decode()


def test_anyone_may_object_during_the_announcement(scene: Any) -> None:
    url = reverse("rights:announcement", args=[scene.other.pk])
    r = scene.client("anonymous").post(url, {"name": "", "text": ""})
    assert r.status_code == 200 and Objection.objects.count() == 0
    r = scene.client("anonymous").post(url, {"name": "张三", "contact": "138", "text": "影响饮水"})
    assert r.status_code == 302 and Objection.objects.count() == 1


def test_bureau_approves_and_others_cannot(scene: Any) -> None:
    url = reverse("rights:trade_action", args=[scene.pending.pk, "approve"])
    assert scene.client("water_user").post(url).status_code == 403
    assert scene.client("township").post(url).status_code == 403
    assert scene.client("anonymous").post(url).status_code == 404
    scene.pending.refresh_from_db()
    assert scene.pending.status == TradeStatus.PENDING
    assert scene.client("bureau").post(url).status_code == 302
    scene.pending.refresh_from_db()
    assert scene.pending.status == TradeStatus.ANNOUNCED


def test_seller_cancels_from_the_page(scene: Any) -> None:
    url = reverse("rights:trade_action", args=[scene.pending.pk, "cancel"])
    assert scene.client("water_user").post(url).status_code == 302
    scene.pending.refresh_from_db()
    assert scene.pending.status == TradeStatus.CANCELLED


def test_holder_proposes_a_trade_on_the_account_page(scene: Any) -> None:
    c = scene.client("water_user")
    page = c.get(reverse("rights:account"))
    lots = page.context["lots"]
    assert lots
    data = {
        "form": "trade", "trade-buyer_kind": "water_user", "trade-buyer_code": scene.user_b.pk,
        "trade-account": lots[0][0], "trade-volume_m3": 100, "trade-price": "1.5",
        "trade-start_year": scene.year, "trade-end_year": scene.year,
    }  # fmt: skip
    r = c.post(reverse("rights:account"), data)
    assert r.status_code == 302, r.context["trade_form"].errors
    # too much: a 200 with the reason on the form, nothing written
    n = Trade.objects.count()
    data["trade-volume_m3"] = 10**9
    r = c.post(reverse("rights:account"), data)
    assert r.status_code == 200 and Trade.objects.count() == n
    assert "不足" in r.content.decode()


def test_bid_page(scene: Any) -> None:
    url = reverse("rights:listing_detail", args=[scene.listing.pk])
    assert scene.client("water_user").post(url, {"volume_m3": 10, "price": "2"}).status_code == 403
    r = scene.client("public").post(url, {"volume_m3": 10, "price": "2"})
    assert r.status_code == 403
    # the township officer bids for the township: mixed holders are refused with the reason
    r = scene.client("township").post(url, {"volume_m3": 10, "price": "2"})
    assert r.status_code == 200 and "区域水权交易" in r.content.decode()


def test_certificate_prints(scene: Any) -> None:
    r = scene.client("water_user").get(reverse("rights:right_detail", args=[scene.right_a.pk]))
    text = r.content.decode()
    assert "@media print" in text and scene.right_a.number in text


def test_rules_page_shows_and_bureau_changes_settings(scene: Any) -> None:
    r = scene.client("public").get(reverse("rights:rules"))
    assert "ANNOUNCEMENT_DAYS" in r.content.decode()
    assert scene.client("township").post(reverse("rights:rules"), {}).status_code == 403
    data = {
        "announcement_days": 7, "listing_days": 20, "max_term_years": 3,
        "irrigation_no_approval_years": 1, "prohibited_zone_kinds": ["prohibited"],
        "no_increase_zone_kinds": ["balanced", "overexploited"], "saved_water_only": "on",
        "change_permits": "on", "disclose_parties": "masked", "township_totals_m3": "{}",
    }  # fmt: skip
    r = scene.client("bureau").post(reverse("rights:rules"), data)
    assert r.status_code == 302
    from aquifer.rights import conf

    assert conf.get("ANNOUNCEMENT_DAYS") == 7 and conf.get("MAX_TERM_YEARS") == 3
    data["township_totals_m3"] = '{"999": 5}'
    r = scene.client("bureau").post(reverse("rights:rules"), data)
    assert r.status_code == 200 and "999" in r.content.decode()


def test_ledger_page_shows_the_conservation_check(scene: Any) -> None:
    r = scene.client("bureau").get(reverse("rights:ledger"))
    assert 'data-ok="1"' in r.content.decode()


# ----------------------------------------------------------------------------- API


def test_api_trades_are_scoped(scene: Any) -> None:
    def numbers(role: str) -> set[str]:
        r = scene.client(role).get("/api/rights/trades")
        assert r.status_code == 200
        return {t["number"] for t in r.json()["items"]}

    both = {scene.pending.number, scene.other.number}
    assert numbers("bureau") == both
    assert numbers("inspector") == both
    assert numbers("water_user") == {scene.pending.number}
    assert numbers("township") == {scene.pending.number}
    # No rule on trades at all: refused, not an empty list.
    assert scene.client("public").get("/api/rights/trades").status_code == 403
    assert scene.client("anonymous").get("/api/rights/trades").status_code == 401
    assert scene.client("water_user").get(f"/api/rights/trades/{scene.other.pk}").status_code == 404


def test_api_public_disclosure_and_prices(scene: Any) -> None:
    r = scene.client("anonymous").get("/api/rights/public/trades?status=announced")
    assert r.status_code == 200
    rows = r.json()
    assert [x["number"] for x in rows] == [scene.other.number]
    assert rows[0]["seller"] == "北*****社"
    assert scene.client("anonymous").get("/api/rights/public/prices").status_code == 200
    assert scene.client("anonymous").get("/api/rights/rules").status_code == 200


def test_api_accounts_scoped(scene: Any) -> None:
    mine = scene.client("water_user").get("/api/rights/accounts").json()
    assert mine and {a["holder"] for a in mine} == {"凤城供水站"}
    assert scene.client("anonymous").get("/api/rights/accounts").status_code == 401
    assert scene.client("public").get("/api/rights/accounts").status_code == 403


def test_api_create_trade_errors_name_the_field(scene: Any) -> None:
    c = scene.client("water_user")
    body = {
        "buyer_water_user_id": scene.user_b.pk,
        "use_type": "domestic",
        "source": "shallow",
        "volume_m3": 10**9,
        "price": "1",
        "start_year": scene.year,
        "end_year": scene.year,
    }
    r = c.post("/api/rights/trades", json.dumps(body), content_type="application/json")
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "saved_water"
    body["volume_m3"] = 100
    r = c.post("/api/rights/trades", json.dumps(body), content_type="application/json")
    assert r.status_code == 201, r.json()
    r = scene.client("anonymous").post("/api/rights/trades", json.dumps(body),
                                       content_type="application/json")  # fmt: skip
    assert r.status_code == 401
    r = scene.client("inspector").post("/api/rights/trades", json.dumps(body),
                                       content_type="application/json")  # fmt: skip
    assert r.status_code == 403
    body["buyer_zone_id"] = 999999
    r = c.post("/api/rights/trades", json.dumps(body), content_type="application/json")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "buyer_zone_id"


def test_api_actions_and_ledger_audit(scene: Any) -> None:
    url = f"/api/rights/trades/{scene.pending.pk}/approve"
    r = scene.client("water_user").post(url, "{}", content_type="application/json")
    assert r.status_code == 403
    r = scene.client("bureau").post(url, "{}", content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "announced"
    r = scene.client("bureau").post(url, "{}", content_type="application/json")
    assert r.status_code == 422
    assert scene.client("bureau").get("/api/rights/ledger/audit").json()["ok"] is True
    assert scene.client("township").get("/api/rights/ledger/audit").status_code == 403


def test_api_listing_and_bid(scene: Any) -> None:
    r = scene.client("anonymous").get("/api/rights/listings")
    assert r.status_code == 200 and r.json()[0]["seller"] == "凤***站"
    r = scene.client("water_user").post(
        f"/api/rights/listings/{scene.listing.pk}/bids",
        json.dumps({"volume_m3": 1, "price": "5"}), content_type="application/json",
    )  # fmt: skip
    assert r.status_code == 403  # own listing


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"price": "1.234"}, "price"),
        ({"price": "1e12"}, "price"),
        ({"source": "river"}, "source"),
        ({"use_type": "mining"}, "use_type"),
        ({"start_year": 40000, "end_year": 40000}, "start_year"),
        ({"volume_m3": 10**15}, "volume_m3"),
    ],
)
def test_api_bad_input_is_a_422_naming_the_field(scene: Any, change: dict, field: str) -> None:
    body = {
        "buyer_water_user_id": scene.user_b.pk,
        "use_type": "domestic",
        "source": "shallow",
        "volume_m3": 10,
        "price": "1",
        "start_year": scene.year,
        "end_year": scene.year,
    }
    body.update(change)
    n = Trade.objects.count()
    r = scene.client("water_user").post(
        "/api/rights/trades", json.dumps(body), content_type="application/json"
    )
    assert r.status_code == 422, r.content
    assert field in {e["field"] for e in r.json()["errors"]}
    assert Trade.objects.count() == n


def test_grant_page_refuses_with_field_errors(scene: Any) -> None:
    c = scene.client("bureau")
    data = {
        "holder_kind": "water_user",
        "water_user": scene.user_a.pk,
        "use_type": "domestic",
        "source": "deep",
        "zone": scene.zone.pk,
        "volume_m3": 100,
        "start_year": scene.year,
        "end_year": scene.year,
    }
    r = c.post(reverse("rights:right_grant"), data)
    assert r.status_code == 200 and 'data-field="zone"' in r.content.decode()
    data.update(source="shallow", zone="", volume_m3=10**13)
    r = c.post(reverse("rights:right_grant"), data)
    assert r.status_code == 200 and 'data-field="volume_m3"' in r.content.decode()
    data.update(volume_m3=100)
    r = c.post(reverse("rights:right_grant"), data)
    assert r.status_code == 302


def test_notifications_on_announce_and_complete(
    scene: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.approve(scene.pending, by=scene.accounts["bureau"])
    assert len(callbacks) == 1


def test_account_page_does_not_list_the_county_register(scene: Any) -> None:
    from aquifer.registry.models import WaterUser

    WaterUser.objects.create(name="远方企业", use_type="industrial", township=scene.township_b)
    text = scene.client("water_user").get(reverse("rights:account")).content.decode()
    assert "远方企业" not in text
    r = scene.client("water_user").post(
        reverse("rights:account"),
        {"form": "trade", "trade-buyer_kind": "water_user", "trade-buyer_code": "999999",
         "trade-account": "domestic|shallow|", "trade-volume_m3": 1, "trade-price": "1",
         "trade-start_year": scene.year, "trade-end_year": scene.year},
    )  # fmt: skip
    assert r.status_code == 200 and 'data-field="buyer_code"' in r.content.decode()


def test_county_and_township_totals_only_to_officials(scene: Any) -> None:
    """The totals are the county's own, unpublished figures: officials see them on the rules
    page and in the API, water users and the public do not."""
    for role, shown in (("bureau", True), ("township", True), ("water_user", False),
                        ("public", False), ("anonymous", False)):  # fmt: skip
        page = scene.client(role).get(reverse("rights:rules")).content.decode()
        api = scene.client(role).get("/api/rights/rules").json()
        assert ("COUNTY_TOTAL_M3" in page) is shown, role
        assert ("TOWNSHIP_TOTALS_M3" in api) is shown, role
        assert "ANNOUNCEMENT_DAYS" in api, role


def test_ledger_page_names_accounts_in_a_fixed_number_of_queries(market: Any) -> None:
    """An account's name reads its holder, township and zone: a page of journals over many
    zones asks no more than one over few."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from aquifer.core.audit import audit_context
    from tests.rights.conftest import make_zone

    world = market
    c = world.client("bureau")

    def grant(i: int) -> None:
        zone = make_zone(f"Z-L-{i}", "not_overexploited", 112.40 + 0.012 * i, 35.47)
        with audit_context(source="test"):
            services.grant_right(
                holder=world.holder_a, use_type="domestic", source="shallow", zone=zone,
                volume_m3=100 + i, start_year=world.year, end_year=world.year,
            )  # fmt: skip

    def count() -> int:
        c.get("/rights/ledger/")
        with CaptureQueriesContext(connection) as ctx:
            assert c.get("/rights/ledger/").status_code == 200
        return len(ctx.captured_queries)

    grant(0)
    few = count()
    for i in range(1, 8):
        grant(i)
    assert count() == few
