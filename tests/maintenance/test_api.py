"""The maintenance API for every role: scope, validation (422 naming the field), actions."""

from __future__ import annotations

import json
from typing import Any

import pytest

from aquifer.maintenance.models import Patrol, Ticket

pytestmark = pytest.mark.django_db

CHECKS = {
    c: "ok" for c in ("seal", "meter_legible", "power", "communication", "enclosure", "signage")
}


def post(c: Any, url: str, data: Any) -> Any:
    return c.post(url, json.dumps(data), content_type="application/json")


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("bureau", {"A", "B"}),
        ("inspector", {"A", "B"}),
        ("township", {"A"}),
        ("water_user", {"A"}),
        ("public", set()),
        ("anonymous", set()),
    ],
)
def test_ticket_list_scope(world: Any, tickets: Any, role: str, expected: set[str]) -> None:
    a, b = tickets
    c = world.client(role)
    r = c.get("/api/maintenance/tickets/?state=all")
    if role in ("public", "anonymous"):  # no rule on tickets: refused, not an empty list
        assert r.status_code == (401 if role == "anonymous" else 403)
    else:
        assert r.status_code == 200
        assert {i["title"][0] for i in r.json()["items"]} == expected
    for t, name in ((a, "A"), (b, "B")):
        assert c.get(f"/api/maintenance/tickets/{t.pk}").status_code == (
            200 if name in expected else 404
        )
        assert c.get(f"/api/maintenance/tickets/{t.pk}/events").status_code == (
            200 if name in expected else 404
        )


def test_ticket_list_filters(world: Any, tickets: Any) -> None:
    c = world.client("bureau")
    r = c.get(f"/api/maintenance/tickets/?township_id={world.township_b.pk}")
    assert [i["title"] for i in r.json()["items"]] == ["B 设备电量低"]
    assert c.get("/api/maintenance/tickets/?state=bogus").status_code == 422
    assert c.get("/api/maintenance/tickets/?limit=0").status_code == 422
    assert c.get("/api/maintenance/tickets/?overdue=true").json()["count"] == 0


