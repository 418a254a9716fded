"""Shared fixtures: one account per role, and registry records in two townships.

Townships come from the data migration (Yangcheng's 15 current ones). ``world`` builds, in
凤城镇 (A) and 北留镇 (B): a water user, a well of that user, a device on the well and a
monitoring well; plus a shallow prohibited zone around the Huangcheng Xiangfu scenic area.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from aquifer.core.roles import Role

HUANGCHENG = (112.5895, 35.5199)

# `aquifer serve` / `aquifer demo` in tests serve the static files from the packages; the one
# test of collected files (tests/core/test_static.py) collects them into a directory of its own.
os.environ.setdefault("AQUIFER_COLLECTSTATIC", "0")


def square(lon: float, lat: float, half: float) -> dict[str, Any]:
    return {
        "type": "Polygon",
        "coordinates": [
            [
                [lon - half, lat - half],
                [lon + half, lat - half],
                [lon + half, lat + half],
                [lon - half, lat + half],
                [lon - half, lat - half],
            ]
        ],
    }


#: Fixtures through which a test reaches the database (pytest-django's, and what needs them).
DATABASE_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "live_server"}


def pytest_addoption(parser: Any) -> None:
    parser.addoption(
        "--database-tests-only",
        action="store_true",
        help="leave out the tests that never reach the database (the PostgreSQL pass: the "
        "codecs, rule engine and other pure cores gain nothing from running twice)",
    )


def reaches_database(item: Any) -> bool:
    """Whether a test reaches the database: through pytest-django's fixtures or mark, or
    marked ``database``/``postgres`` (its own processes on the pass's database)."""
    if DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())):
        return True
    return any(item.get_closest_marker(m) for m in ("django_db", "database", "postgres"))


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    if not config.getoption("--database-tests-only"):
        return
    kept, left = [], []
    for item in items:
        (kept if reaches_database(item) else left).append(item)
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = kept


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """PBKDF2's deliberate slowness is for production; tests hash many passwords."""
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",  # device secrets name it
    ]


@dataclass
class World:
    township_a: Any
    township_b: Any
    user_a: Any
    user_b: Any
    well_a: Any
    well_b: Any
    device_a: Any
    device_b: Any
    monitoring_a: Any
    monitoring_b: Any
    zone: Any
    accounts: dict[str, Any]

    def client(self, role: str) -> Client:
        c = Client()
        if role != "anonymous":
            c.force_login(self.accounts[role])
        return c


@pytest.fixture
def world(db: Any) -> World:
    from aquifer.core.audit import audit_context
    from aquifer.core.models import User
    from aquifer.registry.models import Device, MonitoringWell, Township, WaterUser, Well, Zone

    ta = Township.objects.get(code="140522100")  # 凤城镇
    tb = Township.objects.get(code="140522101")  # 北留镇
    with audit_context(source="test"):
        zone = Zone.objects.create(
            code="JC-HCXF",
            name="皇城相府景区禁采区",
            kind="prohibited",
            layer="shallow",
            geometry=square(*HUANGCHENG, 0.01),
            allowable_extraction_m3=0,
            designation_document="阳水字〔2022〕100号",
            supervising_township=tb,
        )
        ua = WaterUser.objects.create(
            name="凤城供水站", use_type="domestic", township=ta, uscc="91110000600037341L"
        )
        ub = WaterUser.objects.create(name="北留农业合作社", use_type="agricultural", township=tb)
        wa = Well(code="W-A-1", depth_m=120, layer="shallow", purpose="domestic", owner=ua)
        wa.set_location(112.417, 35.486)
        wa.save()
        wb = Well(code="W-B-1", depth_m=80, layer="shallow", purpose="agricultural", owner=ub)
        wb.set_location(112.573, 35.533)
        wb.save()
        da = Device.objects.create(
            kind="flow_meter", protocol="SL651", station_address="0014052201", well=wa
        )
        db_ = Device.objects.create(
            kind="level_logger", protocol="SZY206", station_address="1405220002", well=wb
        )
        ma = MonitoringWell.objects.create(well=wa)
        mb = MonitoringWell.objects.create(well=wb, monitors_quality=True)
    pw = "Aquifer-test-2026"
    accounts = {
        "bureau": User.objects.create_user("bureau", password=pw, role=Role.BUREAU),
        "township": User.objects.create_user(
            "officer_a", password=pw, role=Role.TOWNSHIP, township=ta
        ),
        "water_user": User.objects.create_user(
            "user_a", password=pw, role=Role.WATER_USER, water_user=ua
        ),
        "inspector": User.objects.create_user("inspector", password=pw, role=Role.INSPECTOR),
        "public": User.objects.create_user("citizen", password=pw, role=Role.PUBLIC),
    }
    return World(ta, tb, ua, ub, wa, wb, da, db_, ma, mb, zone, accounts)


def require_or_skip(available: bool, what: str) -> None:
    """Skip when a dependency is missing — except under CI=true, where that is a failure."""
    import os

    if available:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is required under CI=true")
    pytest.skip(f"{what} is not available")


def fresh_database_of_this_pass(tmp_path: Any, name: str) -> dict[str, str]:
    """A migrated, empty database of the kind this pass runs on (SQLite in the first,
    PostgreSQL in the second), of its own: for tests whose processes or threads must commit
    (``aquifer.rights.stress.fresh_database``; PostgreSQL ones are dropped with its
    ``drop_database``). Its environment."""
    import os

    from aquifer.rights import stress

    if connection.vendor != "postgresql":
        return stress.fresh_database("sqlite", str(tmp_path), name=name)
    url = os.environ.get("DATABASE_URL", "")
    pg = url if url.startswith("postgres") else os.environ.get("AQUIFER_TEST_PG_URL")
    available = False
    if pg:
        try:
            import psycopg

            with psycopg.connect(f"{pg.rpartition('/')[0]}/postgres", connect_timeout=3):
                available = True
        except Exception:
            available = False
    require_or_skip(available, "PostgreSQL")
    return stress.fresh_database("postgres", str(tmp_path), pg, name=name)


@pytest.fixture
def watermark_below_the_next_id(db: Any) -> None:
    """As in a database where every reading so far was merged: the watermark just below the
    next reading id. (A test's rollback resets the watermark row but, on PostgreSQL, not the
    id sequence, which earlier tests have moved on.)"""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence('telemetry_reading', 'id')")
        (sequence,) = cursor.fetchone()
        cursor.execute(f"SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM {sequence}")
        (last,) = cursor.fetchone()
    from aquifer.telemetry.models import RollupWatermark

    RollupWatermark.objects.update_or_create(
        pk=1, defaults={"reading_id": last, "window_end": last, "next_device": 0}
    )
