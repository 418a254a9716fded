"""The public portal (issue 18 points 1 and 3): the wells' snapshot, the pages for anyone in
both languages, the privacy of coordinates, the price index threshold, the downloads with
their licence, the progress panels, news."""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from aquifer.analysis.models import LevelMeasurement, QualitySample, WellTrend
from aquifer.portal import figures, panels, snapshot
from aquifer.portal.models import NewsItem, WellSnapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(world: Any) -> Any:
    """Two years of monthly soundings at monitoring well A, a trend and a quality sample at B."""
    now = timezone.now()
    for k in range(24):
        LevelMeasurement.objects.create(
            monitoring_well=world.monitoring_a,
            element="depth_to_water",
            measured_at=now - dt.timedelta(days=30 * k),
            value=20.0 + 0.1 * k,
        )
    WellTrend.objects.create(
        monitoring_well=world.monitoring_a, computed_on=timezone.localdate(), status="rising",
        element="depth_to_water", test="seasonal", trend="decreasing", window_trend="decreasing",
        same_month_change=1.2, level_slope_per_year=1.1, months=24,
    )  # fmt: skip
    QualitySample.objects.create(
        sample_id="S-1", well=world.well_b, sampled_at=now - dt.timedelta(days=10), lab="县监测站",
        klass=4, deciding=["硝酸盐"],
    )  # fmt: skip
    return snapshot.refresh()


def test_snapshot_holds_the_current_condition(world: Any, history: int) -> None:
    assert history == 2
    a = WellSnapshot.objects.get(monitoring_well=world.monitoring_a)
    assert a.latest_value == pytest.approx(20.0)
    assert a.status == "rising" and a.same_month_change == pytest.approx(1.2)
    assert len(a.hydrograph) >= 20 and a.hydrograph[-1][1] == pytest.approx(20.0)
    b = WellSnapshot.objects.get(monitoring_well=world.monitoring_b)
    assert b.quality_class == 4 and b.quality_deciding[0][0].startswith("硝酸盐")


def test_private_wells_to_the_village_and_no_owner(world: Any, history: int) -> None:
    a = WellSnapshot.objects.get(monitoring_well=world.monitoring_a)  # well A has an owner
    assert a.private and a.lon == round(world.well_a.lon, 2) and a.name == ""
    assert a.code == snapshot.public_code(world.monitoring_a) != world.well_a.code
    page = Client().get(f"/portal/wells/{a.code}/").content.decode()
    assert world.user_a.name not in page and world.well_a.code not in page
    geo = Client().get("/portal/data/wells.geojson").json()
    assert all(
        len(str(f["geometry"]["coordinates"][0]).split(".")[-1]) <= 3 for f in geo["features"]
    )
    assert world.user_a.name not in json.dumps(geo, ensure_ascii=False)
    assert world.well_a.code not in json.dumps(geo)


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_public_pages_for_anyone(world: Any, history: int, lang: str) -> None:
    c = Client()
    c.cookies["django_language"] = lang
    for url in (
        "/portal/", f"/portal/wells/{snapshot.public_code(world.monitoring_a)}/", "/portal/zones/",
        "/portal/withdrawals/", "/portal/trades/", "/portal/progress/", "/portal/news/",
        "/portal/regulations/", "/portal/data/", "/portal/complaints/new/",
        "/portal/complaints/follow/",
    ):  # fmt: skip
        r = c.get(url)
        assert r.status_code == 200, url
    code = snapshot.public_code(world.monitoring_a)
    home = c.get("/portal/").content.decode()
    assert code in home
    well = c.get(f"/portal/wells/{code}/").content.decode()
    assert "<polyline" in well
    assert ("rising" if lang == "en" else "回升") in well
    assert c.get("/portal/wells/NO-SUCH/").status_code == 404


