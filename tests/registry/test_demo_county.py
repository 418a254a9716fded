"""The demo county as built (zones, wells, organisations, devices, accounts): read-only checks.

The county is built once for the module, inside a transaction rolled back at the end (as
tests/test_crawl.py does); each test runs in its own savepoint within it, so what a test
writes (a login's session) is undone before the next. Tests that build, rebuild or change the
demo are in test_demo.py.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from django.test import Client, override_settings
from shapely.geometry import Point
from stdnum.cn import uscc

from aquifer.core.geometry import area_km2, parse_polygon
from aquifer.core.roles import Role
from aquifer.registry.choices import AquiferLayer, ZoneKind
from aquifer.registry.demo import (
    ACCOUNTS,
    BEILIU,
    CLOSURE_VILLAGES,
    DEMO_PASSWORD,
    FENGCHENG,
    XIHE,
    build_demo,
    demo_device_secret,
)

HUANGCHENG = (112.5895, 35.5199)
WELLS = 60
FAST_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]


@pytest.fixture(scope="module")
def demo_county(django_db_setup: Any, django_db_blocker: Any) -> Iterator[dict[str, Any]]:
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        atomic = transaction.atomic()
        atomic._from_testcase = True  # as TestCase does: durable blocks inside stay allowed
        atomic.__enter__()
        try:
            yield build_demo(wells=WELLS)
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture
def demo(demo_county: dict[str, Any], db: Any, settings: Any) -> dict[str, Any]:
    settings.PASSWORD_HASHERS = FAST_HASHERS
    return demo_county


@pytest.mark.parametrize(
    ("layer", "radius_km"), [(AquiferLayer.SHALLOW, 2.0), (AquiferLayer.DEEP, 1.6)]
)
def test_prohibited_zones_surround_huangcheng_xiangfu(
    demo: dict[str, Any], layer: str, radius_km: float
) -> None:
    from aquifer.registry.models import Zone
    from aquifer.registry.spatial import locate

    zone = Zone.objects.get(kind=ZoneKind.PROHIBITED, layer=layer)
    assert zone.supervising_township is not None
    assert (zone.supervising_township.code, zone.supervising_township.name) == (BEILIU, "北留镇")
    assert zone.designation_document == "阳水字〔2022〕100号"
    assert zone.allowable_extraction_m3 == 0
    geom = parse_polygon(zone.geometry)
    assert geom.contains(Point(HUANGCHENG))
    # A circle of the stated radius, at most slightly clipped by the county outline.
    assert 0.9 * math.pi * radius_km**2 < area_km2(geom) <= math.pi * radius_km**2
    # Precedence: a well drilled there lies in the prohibited zone, not the wider ones.
    assert locate(*HUANGCHENG, layer)[1] == zone.pk


def test_zones_are_valid_inside_the_county_and_of_every_kind(demo: dict[str, Any]) -> None:
    from aquifer.registry.models import Zone
    from aquifer.registry.spatial import outside_county

    zones = list(Zone.objects.all())
    assert {(z.kind, z.layer) for z in zones} == {
        (k, lay) for k in ZoneKind for lay in AquiferLayer
    }
    for zone in zones:
        zone.full_clean()
        assert zone.geometry["type"] == "Polygon"
        assert outside_county(parse_polygon(zone.geometry)) is None
        assert zone.area_km2 > 1
        if zone.kind != ZoneKind.PROHIBITED:
            assert "示意" in zone.notes and "illustrative" in zone.notes


def test_wells_lie_in_the_county_with_their_township_and_zone(demo: dict[str, Any]) -> None:
    from aquifer.registry.models import Well
    from aquifer.registry.spatial import county_geometry, locate

    county = county_geometry()
    wells = list(Well.objects.select_related("township"))
    assert len(wells) == WELLS
    for well in wells:
        assert re.fullmatch(r"140522-W\d{4}", well.code)
        assert county.contains(Point(well.lon, well.lat)), well.code
        assert well.township is not None and well.township.is_current
        assert (well.township_id, well.zone_id) == locate(well.lon, well.lat, well.layer)
        low, high = (30, 150) if well.layer == AquiferLayer.SHALLOW else (300, 900)
        assert low <= well.depth_m <= high, well.code
    assert len({w.township_id for w in wells}) >= 10
    assert {w.status for w in wells} >= {"active", "standby", "closed", "sealed"}
    assert {w.layer for w in wells} == {"shallow", "deep"}
    assert sum(w.purpose == "monitoring" for w in wells) == WELLS // 12


def test_wells_in_the_prohibited_zone_are_closed(demo: dict[str, Any]) -> None:
    from aquifer.registry.models import Well

    inside = Well.objects.filter(zone__kind=ZoneKind.PROHIBITED).exclude(purpose="monitoring")
    assert inside.exists()
    assert set(inside.values_list("status", flat=True)) <= {"closed", "sealed"}


def test_every_organisation_has_a_valid_credit_code(demo: dict[str, Any]) -> None:
    from aquifer.registry.models import WaterUser

    users = list(WaterUser.objects.select_related("township"))
    organisations = [u for u in users if u.uscc]
    assert len(organisations) > 100
    for user in organisations:
        assert uscc.is_valid(user.uscc), (user.name, user.uscc)
        assert user.uscc[2:8] == "140522"
        user.full_clean()
    assert len({u.uscc for u in organisations}) == len(organisations)
    # Those without a code are people (farmers), not organisations.
    for user in users:
        if not user.uscc:
            assert len(user.name) <= 4 and user.contact_person == user.name, user.name
    assert {u.use_type for u in users} == {
        "domestic",
        "agricultural",
        "industrial",
        "ecological",
        "service",
    }
    committees = {u.name: u.township.code for u in users if u.name.endswith("村民委员会")}
    assert committees["岳庄村村民委员会"] in (FENGCHENG, XIHE)
    assert committees["皇城村村民委员会"] == BEILIU
    assert len(committees) == len(CLOSURE_VILLAGES) + 1
    assert any(u.name.endswith("煤业有限公司") for u in users)
    assert any(u.name.endswith("专业合作社") for u in users)


def test_devices_have_unique_addresses_and_known_secrets(demo: dict[str, Any]) -> None:
    from aquifer.registry.models import Device
    from aquifer.registry.models.devices import normalise_station_address

    devices = list(Device.objects.select_related("well", "well__monitoring"))
    assert len(devices) > WELLS // 2
    assert {d.protocol for d in devices} == {"SL651", "SZY206", "MQTT", "HTTP"}
    for device in devices:
        assert normalise_station_address(device.protocol, device.station_address) == (
            device.station_address
        )
        if device.protocol in ("SL651", "SZY206"):
            assert re.fullmatch(r"140522\d{4}", device.station_address)
        assert device.check_secret(demo_device_secret(device.protocol, device.station_address))
        assert not device.check_secret("wrong")
        if device.kind == "level_logger":
            assert device.well.monitoring.monitors_level
        if device.kind == "flow_meter":
            assert device.well.purpose != "monitoring"
            assert device.active == (device.well.status in ("active", "standby"))


def test_one_account_per_role_and_each_logs_in(demo: dict[str, Any]) -> None:
    from aquifer.core.models import User

    accounts = {
        u.username: u for u in User.objects.filter(username__in=[a.username for a in ACCOUNTS])
    }
    assert {u.role for u in accounts.values()} == set(Role)
    for account in ACCOUNTS:
        assert Client().login(username=account.username, password=DEMO_PASSWORD), account
        assert not Client().login(username=account.username, password="wrong-password")
        user = accounts[account.username]
        user.full_clean()
        assert user.role == account.role
    assert accounts["admin"].is_superuser and not accounts["bureau"].is_superuser
    assert accounts["beiliu"].township.code == BEILIU
    assert accounts["fengcheng"].township.code == FENGCHENG
    water_user = accounts["wateruser"].water_user
    assert water_user is not None and water_user.wells.exists()
    assert water_user.name == demo["water_user_account"]


def test_a_township_officer_sees_only_their_township_on_the_map(demo: dict[str, Any]) -> None:
    from aquifer.registry.models import Well

    client = Client()
    assert client.login(username="beiliu", password=DEMO_PASSWORD)
    features = client.get("/api/map/wells.geojson").json()["features"]
    assert {f["properties"]["township"] for f in features} == {"北留镇"}
    assert len(features) == Well.objects.filter(township__code=BEILIU).count() > 0
