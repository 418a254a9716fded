"""Maintenance pages for every role: scope, forms, refusals."""

from __future__ import annotations

from typing import Any

import pytest

from aquifer.maintenance.models import Patrol, Ticket, TicketEvent

pytestmark = pytest.mark.django_db

ROLES = ["bureau", "township", "water_user", "inspector", "public", "anonymous"]
LIST_PAGES = [
    "/maintenance/",
    "/maintenance/?view=board",
    "/maintenance/?state=all&overdue=on",
    "/maintenance/devices/",
    "/maintenance/patrols/",
    "/maintenance/tickets/new/",
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url", LIST_PAGES)
def test_pages_by_role(world: Any, tickets: Any, role: str, url: str) -> None:
    r = world.client(role).get(url)
    if role == "anonymous":
        assert r.status_code == 302 and "/login" in r["Location"]
    elif role == "public":
        assert r.status_code == 403
    else:
        assert r.status_code == 200


@pytest.mark.parametrize(
    ("role", "sees_a", "sees_b"),
    [
        ("bureau", True, True),
        ("inspector", True, True),
        ("township", True, False),
        ("water_user", True, False),
    ],
)
def test_ticket_scope(world: Any, tickets: Any, role: str, sees_a: bool, sees_b: bool) -> None:
    a, b = tickets
    c = world.client(role)
    listing = c.get("/maintenance/?state=all").content.decode()
    board = c.get("/maintenance/?view=board").content.decode()
    for t, sees in ((a, sees_a), (b, sees_b)):
        assert (t.title in listing) == sees
        assert (t.title in board) == sees
        assert c.get(f"/maintenance/tickets/{t.pk}/").status_code == (200 if sees else 404)


@pytest.mark.parametrize("role", ["public", "anonymous"])
def test_ticket_detail_hidden_from_public(world: Any, tickets: Any, role: str) -> None:
    r = world.client(role).get(f"/maintenance/tickets/{tickets[0].pk}/")
    assert r.status_code in (302, 403)


@pytest.mark.parametrize("role", ["township", "water_user", "inspector"])
def test_figures_scope_and_water_user_refused(world: Any, tickets: Any, role: str) -> None:
    r = world.client(role).get("/maintenance/figures/?by=device&days=30")
    if role == "water_user":
        assert r.status_code == 403
        return
    assert r.status_code == 200
    body = r.content.decode()
    assert (world.device_b.station_address in body) == (role == "inspector")


def test_figures_page_bureau(world: Any, tickets: Any) -> None:
    c = world.client("bureau")
    for url in (
        "/maintenance/figures/",
        "/maintenance/figures/?days=abc",
        "/maintenance/figures/?days=-3",
    ):
        assert c.get(url).status_code == 200


def test_water_user_reports_fault(world: Any) -> None:
    c = world.client("water_user")
    page = c.get(f"/maintenance/tickets/new/?device={world.device_a.pk}").content.decode()
    assert world.device_a.station_address in page
    assert world.device_b.station_address not in page  # only their own devices offered
    r = c.post("/maintenance/tickets/new/", {"device": world.device_a.pk, "description": "不上报"})
    t = Ticket.objects.get()
    assert r.status_code == 302 and r["Location"] == t.get_absolute_url()
    assert t.source == "user_report" and t.reported_by == world.accounts["water_user"]
    # another's device: refused with the field named, nothing written
    r = c.post("/maintenance/tickets/new/", {"device": world.device_b.pk, "description": "x"})
    assert r.status_code == 422 and "device" in r.context["form"].errors
    r = c.post("/maintenance/tickets/new/", {"device": world.device_a.pk, "description": ""})
    assert r.status_code == 422 and "description" in r.context["form"].errors
    assert Ticket.objects.count() == 1


def test_act_through_page(world: Any, tickets: Any) -> None:
    a, b = tickets
    c = world.client("bureau")
    officer = world.accounts["township"]
    r = c.post(f"/maintenance/tickets/{a.pk}/act", {"action": "assign", "assignee": officer.pk})
    assert r.status_code == 302
    oc = world.client("township")
    page = oc.get(a.get_absolute_url()).content.decode()
    assert 'id="form-close"' in page and 'id="form-assign"' in page
    r = oc.post(f"/maintenance/tickets/{a.pk}/act", {"action": "close", "resolution": ""})
    assert r.status_code == 422 and "处理结果" in r.content.decode()
    r = oc.post(f"/maintenance/tickets/{a.pk}/act", {"action": "close", "resolution": "已修复"})
    assert r.status_code == 302
    a.refresh_from_db()
    assert a.state == "closed"
    detail = oc.get(a.get_absolute_url()).content.decode()
    assert "已修复" in detail and 'id="timeline"' in detail
    # the officer of A cannot act on B (not even see it)
    assert (
        oc.post(f"/maintenance/tickets/{b.pk}/act", {"action": "note", "note": "x"}).status_code
        == 404
    )
    # a water user sees their ticket but cannot assign it
    wc = world.client("water_user")
    reopened = wc.post(f"/maintenance/tickets/{a.pk}/act", {"action": "reopen", "note": "x"})
    assert reopened.status_code == 403
    assert wc.post(f"/maintenance/tickets/{a.pk}/act", {"action": "bogus"}).status_code == 422
    assert TicketEvent.objects.filter(ticket=a).count() == 3


def test_patrol_form(world: Any) -> None:
    c = world.client("township")
    page = c.get(f"/maintenance/patrols/new/?device={world.device_a.pk}")
    assert page.status_code == 200 and "铅封完好" in page.content.decode()
    data = {
        "device": world.device_a.pk,
        "visited_at": "2026-01-05T10:00",
        "findings": "设备箱门锁损坏",
        "open_ticket": "on",
    }
    for code in ("seal", "meter_legible", "power", "communication", "enclosure", "signage"):
        data[f"check_{code}"] = "ok"
    data["check_enclosure"] = "fault"
    r = c.post("/maintenance/patrols/new/", data)
    p = Patrol.objects.get()
    assert r.status_code == 302 and p.ticket is not None
    assert c.get(p.get_absolute_url()).status_code == 200
    assert (
        world.client("township").get("/maintenance/patrols/").content.decode().count("data-id=")
        == 1
    )
    assert world.client("water_user").get(p.get_absolute_url()).status_code == 200
    # the officer of A cannot record a patrol on B's device; a water user none at all
    data["device"] = world.device_b.pk
    assert c.post("/maintenance/patrols/new/", data).status_code == 422
    assert world.client("water_user").post("/maintenance/patrols/new/", data).status_code == 403
    assert Patrol.objects.count() == 1


def test_checklist_is_configurable_by_bureau_only(world: Any) -> None:
    from aquifer.maintenance.models import ChecklistItem

    c = world.client("bureau")
    r = c.post(
        "/maintenance/checklist/",
        {"code": "flowmeter_pipe", "label": "管道无渗漏", "order": 70, "active": "on"},
    )
    assert r.status_code == 302
    assert ChecklistItem.objects.filter(code="flowmeter_pipe").exists()
    form = world.client("township").get(f"/maintenance/patrols/new/?device={world.device_a.pk}")
    assert "管道无渗漏" in form.content.decode()
    assert (
        world.client("township")
        .post("/maintenance/checklist/", {"code": "x", "label": "y"})
        .status_code
        == 403
    )
    assert world.client("water_user").get("/maintenance/checklist/").status_code == 403


def test_ticket_from_alarm(world: Any) -> None:
    from aquifer.monitoring.models import Alarm

    alarm = Alarm.objects.create(
        kind="device_offline",
        key="offline:x",
        title="设备离线",
        township=world.township_a,
        owner=world.user_a,
        device=world.device_a,
        severity="critical",
    )
    c = world.client("township")
    page = c.get(f"/maintenance/tickets/new/?alarm={alarm.pk}")
    assert page.status_code == 200 and "设备离线" in page.content.decode()
    r = c.post(
        f"/maintenance/tickets/new/?alarm={alarm.pk}",
        {"device": world.device_a.pk, "description": "离线两天", "priority": "high"},
    )
    t = Ticket.objects.get()
    assert r.status_code == 302 and t.alarm == alarm and t.source == "alarm"
    # an alarm of another township is out of sight
    other = Alarm.objects.create(
        kind="device_offline",
        key="offline:y",
        title="B",
        township=world.township_b,
        device=world.device_b,
    )
    assert c.get(f"/maintenance/tickets/new/?alarm={other.pk}").status_code == 404
    # an alarm without a device (an unregistered station) still makes a ticket
    station = Alarm.objects.create(
        kind="unregistered_station", key="st:1", title="未登记测站", township=world.township_a
    )
    r = world.client("bureau").post(
        f"/maintenance/tickets/new/?alarm={station.pk}", {"description": "查找该测站"}
    )
    assert r.status_code == 302
    assert Ticket.objects.get(alarm=station).township_id == world.township_a.pk


def test_htmx_filter_returns_results_only(world: Any, tickets: Any) -> None:
    c = world.client("bureau")
    for url in ("/maintenance/?priority=normal", "/maintenance/?view=board&state=new"):
        r = c.get(url, HTTP_HX_REQUEST="true")
        body = r.content.decode()
        assert r.status_code == 200 and "<html" not in body and "A 设备不上报" in body


def test_the_loaded_checklist_reads_in_english_and_an_edited_item_as_written(world: Any) -> None:
    """Issue 14 point 13: the checklist the system loaded is translated; the bureau's own
    wording is shown as written."""
    from django.conf import settings

    from aquifer.maintenance.models import ChecklistItem

    ChecklistItem.objects.filter(code="signage").update(label="标牌（县局自定）")
    c = world.client("bureau")
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    for url in ("/maintenance/checklist/", "/maintenance/patrols/new/"):
        body = c.get(url).content.decode()
        assert "Seals intact" in body and "铅封完好" not in body
        assert "标牌（县局自定）" in body
