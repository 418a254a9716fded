"""The home page: each role's morning view (core/morning.py and the apps' morning.py).

Each role sees its figures, scoped to what it may see; a figure's link opens the list behind
it, which shows as many rows as the figure says; the public goes to the portal; and the
page's query count does not grow with the number of wells and alarms."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from aquifer.core import morning
from aquifer.core.audit import audit_context

pytestmark = pytest.mark.django_db

FIGURE = re.compile(
    r'data-figure="(?P<key>[^"]+)">\s*(?:<a href="(?P<url>[^"]*)">)?\s*'
    r'<span class="figure-value">(?P<value>[^<]*)<'
)


def figures(html: str) -> dict[str, tuple[str, str]]:
    """{figure key: (value as printed, link)} of a morning page."""
    return {
        m["key"]: (m["value"], (m["url"] or "").replace("&amp;", "&"))
        for m in FIGURE.finditer(html)
    }


def page(world: Any, role: str) -> dict[str, tuple[str, str]]:
    r = world.client(role).get("/")
    assert r.status_code == 200, role
    return figures(r.content.decode())


def rows_behind(client: Any, url: str) -> int:
    """How many rows the list at ``url`` holds (its paginator's count)."""
    r = client.get(url)
    assert r.status_code == 200, url
    page_obj = r.context.get("page_obj")
    if page_obj is None:
        page_obj = r.context["table"].page
    return int(page_obj.paginator.count)


def alarm(world: Any, n: int, *, severity: str = "warning", kind: str = "device_offline",
          device: Any = None) -> None:  # fmt: skip
    from aquifer.monitoring.alarms import raise_alarm

    device = device or world.device_a
    with audit_context(source="test"):
        for i in range(n):
            raise_alarm(kind=kind, key=f"{kind}:{device.pk}:{severity}:{i}", title="x",
                        severity=severity, device=device)  # fmt: skip


def test_anonymous_and_public_go_to_the_portal(world: Any) -> None:
    for role in ("anonymous", "public"):
        r = world.client(role).get("/")
        assert r.status_code == 302 and r["Location"] == "/portal/", role


def test_the_county_map_keeps_its_own_address(world: Any) -> None:
    for role in ("anonymous", "bureau", "township"):
        html = world.client(role).get("/map/").content.decode()
        assert 'id="map"' in html, role


def test_each_role_sees_its_figures(world: Any) -> None:
    bureau = page(world, "bureau")
    for key in (
        "monitoring.alarms.severity.critical",
        "monitoring.online_rate",
        "monitoring.arrival_rate",
        "accounting.month_withdrawal",
        "permits.over_quota",
        "permits.applications_due",
        "analysis.wells_falling",
        "supervision.overdue_orders",
        "portal.awaiting_reply",
    ):
        assert key in bureau, key
    township = page(world, "township")
    assert "monitoring.alarms.severity.warning" in township
    assert "enforcement.overdue" not in township
    inspector = page(world, "inspector")
    assert "enforcement.overdue" in inspector and "enforcement.state.filed" in inspector
    assert "monitoring.alarms.severity.warning" not in inspector
    user = page(world, "water_user")
    assert "monitoring.my_alarms" in user and "permits.over_quota" not in user
    # its own wells' month, not the county's months by township it may not open
    assert "level=well" in user["accounting.my_month_withdrawal"][1]
    assert (
        world.client("water_user").get(user["accounting.my_month_withdrawal"][1]).status_code == 200
    )
    assert bureau["accounting.month_withdrawal"][1].startswith("/accounting/")


def test_the_township_officer_sees_its_township_and_its_map(world: Any) -> None:
    alarm(world, 2, severity="critical", device=world.device_a)
    alarm(world, 3, severity="critical", device=world.device_b)
    assert page(world, "bureau")["monitoring.alarms.severity.critical"][0] == "5"
    mine = page(world, "township")
    assert mine["monitoring.alarms.severity.critical"][0] == "2"
    assert mine["monitoring.alarms.kind.device_offline"][0] == "2"
    html = world.client("township").get("/").content.decode()
    assert 'id="morning-map"' in html and 'id="map"' in html
    assert world.township_a.name in html
    # The map is fitted to the township, not the county.
    config = re.search(r'id="map-config"[^>]*>(.*?)</script>', html, re.S)
    assert config is not None and '"bounds"' in config.group(1)
    assert 'id="morning-map"' not in world.client("bureau").get("/").content.decode()


def test_alarm_figures_link_to_a_list_of_that_many_rows(world: Any) -> None:
    alarm(world, 2, severity="critical", device=world.device_a)
    alarm(world, 1, severity="info", kind="low_battery", device=world.device_a)
    alarm(world, 4, severity="warning", device=world.device_b)
    for role in ("bureau", "township"):
        client = world.client(role)
        shown = page(world, role)
        for key in (
            "monitoring.alarms.severity.critical",
            "monitoring.alarms.severity.warning",
            "monitoring.alarms.kind.device_offline",
            "monitoring.alarms.kind.low_battery",
        ):
            value, url = shown[key]
            assert rows_behind(client, url) == int(value), (role, key)


def test_permit_figures(world: Any) -> None:
    from aquifer.permits.models import Permit, PermitApplication, PermitStatus
    from aquifer.permits.services.common import calendar

    today = timezone.localdate()
    with audit_context(source="test"):
        permits = []
        for i, (well, holder, until) in enumerate(
            [
                (world.well_a, world.user_a, today + dt.timedelta(days=30)),
                (world.well_a, world.user_a, today + dt.timedelta(days=400)),
                (world.well_b, world.user_b, today + dt.timedelta(days=10)),
            ]
        ):
            p = Permit.objects.create(
                number=f"P-{i}", holder=holder, source="shallow", use_type="domestic",
                annual_quota_m3=1_000, status=PermitStatus.ACTIVE, valid_until=until,
            )  # fmt: skip
            p.wells.set([well])
            permits.append(p)
        soon = calendar().add_working_days(today, 3)
        late = calendar().add_working_days(today, 30)
        for p, deadline in ((permits[0], soon), (permits[1], late), (permits[2], soon)):
            PermitApplication.objects.create(
                permit=p, kind="renewal", status="submitted", received_on=today, deadline=deadline
            )
    bureau = page(world, "bureau")
    assert bureau["permits.applications_due"][0] == "2"
    assert page(world, "township")["permits.applications_due"][0] == "1"
    value, url = bureau["permits.applications_due"]
    assert rows_behind(world.client("bureau"), url) == 2
    user = page(world, "water_user")
    value, url = user["permits.my_expiry"]
    assert value == "1" and rows_behind(world.client("water_user"), url) == 1
    # Used as the quota-use page shows it (the home page above made the stored figures
    # fresh: the world's wells have no meter, their withdrawal is estimated).
    from aquifer.permits import reports

    mine = Permit.objects.filter(holder=world.user_a, status=PermitStatus.ACTIVE)
    used = sum(r.used_m3 for r in reports.quota_rows(mine, today.year))
    assert user["permits.my_quota"][0] == f"{used:,.0f} / 2,000"


def test_permits_over_quota(world: Any) -> None:
    """The figure counts the permits the quota-use page shows above their quota: the rows
    behind its link, each with a share above 100 %."""
    from aquifer.accounting.models import WithdrawalMonth
    from aquifer.permits import reports
    from aquifer.permits.models import Permit, PermitStatus
    from aquifer.registry.models import Well

    today = timezone.localdate()
    year = today.year
    with audit_context(source="test"):
        for i, well in enumerate((world.well_a, world.well_b)):
            p = Permit.objects.create(
                number=f"Q-{i}", holder=well.owner, source="shallow", use_type="domestic",
                annual_quota_m3=100, status=PermitStatus.ACTIVE,
            )  # fmt: skip
            p.wells.set([well])
        # Every well's figures stored and fresh (nothing left for accounting to compute).
        used = {world.well_a.pk: 150.0, world.well_b.pk: 50.0}
        WithdrawalMonth.objects.bulk_create(
            WithdrawalMonth(well_id=w, year=year, month=m,
                            metered_m3=used.get(w, 0.0) if m == 1 else 0.0)
            for w in Well.objects.values_list("pk", flat=True)
            for m in range(1, today.month + 1)
        )  # fmt: skip
    for role in ("bureau", "township"):
        value, url = page(world, role)["permits.over_quota"]
        assert value == "1", role
        r = world.client(role).get(url)
        rows = [row.record for row in r.context["table"].page.object_list]
        assert [row.permit.number for row in rows] == ["Q-0"], role
        assert rows[0].used_m3 == 150.0
    every = reports.quota_rows(Permit.objects.filter(status=PermitStatus.ACTIVE), year)
    assert [r.permit.number for r in every if r.used_m3 > r.quota_m3] == ["Q-0"]


def test_wells_falling_link_to_that_many_trends(world: Any) -> None:
    from aquifer.analysis.models import WellTrend

    today = timezone.localdate()
    for mw, status in ((world.monitoring_a, "falling"), (world.monitoring_b, "falling")):
        WellTrend.objects.create(monitoring_well=mw, computed_on=today, status=status,
                                 element="depth_to_water", test="mk", trend="increasing",
                                 window_trend="increasing")  # fmt: skip
    value, url = page(world, "bureau")["analysis.wells_falling"]
    assert value == "2" and rows_behind(world.client("bureau"), url) == 2
    value, url = page(world, "township")["analysis.wells_falling"]
    assert value == "1" and rows_behind(world.client("township"), url) == 1


def test_inspector_sees_cases_by_step_and_deadline(world: Any) -> None:
    from aquifer.enforcement import services
    from aquifer.enforcement.models import Case

    inspector = world.accounts["inspector"]
    now = timezone.now()
    cases = [
        services.open_case("no_meter", "inspection", by=inspector, well=w)
        for w in (world.well_a, world.well_a, world.well_b)
    ]
    Case.objects.filter(pk=cases[0].pk).update(due_at=now - dt.timedelta(days=1))
    Case.objects.filter(pk=cases[1].pk).update(due_at=now + dt.timedelta(days=3))
    Case.objects.filter(pk=cases[2].pk).update(due_at=now + dt.timedelta(days=30))
    shown = page(world, "inspector")
    client = world.client("inspector")
    assert shown["enforcement.state.open"][0] == "3"
    for key, expected in (("enforcement.overdue", 1), ("enforcement.due_soon", 1)):
        value, url = shown[key]
        assert int(value) == expected and rows_behind(client, url) == expected, key
    assert rows_behind(client, shown["enforcement.state.open"][1]) == 3


def test_the_query_count_does_not_grow_with_the_rows(world: Any) -> None:
    from aquifer.monitoring.models import DeviceHealthDaily
    from aquifer.registry.models import Device, MonitoringWell, Well

    def queries(role: str) -> int:
        client = world.client(role)
        client.get("/")  # warm caches (sessions, spatial index)
        # Counted by a wrapper: the request's own reset_queries would empty a captured log.
        seen: list[str] = []

        def count(execute: Any, sql: str, *args: Any) -> Any:
            seen.append(sql)
            return execute(sql, *args)

        with connection.execute_wrapper(count):
            assert client.get("/").status_code == 200
        assert len(seen) > 5, role
        return len(seen)

    def grow(n: int) -> None:
        yesterday = timezone.localdate() - dt.timedelta(days=1)
        with audit_context(source="test"):
            for i in range(n):
                w = Well(code=f"W-X-{Well.objects.count()}", depth_m=50, layer="shallow",
                         purpose="domestic", owner=world.user_a)  # fmt: skip
                w.set_location(112.417 + 0.001 * (i % 5), 35.486)
                w.save()
                d = Device.objects.create(kind="flow_meter", protocol="SL651",
                                          station_address=f"99{w.pk:08d}", well=w)  # fmt: skip
                MonitoringWell.objects.create(well=w)
                DeviceHealthDaily.objects.create(device=d, township=w.township, day=yesterday,
                                                 expected=24, received=20, online=True)  # fmt: skip
                alarm(world, 1, severity=("critical", "warning")[i % 2], device=d)

    grow(2)
    before = {r: queries(r) for r in ("bureau", "township", "water_user", "inspector")}
    grow(12)
    after = {r: queries(r) for r in ("bureau", "township", "water_user", "inspector")}
    assert after == before


def test_a_figure_needs_a_policy_and_a_known_group() -> None:
    with pytest.raises(ValueError):
        morning.register("x.y", group="alarms", order=1, policy="", compute=lambda u: None)
    with pytest.raises(ValueError):
        morning.register("x.y", group="nowhere", order=1, policy="core.morning",
                         compute=lambda u: None)  # fmt: skip
    with pytest.raises(ValueError):
        morning.Figure(1, "x", tone="purple")


def test_english(world: Any) -> None:
    c = world.client("bureau")
    c.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = c.get("/").content.decode()
    assert "今日" not in html and "告警" not in html


def test_a_water_users_meter_shows_its_latest_value(world: Any) -> None:
    """DeviceState keeps each element as [observed_at, value]: the figure prints the value."""
    from aquifer.monitoring.models import DeviceState

    DeviceState.objects.update_or_create(
        device=world.device_a,
        defaults={
            "state": "online",
            "last_values": {"cumulative_volume": ["2026-12-07T02:20:00+00:00", 589867.0]},
        },
    )
    value, url = page(world, "water_user")[f"monitoring.meter.{world.device_a.pk}"]
    assert value.replace(",", "") in ("589867", "589867.0") and url.endswith("/")


def test_a_figure_loses_its_link_where_the_gate_would_refuse_it(world: Any) -> None:
    from aquifer.core.morning import Figure, _reachable

    water_user = world.accounts["water_user"]
    shown = Figure(1, "x", url="/audit/?x=1")  # the audit trail: not a water user's
    assert _reachable(water_user, shown).url == ""
    assert _reachable(world.accounts["bureau"], shown).url == "/audit/?x=1"
    assert _reachable(water_user, Figure(1, "x", url="/no/such/page/")).url == ""
