"""Data arrival rate (到报率): received / expected reports by each device's schedule."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aquifer.monitoring import arrival
from aquifer.monitoring.health import local_day_start
from aquifer.registry.models import Device
from aquifer.telemetry.models import ReadingDaily

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 3, 1)


def daily(device: Any, day: dt.date, n: int, element: str = "depth_to_water") -> None:
    at = local_day_start(day)
    ReadingDaily.objects.create(
        device=device,
        element=element,
        bucket=at,
        n=n,
        min=1,
        max=1,
        sum=n,
        first=1,
        last=1,
        first_at=at,
        last_at=at,
    )


def test_rate_per_device_township_and_county(world: Any) -> None:
    world.device_a.reporting_interval_min = 60  # 24 a day
    world.device_a.save()
    world.device_b.reporting_interval_min = 240  # 6 a day
    world.device_b.save()
    daily(world.device_a, DAY, 24)
    daily(world.device_a, DAY, 30, "battery_voltage")  # more than expected: capped at 24
    daily(world.device_a, DAY + dt.timedelta(days=1), 12)
    daily(world.device_b, DAY, 3)
    qs = Device.objects.all()
    end = DAY + dt.timedelta(days=1)
    devices = {a.key: a for a in arrival.arrival_rates(qs, DAY, end, "device")}
    assert (devices[world.device_a.pk].received, devices[world.device_a.pk].expected) == (36, 48)
    assert (devices[world.device_b.pk].received, devices[world.device_b.pk].expected) == (3, 12)
    towns = {a.key: a for a in arrival.arrival_rates(qs, DAY, end, "township")}
    assert towns[world.township_a.pk].rate == pytest.approx(0.75)
    (county,) = arrival.arrival_rates(qs, DAY, end, "county")
    assert (county.received, county.expected, county.devices) == (39, 60, 2)


def test_installed_mid_period_and_inactive(world: Any) -> None:
    world.device_a.installed_on = DAY + dt.timedelta(days=1)
    world.device_a.save()
    world.device_b.active = False
    world.device_b.save()
    (a,) = arrival.arrival_rates(Device.objects.all(), DAY, DAY + dt.timedelta(days=2), "device")
    assert a.key == world.device_a.pk and a.expected == 2 * 24


def test_query_count_does_not_grow_with_devices(world: Any) -> None:
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            arrival.arrival_rates(Device.objects.all(), DAY, DAY, "township")
        return len(ctx.captured_queries)

    before = count()
    for k in range(20):
        Device.objects.create(
            kind="flow_meter", protocol="SL651", station_address=f"99{k:08d}", well=world.well_a
        )
    assert count() == before


def test_api_and_health_page(world: Any) -> None:
    daily(world.device_a, DAY, 24)
    c = world.client("township")
    r = c.get(f"/api/monitoring/arrival/?level=device&start={DAY}&end={DAY}")
    assert r.status_code == 200
    assert [row["key"] for row in r.json()] == [world.device_a.pk]  # own township only
    assert r.json()[0]["rate"] == 1.0
    bad = c.get(f"/api/monitoring/arrival/?start={DAY}&end={DAY - dt.timedelta(days=1)}")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "start"
    page = world.client("bureau").get("/health/")
    assert page.status_code == 200 and b'id="arrival-table"' in page.content


def test_stored_days_then_rollups(world: Any) -> None:
    """Days the health job stored are read from its figures; later days from the rollups."""
    from aquifer.monitoring.models import DeviceHealthDaily

    for d, got in ((world.device_a, 20), (world.device_b, 0)):
        DeviceHealthDaily.objects.create(
            device=d, township=d.well.township, day=DAY, expected=24, received=got, online=got > 0
        )
    daily(world.device_a, DAY, 999)  # ignored: the stored figure wins for that day
    daily(world.device_a, DAY + dt.timedelta(days=1), 24)
    qs = Device.objects.all()
    end = DAY + dt.timedelta(days=1)
    towns = {a.key: a for a in arrival.arrival_rates(qs, DAY, end, "township")}
    a = towns[world.township_a.pk]
    assert (a.received, a.expected) == (44, 48)
    (county,) = arrival.arrival_rates(qs, DAY, end, "county")
    assert (county.received, county.expected) == (44, 96)
    # A long window reads the stored days by a scan (SQLite): the same figures.
    long = {a.key: a for a in arrival.arrival_rates(qs, DAY - dt.timedelta(days=200), end)}
    assert (long[world.township_a.pk].received, long[world.township_a.pk].expected) == (44, 48)
    mine = Device.objects.filter(well__township=world.township_a)
    (only,) = arrival.arrival_rates(mine, DAY, end, "device")
    assert only.key == world.device_a.pk and only.received == 44
