"""Pages and API of the monitoring app, for every role (own township vs other)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from aquifer.monitoring import alarms, health, sweeps
from aquifer.monitoring.models import Alarm, ReadingFinding
from aquifer.telemetry.models import Reading
from aquifer.telemetry.store import ReadingRow, ingest

ROLES = ["bureau", "township", "water_user", "inspector", "public", "anonymous"]


@pytest.fixture
def two_alarms(world: Any) -> tuple[Alarm, Alarm]:
    a = alarms.raise_alarm(
        kind="device_offline", key="k:a", title="A offline", device=world.device_a
    )
    b = alarms.raise_alarm(kind="low_battery", key="k:b", title="B battery", device=world.device_b)
    return a, b


# who sees which alarm: a is township A / user A's; b is township B's
SEES = {
    "bureau": {"a", "b"},
    "township": {"a"},
    "water_user": {"a"},
    "inspector": {"a", "b"},
    "public": set(),
    "anonymous": set(),
}
ACTS = {"bureau": {"a", "b"}, "township": {"a"}}
#: Roles with no rule on monitoring data: an API list is refused (anonymous: log in).
REFUSED = {"public": 403, "anonymous": 401}


@pytest.mark.parametrize("role", ROLES)
def test_alarm_board_scope(world: Any, two_alarms: Any, role: str) -> None:
    c = world.client(role)
    r = c.get("/alarms/")
    if role == "anonymous":
        assert r.status_code == 302
        return
    if role == "public":
        assert r.status_code == 403
        return
    assert r.status_code == 200
    text = r.content.decode()
    assert ("A offline" in text) == ("a" in SEES[role])
    assert ("B battery" in text) == ("b" in SEES[role])
    a, b = two_alarms
    for name, alarm in (("a", a), ("b", b)):
        detail = c.get(f"/alarms/{alarm.pk}/")
        assert detail.status_code == (200 if name in SEES[role] else 404)


@pytest.mark.parametrize("role", ROLES)
def test_alarm_api_scope(world: Any, two_alarms: Any, role: str) -> None:
    c = world.client(role)
    r = c.get("/api/alarms/")
    if role in REFUSED:  # no rule on alarms: refused, not an empty list
        assert r.status_code == REFUSED[role]
    else:
        assert r.status_code == 200
        titles = {i["title"] for i in r.json()["items"]}
        assert titles == {"A offline" if n == "a" else "B battery" for n in SEES[role]}
    a, b = two_alarms
    for name, alarm in (("a", a), ("b", b)):
        r = c.post(
            f"/api/alarms/{alarm.pk}/acknowledge", {"note": "seen"}, content_type="application/json"
        )
        if name in ACTS.get(role, set()):
            assert r.status_code == 200, r.content
            assert r.json()["state"] == "acknowledged"
        elif name in SEES[role]:
            assert r.status_code == 403
        else:
            assert r.status_code in (401, 404)


@pytest.mark.parametrize("role", ["bureau", "township"])
def test_htmx_actions_from_the_board(world: Any, two_alarms: Any, role: str) -> None:
    a, _b = two_alarms
    c = world.client(role)
    h = {"HTTP_HX_REQUEST": "true"}
    r = c.post(f"/alarms/{a.pk}/acknowledge/", {}, **h)
    assert r.status_code == 200 and "已确认" in r.content.decode()
    r = c.post(f"/alarms/{a.pk}/resolve/", {"note": ""}, **h)
    assert r.status_code == 422
    r = c.post(f"/alarms/{a.pk}/resolve/", {"note": "fixed the antenna"}, **h)
    assert r.status_code == 200
    a.refresh_from_db()
    assert a.state == "resolved" and a.note == "fixed the antenna"


def test_township_cannot_act_on_another_township(world: Any, two_alarms: Any) -> None:
    _a, b = two_alarms
    r = world.client("township").post(f"/alarms/{b.pk}/close/", {"note": "x"})
    assert r.status_code == 404
    r = world.client("water_user").post(f"/alarms/{two_alarms[0].pk}/close/", {"note": "x"})
    assert r.status_code == 403
    b.refresh_from_db()
    assert b.state == "open"


def test_api_resolve_needs_a_note(world: Any, two_alarms: Any) -> None:
    a, _b = two_alarms
    c = world.client("bureau")
    r = c.post(f"/api/alarms/{a.pk}/resolve", {"note": " "}, content_type="application/json")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "note"
    r = c.post(f"/api/alarms/{a.pk}/close", {"note": "test"}, content_type="application/json")
    assert r.status_code == 200 and r.json()["state"] == "false"
    r = c.post(f"/api/alarms/{a.pk}/resolve", {"note": "x"}, content_type="application/json")
    assert r.status_code == 409


def test_board_filters_and_paging(world: Any, two_alarms: Any) -> None:
    c = world.client("bureau")
    r = c.get("/alarms/", {"kind": "low_battery"})
    assert "B battery" in r.content.decode() and "A offline" not in r.content.decode()
    r = c.get("/alarms/", {"township_id": world.township_a.pk})
    assert "A offline" in r.content.decode() and "B battery" not in r.content.decode()
    r = c.get("/api/alarms/", {"state": "active", "severity": "warning", "limit": 1})
    assert r.json()["count"] == 2 and len(r.json()["items"]) == 1
    assert c.get("/api/alarms/", {"limit": 0}).status_code == 422
    assert c.get("/api/alarms/", {"kind": "nope"}).status_code == 422


@pytest.fixture
def findings(world: Any) -> list[ReadingFinding]:
    now = timezone.now().replace(microsecond=0)
    for d in (world.device_a, world.device_b):
        ingest(
            [
                ReadingRow(d.pk, "depth_to_water", now - dt.timedelta(hours=k), v)
                for k, v in enumerate([30.0, 3000.0, 30.1])
            ]
        )
    sweeps.check_sweep(now=now)
    return list(ReadingFinding.objects.all())


@pytest.mark.parametrize("role", ROLES)
def test_findings_scope_and_review(world: Any, findings: Any, role: str) -> None:
    c = world.client(role)
    r = c.get("/api/monitoring/findings/")
    if role in REFUSED:
        assert r.status_code == REFUSED[role]
    else:
        expect = {
            "bureau": {world.device_a.pk, world.device_b.pk},
            "inspector": {world.device_a.pk, world.device_b.pk},
            "township": {world.device_a.pk},
            "water_user": {world.device_a.pk},
        }[role]
        assert {i["device_id"] for i in r.json()["items"]} == expect
    page = c.get("/findings/")
    assert page.status_code == {"anonymous": 302, "public": 403}.get(role, 200)
    fa = next(f for f in findings if f.device_id == world.device_a.pk and f.check_kind == "RANGE")
    r = c.post(
        f"/api/monitoring/findings/{fa.pk}/review",
        {"decision": "override", "reason": "checked on site"},
        content_type="application/json",
    )
    if role in ("bureau", "township"):
        assert r.status_code == 200 and r.json()["review"] == "overridden"
        assert Reading.objects.get(pk=fa.reading_id).flags & 4 == 0  # REJECTED lifted
    else:
        assert r.status_code in (401, 403, 404)


def test_review_needs_a_reason(world: Any, findings: Any) -> None:
    r = world.client("bureau").post(
        f"/api/monitoring/findings/{findings[0].pk}/review",
        {"decision": "confirm", "reason": ""},
        content_type="application/json",
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    r = world.client("bureau").post(
        f"/findings/{findings[0].pk}/review/", {"decision": "confirm", "reason": "real"}
    )
    assert r.status_code == 302
    assert ReadingFinding.objects.get(pk=findings[0].pk).review == "confirmed"


@pytest.mark.parametrize("role", ROLES)
def test_health_pages_and_api(world: Any, role: str) -> None:
    day = timezone.localdate() - dt.timedelta(days=1)
    health.compute_day(day)
    c = world.client(role)
    r = c.get("/api/monitoring/health/", {"level": "device"})
    geo = c.get("/api/monitoring/device-health.geojson")
    if role in REFUSED:  # no rule on device health: refused, not an empty list
        assert (r.status_code, geo.status_code) == (REFUSED[role], REFUSED[role])
    else:
        expect = {
            "bureau": {world.device_a.pk, world.device_b.pk},
            "inspector": {world.device_a.pk, world.device_b.pk},
            "township": {world.device_a.pk},
            "water_user": {world.device_a.pk},
        }[role]
        assert {row["key"] for row in r.json()} == expect
        assert {f["id"] for f in geo.json()["features"]} == expect
    for url in ("/health/", "/health/map/"):
        assert c.get(url).status_code == {"anonymous": 302, "public": 403}.get(role, 200)


def test_health_api_refuses_bad_ranges(world: Any) -> None:
    c = world.client("bureau")
    r = c.get("/api/monitoring/health/", {"start": "2026-02-01", "end": "2026-01-01"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "start"
    assert c.get("/api/monitoring/health/", {"level": "planet"}).status_code == 422


@pytest.mark.parametrize("role", ROLES)
def test_meter_change_form(world: Any, role: str) -> None:
    c = world.client(role)
    r = c.get("/meter-changes/new/")
    ok = role in ("bureau", "township")
    assert r.status_code == (200 if ok else {"anonymous": 302}.get(role, 403))
    if not ok:
        return
    data = {
        "device": world.device_a.pk,
        "element": "cumulative_volume",
        "changed_at": "2026-01-05T10:00",
        "old_final": "1234.5",
        "new_initial": "0",
    }
    assert c.post("/meter-changes/new/", data).status_code == 302
    if role == "township":  # township A cannot pick B's device: a form error
        bad = c.post("/meter-changes/new/", {**data, "device": world.device_b.pk})
        assert bad.status_code == 200 and "device" in bad.context["form"].errors
    neg = c.post("/meter-changes/new/", {**data, "old_final": "-1"})
    assert "old_final" in neg.context["form"].errors


@pytest.mark.parametrize("role", ROLES)
def test_meter_change_api(world: Any, role: str) -> None:
    c = world.client(role)
    body = {
        "device_id": world.device_a.pk,
        "changed_at": "2026-01-05T10:00:00+08:00",
        "old_final": 1234.5,
        "new_initial": 0,
    }
    r = c.post("/api/monitoring/meter-changes/", body, content_type="application/json")
    if role in ("bureau", "township"):
        assert r.status_code == 201, r.content
        listed = c.get("/api/monitoring/meter-changes/").json()
        assert [m["id"] for m in listed] == [r.json()["id"]]
    else:
        assert r.status_code in (401, 403)
    if role == "township":
        other = c.post(
            "/api/monitoring/meter-changes/",
            {**body, "device_id": world.device_b.pk},
            content_type="application/json",
        )
        assert other.status_code == 422 and other.json()["errors"][0]["field"] == "device_id"
    if role == "bureau":
        bad = c.post(
            "/api/monitoring/meter-changes/",
            {**body, "element": "flow_rate"},
            content_type="application/json",
        )
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "element"


def test_alarm_events_api(world: Any, two_alarms: Any) -> None:
    a, b = two_alarms
    alarms.acknowledge(a, world.accounts["township"], "going")
    r = world.client("water_user").get(f"/api/alarms/{a.pk}/events")
    assert [e["action"] for e in r.json()] == ["opened", "acknowledged"]
    assert world.client("water_user").get(f"/api/alarms/{b.pk}/events").status_code == 404
