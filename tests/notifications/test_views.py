"""Inbox, contact, rules and delivery pages for every role."""

from __future__ import annotations

from typing import Any

import pytest

from aquifer.notifications.models import Contact, Delivery, Rule
from aquifer.notifications.service import notify

pytestmark = pytest.mark.django_db

ROLES = ["bureau", "township", "water_user", "inspector", "public"]


@pytest.mark.parametrize("role", ROLES)
def test_inbox_for_every_role_and_unread_badge(world: Any, role: str) -> None:
    user = world.accounts[role]
    notify(event="permit.decided", title=f"给{role}的消息", users=[user], url="/maintenance/")
    c = world.client(role)
    home = c.get("/notifications/")
    body = home.content.decode()
    assert home.status_code == 200
    assert f"给{role}的消息" in body
    assert 'id="unread-count"' in body  # the badge in the main menu
    m = Delivery.objects.get(recipient=user, channel="inbox", notice__title=f"给{role}的消息")
    r = c.get(f"/notifications/{m.pk}/open")
    assert r.status_code == 302 and r["Location"] == "/maintenance/"
    m.refresh_from_db()
    assert m.read_at is not None
    assert 'id="unread-count"' not in c.get("/notifications/").content.decode()


def test_nobody_reads_anothers_message(world: Any) -> None:
    Rule.objects.update(active=False)  # only the named user gets it
    notify(event="permit.decided", title="私人", users=[world.accounts["water_user"]])
    m = Delivery.objects.get(channel="inbox", recipient=world.accounts["water_user"])
    for role in ("bureau", "township", "inspector", "public"):
        assert world.client(role).get(f"/notifications/{m.pk}/open").status_code == 404
        assert "私人" not in world.client(role).get("/notifications/").content.decode()
    m.refresh_from_db()
    assert m.read_at is None


def test_anonymous_goes_to_login(world: Any) -> None:
    c = world.client("anonymous")
    for url in (
        "/notifications/",
        "/notifications/contact/",
        "/notifications/rules/",
        "/notifications/deliveries/",
    ):
        r = c.get(url)
        assert r.status_code == 302 and "login" in r["Location"]
    assert 'id="inbox-link"' not in c.get("/map/").content.decode()


def test_read_all(world: Any) -> None:
    for i in range(3):
        notify(event="permit.decided", title=f"m{i}", users=[world.accounts["inspector"]])
    c = world.client("inspector")
    assert c.post("/notifications/read-all").status_code == 302
    assert not Delivery.objects.filter(
        recipient=world.accounts["inspector"], channel="inbox", read_at__isnull=True
    ).exists()


def test_external_link_is_not_followed(world: Any) -> None:
    notify(
        event="permit.decided",
        title="x",
        users=[world.accounts["bureau"]],
        url="https://evil.example/",
    )
    m = Delivery.objects.get(channel="inbox")
    r = world.client("bureau").get(f"/notifications/{m.pk}/open")
    assert r["Location"] == "/notifications/"


def test_contact_page(world: Any) -> None:
    c = world.client("water_user")
    r = c.post("/notifications/contact/", {"email": "a@example.cn", "mobile": "1381234"})
    assert r.status_code == 422 and "mobile" in r.context["form"].errors
    assert not Contact.objects.exists()
    r = c.post("/notifications/contact/", {"email": "a@example.cn", "mobile": "13812345678"})
    assert r.status_code == 302
    user = world.accounts["water_user"]
    user.refresh_from_db()
    assert user.email == "a@example.cn" and user.contact.mobile == "13812345678"


@pytest.mark.parametrize("role", ["water_user", "inspector", "public"])
def test_rules_page_refused(world: Any, role: str) -> None:
    assert world.client(role).get("/notifications/rules/").status_code == 403


def test_rules_page_bureau_edits_township_reads(world: Any) -> None:
    t = world.client("township")
    assert t.get("/notifications/rules/").status_code == 200
    assert (
        t.post(
            "/notifications/rules/",
            {"role": "bureau", "event": "*", "inbox": "on", "min_severity": "info", "active": "on"},
        ).status_code
        == 403
    )
    b = world.client("bureau")
    n = Rule.objects.count()
    r = b.post(
        "/notifications/rules/",
        {
            "role": "inspector",
            "event": "alarm.opened",
            "township": world.township_b.pk,
            "min_severity": "warning",
            "active": "on",
        },
    )
    assert r.status_code == 422  # no channel chosen
    r = b.post(
        "/notifications/rules/",
        {
            "role": "inspector",
            "event": "alarm.opened",
            "township": world.township_b.pk,
            "min_severity": "warning",
            "email": "on",
            "active": "on",
        },
    )
    assert r.status_code == 302 and Rule.objects.count() == n + 1
    rule = Rule.objects.latest("pk")
    assert b.post(f"/notifications/rules/{rule.pk}/", {"delete": "1"}).status_code == 302
    assert Rule.objects.count() == n


@pytest.mark.parametrize("role", ["township", "water_user", "inspector", "public"])
def test_deliveries_page_bureau_only(world: Any, role: str) -> None:
    assert world.client(role).get("/notifications/deliveries/").status_code == 403


def test_deliveries_page(world: Any) -> None:
    world.accounts["bureau"].email = "b@example.cn"
    world.accounts["bureau"].save()
    notify(event="permit.decided", title="x")
    c = world.client("bureau")
    assert "b@example.cn" in c.get("/notifications/deliveries/").content.decode()
    assert c.post("/notifications/deliveries/").status_code == 302
    assert Delivery.objects.get(channel="email").state == "sent"


def test_admin_pages(world: Any, admin_client: Any) -> None:
    notify(event="alarm.opened", title="x", severity="critical")
    for url in (
        "/admin/notifications/rule/",
        "/admin/notifications/contact/",
        "/admin/notifications/smsoutbox/",
        "/admin/maintenance/checklistitem/",
    ):
        assert admin_client.get(url).status_code == 200
    assert admin_client.get("/admin/notifications/smsoutbox/add/").status_code == 403