def test_downloads_carry_licence_and_date(world: Any, history: int) -> None:
    csv = Client().get("/portal/data/wells.csv")
    assert csv.status_code == 200 and "CC BY 4.0" in csv.content.decode()
    assert snapshot.public_code(world.monitoring_b) in csv.content.decode()
    zones = Client().get("/portal/data/zones.geojson").json()
    assert zones["licence"] == "CC BY 4.0" and zones["generated"]
    assert zones["features"][0]["properties"]["kind"] == "prohibited"
    assert zones["features"][0]["properties"]["for_residents"]
    w = Client().get("/portal/data/withdrawals.csv")
    assert w.status_code == 200 and world.township_a.name in w.content.decode()
    assert Client().get("/portal/data/wells.xlsx").status_code == 404
    api = Client().get("/api/portal/wells").json()
    assert api["count"] == 2
    code = snapshot.public_code(world.monitoring_a)
    assert Client().get(f"/api/portal/wells/{code}").json()["hydrograph"]


def test_price_index_shows_a_median_only_from_five_trades(monkeypatch: Any) -> None:
    when = timezone.now()

    def trade(price: float, use: str) -> Any:
        return SimpleNamespace(completed_at=when, use_type=use, price=price, volume_m3=100)

    trades = [trade(p, "agricultural") for p in (1, 2, 3, 4, 5)] + [
        trade(p, "industrial") for p in (7, 9)
    ]
    monkeypatch.setattr(figures, "completed_trades", lambda: trades)
    cells = {c.use_type: c for c in figures.price_index()}
    assert cells["agricultural"].median == 3 and cells["agricultural"].trades == 5
    assert cells["industrial"].median is None and cells["industrial"].trades == 2


def test_progress_panels_extension_point(world: Any) -> None:
    saved = dict(panels._PANELS)  # the governance apps' own (portal/wiring.py)
    panels._PANELS.clear()
    try:
        page = Client().get("/portal/progress/").content.decode()
        assert "尚未公布" in page
        panel = panels.Panel("closure", "封井进度", "", ["乡镇", "已封"], lambda: [["凤城镇", 3]])
        panels.register_panel(panel)
        page = Client().get("/portal/progress/").content.decode()
        assert "封井进度" in page and "凤城镇" in page
        api = Client().get("/api/portal/panels").json()
        assert api[0]["published"] and api[0]["rows"] == [["凤城镇", "3"]]
    finally:
        panels._PANELS.clear()
        panels._PANELS.update(saved)


def test_news_written_by_the_bureau(world: Any) -> None:
    bureau = world.client("bureau")
    r = bureau.post(
        "/portal/manage/news/",
        {"kind": "notice", "title": "停水通知", "body": "明日停水。", "published": "on",
         "published_at": "2026-01-01 08:00"},
    )  # fmt: skip
    assert r.status_code == 302, r.content
    item = NewsItem.objects.get()
    NewsItem.objects.create(title="草稿", body="未发布")
    listing = Client().get("/portal/news/").content.decode()
    assert "停水通知" in listing and "草稿" not in listing
    assert Client().get(f"/portal/news/{item.pk}/").status_code == 200
    assert world.client("township").get("/portal/manage/news/").status_code == 403
    assert Client().get("/portal/manage/news/").status_code == 302  # to the login
    assert Client().get("/api/portal/news").json()[0]["title"] == "停水通知"


def test_regulations_come_from_the_rule_sources() -> None:
    docs = {r.document for r in figures.regulations()}
    assert "地下水管理条例" in docs and "取水许可和水资源费征收管理条例" in docs


def test_demo_has_complaints_in_every_state_and_news(world: Any) -> None:
    from aquifer.portal import demo
    from aquifer.portal.models import Complaint, ComplaintState

    first = demo.build(log=lambda s: None)
    assert first["complaints"] == len(demo.COMPLAINTS) and first["news"] == len(demo.NEWS)
    states = set(Complaint.objects.values_list("state", flat=True))
    assert states == set(ComplaintState.values)
    assert any(c.overdue for c in Complaint.objects.all())
    assert Complaint.objects.filter(links__isnull=False).exists()
    again = demo.build(log=lambda s: None)
    assert again["complaints"] == 0 and again["news"] == 0
