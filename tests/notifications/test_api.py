"""The notifications API: one's own inbox, contact, rules (bureau writes)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from aquifer.notifications.models import Delivery, Rule
from aquifer.notifications.service import notify

pytestmark = pytest.mark.django_db

ROLES = ["bureau", "township", "water_user", "inspector", "public"]


def send(c: Any, method: str, url: str, data: Any) -> Any:
    return getattr(c, method)(url, json.dumps(data), content_type="application/json")


@pytest.mark.parametrize("role", ROLES)
def test_inbox_is_ones_own(world: Any, role: str) -> None:
    Rule.objects.update(active=False)
    for r in ROLES:
        notify(event="trade.completed", title=f"to-{r}", users=[world.accounts[r]])
    c = world.client(role)
    body = c.get("/api/notifications/inbox").json()
    assert [m["title"] for m in body["items"]] == [f"to-{role}"]
    assert body["unread"] == 1
    others = list(
        Delivery.objects.exclude(recipient=world.accounts[role]).values_list("pk", flat=True)
    )
    r = send(c, "post", "/api/notifications/inbox/read", {"ids": others})
    assert r.json() == {"marked": 0, "unread": 1}
    assert send(c, "post", "/api/notifications/inbox/read", {"ids": None}).json() == {
        "marked": 1,
        "unread": 0,
    }
    assert Delivery.objects.filter(read_at__isnull=False).count() == 1


def test_anonymous_gets_401(world: Any) -> None:
    c = world.client("anonymous")
    assert c.get("/api/notifications/inbox").status_code == 401
    assert c.get("/api/notifications/unread").status_code == 401
    assert c.get("/api/notifications/contact").status_code == 401
    assert send(c, "post", "/api/notifications/inbox/read", {}).status_code == 401


def test_contact_api(world: Any) -> None:
    c = world.client("township")
    r = send(c, "patch", "/api/notifications/contact", {"mobile": "12345"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "mobile"
    r = send(c, "patch", "/api/notifications/contact", {"email": "not-an-email"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "email"
    r = send(
        c, "patch", "/api/notifications/contact", {"mobile": "13912345678", "email": "o@example.cn"}
    )
    assert r.status_code == 200 and r.json() == {"email": "o@example.cn", "mobile": "13912345678"}


@pytest.mark.parametrize(
    ("role", "read", "write"),
    [
        ("bureau", 200, 201),
        ("township", 200, 403),
        ("water_user", 403, 403),
        ("inspector", 403, 403),
        ("public", 403, 403),
        ("anonymous", 401, 401),
    ],
)
def test_rules_api(world: Any, role: str, read: int, write: int) -> None:
    c = world.client(role)
    assert c.get("/api/notifications/rules").status_code == read
    data = {
        "role": "inspector",
        "event": "quality.warning",
        "email": True,
        "min_severity": "warning",
    }
    assert send(c, "post", "/api/notifications/rules", data).status_code == write


def test_rules_validation_and_update(world: Any) -> None:
    c = world.client("bureau")
    r = send(c, "post", "/api/notifications/rules", {"role": "inspector", "event": "nope"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "event"
    r = send(c, "post", "/api/notifications/rules", {"role": "inspector", "inbox": False})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "inbox"
    r = send(c, "post", "/api/notifications/rules", {"role": "inspector", "township_id": 999999})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "township_id"
    r = send(c, "post", "/api/notifications/rules", {"role": "public"})
    assert r.status_code == 422
    r = send(
        c, "post", "/api/notifications/rules", {"role": "inspector", "event": "alarm.escalated"}
    )
    assert r.status_code == 201
    pk = r.json()["id"]
    r = send(c, "patch", f"/api/notifications/rules/{pk}", {"sms": True})
    assert r.status_code == 200 and r.json()["sms"] is True and r.json()["inbox"] is True
    assert (
        send(
            world.client("township"), "patch", f"/api/notifications/rules/{pk}", {"sms": False}
        ).status_code
        == 403
    )
    assert c.delete(f"/api/notifications/rules/{pk}").status_code == 204
    assert c.delete(f"/api/notifications/rules/{pk}").status_code == 404
