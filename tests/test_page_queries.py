"""The county-wide report pages ask the database a fixed number of questions, however many
water users, wells and zones there are (bench/pages.py measures them on the 3,000-well demo).

Each page is requested once to warm up (the stored monthly figures are computed then), then
counted; more users, wells and zones are added; warmed up and counted again: the same count.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import HUANGCHENG, square

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

PAGES = [
    ("bureau", "/accounting/tax/"),
    ("bureau", "/accounting/tax/?month=1"),
    ("township", "/accounting/tax/"),
    ("bureau", "/permits/ledger/"),
    ("township", "/permits/ledger/"),
    ("bureau", "/analysis/balance/"),
    ("public", "/analysis/balance/"),
    ("bureau", "/closure/balance/"),
    ("township", "/accounting/"),
    ("public", "/accounting/"),
    ("bureau", "/accounting/?level=user"),
    ("bureau", "/accounting/?level=well"),
]
USE_TYPES = ["domestic", "agricultural", "industrial"]


def _grow(world: Any, start: int, n: int) -> None:
    """``n`` more water users, each with a well, in both townships, and a zone each third."""
    from aquifer.core.audit import audit_context
    from aquifer.registry.models import WaterUser, Well, Zone

    with audit_context(source="test"):
        for i in range(start, start + n):
            town = world.township_a if i % 2 else world.township_b
            user = WaterUser.objects.create(
                name=f"用户{i}", use_type=USE_TYPES[i % 3], township=town
            )
            well = Well(
                code=f"W-G-{i}", depth_m=100, layer="shallow", purpose="agricultural", owner=user
            )
            well.set_location(112.40 + 0.01 * i, 35.48)
            well.save()
            if i % 3 == 0:
                Zone.objects.create(
                    code=f"Z-G-{i}",
                    name=f"分区{i}",
                    kind="restricted",
                    layer="deep",
                    geometry=square(HUANGCHENG[0] + 0.05 * i, HUANGCHENG[1], 0.005),
                    allowable_extraction_m3=1000,
                )


def _count(client: Any, url: str) -> int:
    assert client.get(url).status_code == 200  # warm-up: the stored figures computed
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(("role", "url"), PAGES)
def test_query_count_does_not_grow_with_rows(world: Any, role: str, url: str) -> None:
    client = world.client(role)
    _grow(world, 0, 3)
    few = _count(client, url)
    _grow(world, 3, 9)
    many = _count(client, url)
    assert many == few, f"{url} as {role}: {few} queries with few rows, {many} with more"


QUOTA_URLS = [
    "/permits/quota-use/",
    "/permits/quota-use/?over_quota=on",
    "/permits/quota-use/?sort=-share",
    "/api/permits/quota-use/?limit=500",
    "/api/permits/export?what=quota-use&format=csv",
    "/permits/quota-use/export/?format=csv",
]


def _permits(world: Any, start: int, n: int) -> None:
    """An active permit for each well grown by :func:`_grow` from ``start`` (every third
    one unnumbered: it goes by its application on the page)."""
    from aquifer.core.audit import audit_context
    from aquifer.permits.models import Permit, PermitApplication
    from aquifer.registry.models import Well

    with audit_context(source="test"):
        for i in range(start, start + n):
            well = Well.objects.get(code=f"W-G-{i}")
            p = Permit.objects.create(
                number=f"G-{i}" if i % 3 else None, holder=well.owner, source="shallow",
                use_type="domestic", annual_quota_m3=100 + i, status="active",
            )  # fmt: skip
            p.wells.set([well])
            PermitApplication.objects.create(
                permit=p,
                kind="new",
                status="approved",
                received_on=dt.date(2026, 1, 5),
                deadline=dt.date(2026, 3, 9),
            )


@pytest.mark.parametrize("url", QUOTA_URLS)
@pytest.mark.parametrize("role", ["bureau", "township"])
def test_quota_use_query_count_does_not_grow_with_permits(world: Any, role: str, url: str) -> None:
    """The quota-use page, its API list and its exports: more users, wells and permits, the
    same number of queries."""
    client = world.client(role)
    _grow(world, 0, 3)
    _permits(world, 0, 3)
    few = _count(client, url)
    _grow(world, 3, 12)
    _permits(world, 3, 12)
    many = _count(client, url)
    assert many == few, f"{url} as {role}: {few} queries with few rows, {many} with more"


def _grow_monitoring(world: Any, start: int, n: int) -> None:
    """``n`` more level monitoring wells, alternately in both townships, each with a level
    logger (daily means this month and a year before) and a manual sounding a year before."""
    import datetime as dt

    from django.utils import timezone

    from aquifer.analysis.models import LevelMeasurement
    from aquifer.core.audit import audit_context
    from aquifer.registry.models import Device, MonitoringWell, WaterUser, Well
    from aquifer.telemetry.models import ReadingDaily

    today = timezone.localdate().replace(day=1)
    with audit_context(source="test"):
        for i in range(start, start + n):
            town = world.township_a if i % 2 else world.township_b
            user = WaterUser.objects.create(name=f"监测{i}", use_type="domestic", township=town)
            well = Well(
                code=f"W-M-{i}", depth_m=100, layer="shallow", purpose="monitoring", owner=user
            )
            well.set_location(112.40 + 0.01 * i, 35.50)
            well.save()
            device = Device.objects.create(
                kind="level_logger", protocol="SZY206", station_address=f"14059{i:05d}", well=well
            )
            mw = MonitoringWell.objects.create(well=well)
            for day, depth in ((today.replace(year=today.year - 1), 21.0), (today, 20.0 + i)):
                at = timezone.make_aware(dt.datetime(day.year, day.month, day.day, 0))
                ReadingDaily.objects.create(
                    device=device,
                    element="depth_to_water",
                    bucket=at,
                    n=2,
                    min=depth,
                    max=depth,
                    sum=2 * depth,
                    first=depth,
                    last=depth,
                    first_at=at,
                    last_at=at,
                )
            LevelMeasurement.objects.create(
                monitoring_well=mw,
                element="depth_to_water",
                measured_at=timezone.make_aware(dt.datetime(today.year - 1, today.month, 2, 9)),
                value=22.0,
            )


@pytest.mark.parametrize(
    ("role", "url"),
    [("bureau", "/closure/recovery/"), ("township", "/closure/recovery/")],
)
def test_recovery_query_count_does_not_grow_with_monitoring_wells(
    world: Any, role: str, url: str
) -> None:
    client = world.client(role)
    _grow_monitoring(world, 0, 2)
    few = _count(client, url)
    _grow_monitoring(world, 2, 8)
    many = _count(client, url)
    assert many == few, f"{url} as {role}: {few} queries with few wells, {many} with more"
    if role == "bureau":  # every added well is on the page
        page = client.get(url).content.decode()
        assert all(f"W-M-{i}" in page for i in range(10))


@pytest.mark.parametrize("role", ["bureau", "township"])
def test_audit_page_names_referenced_records_in_a_fixed_number_of_queries(
    world: Any, role: str
) -> None:
    """The trail of wells names each well's owner and township (records not on the page):
    one query per kind of record, not one per record referenced."""
    client = world.client(role)
    url = "/audit/?object_type=registry.well"
    _grow(world, 0, 3)
    few = _count(client, url)
    _grow(world, 3, 18)
    many = _count(client, url)
    from aquifer.core.scoping import visible_to
    from aquifer.registry.models import Well

    seen = visible_to(world.accounts[role], "view", Well).filter(code__startswith="W-G-")
    owner = seen.order_by("-pk").select_related("owner").first().owner
    html = client.get(url).content.decode()
    assert owner.name in html  # an owner, named though its own entry is not on the page
    assert many == few, f"/audit/ as {role}: {few} queries with few entries, {many} with more"


def test_audit_page_names_records_whose_names_read_another_in_fixed_queries(world: Any) -> None:
    """An application is named after its permit: the permits are joined in, not fetched one
    by one."""
    client = world.client("bureau")
    url = "/audit/?object_type=permits.permitapplication"
    _grow(world, 0, 21)
    _permits(world, 0, 3)
    few = _count(client, url)
    _permits(world, 3, 18)
    many = _count(client, url)
    assert "G-20" in client.get(url).content.decode()  # named after its permit
    assert many == few, f"/audit/: {few} queries with few applications, {many} with more"


def _trades(world: Any, start: int, n: int) -> None:
    """``n`` completed trades between township A and B (a row each on the market page)."""
    from django.utils import timezone

    from aquifer.core.audit import audit_context
    from aquifer.rights.models import Trade

    with audit_context(source="test"):
        for i in range(start, start + n):
            Trade.objects.create(
                number=f"SQ-T-{i}", mode="agreement", trade_type="user", seller_account_key=f"s{i}",
                buyer_account_key=f"b{i}", seller_name=f"出让方{i}", buyer_name=f"受让方{i}",
                seller_township=world.township_a, buyer_township=world.township_b,
                use_type="industrial", buyer_use_type="industrial", source="shallow",
                volume_m3=100 + i, price="1.50", start_year=2026, end_year=2026,
                status="completed", completed_at=timezone.now(),
            )  # fmt: skip


@pytest.mark.parametrize("role", ["public", "bureau"])
def test_market_names_each_trades_parties_without_a_query_each(world: Any, role: str) -> None:
    client = world.client(role)
    _trades(world, 0, 2)
    few = _count(client, "/rights/")
    _trades(world, 2, 12)
    many = _count(client, "/rights/")
    assert "出**3" in client.get("/rights/").content.decode()  # masked (DISCLOSE_PARTIES)
    assert many == few, f"/rights/ as {role}: {few} queries with 2 trades, {many} with 14"