def test_water_user_reports_via_api(world: Any) -> None:
    c = world.client("water_user")
    r = post(
        c,
        "/api/maintenance/tickets/",
        {"device_id": world.device_a.pk, "description": "屏幕不亮", "priority": "urgent"},
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["source"] == "user_report" and body["priority"] == "normal"
    assert body["actions"] == ["note", "cancel"]
    r = post(c, "/api/maintenance/tickets/", {"device_id": world.device_b.pk, "description": "x"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "device_id"
    r = post(c, "/api/maintenance/tickets/", {"description": "x"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "device"
    r = post(c, "/api/maintenance/tickets/", {"device_id": "abc"})
    assert r.status_code == 422
    r = c.post("/api/maintenance/tickets/", "{bad json", content_type="application/json")
    assert r.status_code == 400
    assert (
        post(
            world.client("anonymous"), "/api/maintenance/tickets/", {"device_id": world.device_a.pk}
        ).status_code
        == 401
    )
    assert (
        post(
            world.client("public"), "/api/maintenance/tickets/", {"device_id": world.device_a.pk}
        ).status_code
        == 403
    )
    assert Ticket.objects.count() == 1


def test_actions_via_api(world: Any, tickets: Any) -> None:
    a, b = tickets
    c = world.client("bureau")
    url = f"/api/maintenance/tickets/{a.pk}/actions"
    r = post(c, url, {"action": "assign"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "assignee_id"
    r = post(c, url, {"action": "assign", "assignee_id": world.accounts["water_user"].pk})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "assignee_id"
    r = post(c, url, {"action": "assign", "assignee_id": 99999})
    assert r.status_code == 422
    r = post(c, url, {"action": "close", "resolution": "x"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "action"
    r = post(c, url, {"action": "explode"})
    assert r.status_code == 422
    r = post(c, url, {"action": "assign", "assignee_id": world.accounts["inspector"].pk})
    assert r.status_code == 200 and r.json()["state"] == "assigned"
    ic = world.client("inspector")
    r = post(ic, url, {"action": "close", "resolution": "更换电池"})
    assert r.status_code == 200 and r.json()["state"] == "closed"
    events = c.get(f"/api/maintenance/tickets/{a.pk}/events").json()
    assert [e["action"] for e in events] == ["open", "assign", "close"]
    # the inspector is not B's assignee and may not manage tickets
    assert (
        post(
            ic, f"/api/maintenance/tickets/{b.pk}/actions", {"action": "cancel", "note": "x"}
        ).status_code
        == 403
    )
    # officer A cannot see B's ticket at all
    oc = world.client("township")
    assert (
        post(
            oc, f"/api/maintenance/tickets/{b.pk}/actions", {"action": "note", "note": "x"}
        ).status_code
        == 404
    )


def test_patrol_api(world: Any) -> None:
    c = world.client("inspector")
    r = post(
        c,
        "/api/maintenance/patrols/",
        {
            "device_id": world.device_b.pk,
            "checks": {**CHECKS, "power": "fault"},
            "open_ticket": True,
            "findings": "太阳能板损坏",
        },
    )
    assert r.status_code == 201, r.content
    p = r.json()
    assert p["ticket_id"] is not None and p["township_id"] == world.township_b.pk
    r = post(
        c, "/api/maintenance/patrols/", {"device_id": world.device_b.pk, "checks": {"seal": "ok"}}
    )
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} >= {"checks.power", "checks.signage"}
    r = post(
        c,
        "/api/maintenance/patrols/",
        {"device_id": world.device_b.pk, "checks": {**CHECKS, "seal": "maybe"}},
    )
    assert r.status_code == 422
    r = post(
        c,
        "/api/maintenance/patrols/",
        {"device_id": world.device_b.pk, "checks": CHECKS, "visited_at": "2026-01-01T10:00:00"},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "visited_at"
    r = post(
        c,
        "/api/maintenance/patrols/",
        {
            "device_id": world.device_b.pk,
            "checks": CHECKS,
            "visited_at": "2099-01-01T10:00:00+08:00",
        },
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "visited_at"
    assert (
        post(
            world.client("water_user"),
            "/api/maintenance/patrols/",
            {"device_id": world.device_a.pk, "checks": CHECKS},
        ).status_code
        == 403
    )
    assert (
        post(
            world.client("township"),
            "/api/maintenance/patrols/",
            {"device_id": world.device_b.pk, "checks": CHECKS},
        ).status_code
        == 422
    )
    assert Patrol.objects.count() == 1
    assert world.client("township").get("/api/maintenance/patrols/").json()["count"] == 0
    assert world.client("bureau").get("/api/maintenance/patrols/").json()["count"] == 1
    assert world.client("township").get(f"/api/maintenance/patrols/{p['id']}").status_code == 404
    assert world.client("anonymous").get("/api/maintenance/patrols/").status_code == 401
    assert world.client("public").get("/api/maintenance/patrols/").status_code == 403


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("bureau", 200),
        ("township", 200),
        ("inspector", 200),
        ("water_user", 403),
        ("public", 403),
        ("anonymous", 401),
    ],
)
def test_figures_api(world: Any, tickets: Any, role: str, status: int) -> None:
    r = world.client(role).get("/api/maintenance/figures?by=township&days=30")
    assert r.status_code == status
    if status == 200:
        rows = r.json()
        assert rows[0]["key"] is None
        assert rows[0]["open_tickets"] == (1 if role == "township" else 2)


def test_checklist_api(world: Any) -> None:
    assert len(world.client("township").get("/api/maintenance/checklist").json()) == 6
    # The checklist is internal (as its page): staff only.
    assert world.client("anonymous").get("/api/maintenance/checklist").status_code == 401
    assert world.client("public").get("/api/maintenance/checklist").status_code == 403
    assert world.client("water_user").get("/api/maintenance/checklist").status_code == 403
