"""Tickets and patrols: scope, state machine, audit, notifications, figures."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from aquifer.core.models import AuditEntry
from aquifer.maintenance import services
from aquifer.maintenance.figures import upkeep_figures
from aquifer.maintenance.models import Patrol, Ticket, TicketEvent
from aquifer.notifications.models import Delivery

pytestmark = pytest.mark.django_db


def test_water_user_reports_fault_on_own_device_only(world: Any) -> None:
    wu = world.accounts["water_user"]
    t = services.open_ticket(by=wu, title="", description="表不走字", device=world.device_a)
    assert t.source == "user_report"
    assert t.township_id == world.township_a.pk and t.owner_id == world.user_a.pk
    assert t.title == str(world.device_a)
    assert t.due_at == t.opened_at + dt.timedelta(hours=72)
    with pytest.raises(PermissionDenied):
        services.open_ticket(by=wu, title="x", description="y", device=world.device_b)
    assert Ticket.objects.count() == 1


def test_township_officer_opens_only_in_own_township(world: Any) -> None:
    officer = world.accounts["township"]
    services.open_ticket(by=officer, title="x", device=world.device_a)
    with pytest.raises(PermissionDenied):
        services.open_ticket(by=officer, title="x", device=world.device_b)
    with pytest.raises(PermissionDenied):
        services.open_ticket(by=world.accounts["public"], title="x", device=world.device_a)


def test_ticket_needs_device_or_alarm(world: Any) -> None:
    with pytest.raises(ValidationError) as err:
        services.open_ticket(by=world.accounts["bureau"], title="x")
    assert "device" in err.value.message_dict


def test_full_lifecycle_is_audited_and_notified(
    world: Any, tickets: Any, django_capture_on_commit_callbacks: Any
) -> None:
    a, _ = tickets
    bureau, officer = world.accounts["bureau"], world.accounts["township"]
    with django_capture_on_commit_callbacks(execute=True):
        services.act(a, "assign", by=bureau, assignee=officer, note="请尽快处理")
    assert a.state == "assigned" and a.assignee == officer
    inbox = Delivery.objects.filter(
        recipient=officer, channel="inbox", notice__event="ticket.assigned"
    )
    assert inbox.count() == 1 and inbox.get().notice.url == a.get_absolute_url()
    # the assignee works it without township-wide change rights being needed
    services.act(a, "start", by=officer)
    with pytest.raises(ValidationError) as err:
        services.act(a, "close", by=officer, resolution="  ")
    assert "resolution" in err.value.message_dict
    services.act(a, "close", by=officer, resolution="更换了通信模块，恢复上报")
    a.refresh_from_db()
    assert a.state == "closed" and a.closed_at is not None
    assert list(TicketEvent.objects.filter(ticket=a).values_list("action", flat=True)) == [
        "open",
        "assign",
        "start",
        "close",
    ]
    entries = AuditEntry.objects.filter(object_type="maintenance.ticket", object_id=str(a.pk))
    assert entries.count() == 4  # create + 3 updates
    closed = Delivery.objects.filter(notice__event="ticket.closed", channel="inbox")
    assert bureau.pk in {d.recipient_id for d in closed}


def test_refused_transitions_change_nothing(world: Any, tickets: Any) -> None:
    a, b = tickets
    bureau = world.accounts["bureau"]
    with pytest.raises(ValidationError):
        services.act(a, "close", by=bureau, resolution="x")  # still new
    with pytest.raises(ValidationError):
        services.act(a, "fly", by=bureau)
    with pytest.raises(ValidationError) as err:
        services.act(a, "assign", by=bureau, assignee=world.accounts["water_user"])
    assert "assignee" in err.value.message_dict
    a.refresh_from_db()
    assert a.state == "new" and a.assignee is None
    # an officer of A is not assignable to B's ticket, and may not assign there
    with pytest.raises(ValidationError):
        services.act(b, "assign", by=bureau, assignee=world.accounts["township"])
    with pytest.raises(PermissionDenied):
        services.act(b, "assign", by=world.accounts["township"], assignee=bureau)
    # inspectors and water users may not assign
    with pytest.raises(PermissionDenied):
        services.act(a, "assign", by=world.accounts["inspector"], assignee=bureau)
    assert TicketEvent.objects.filter(ticket=a).count() == 1


def test_water_user_may_cancel_own_new_report(world: Any) -> None:
    wu = world.accounts["water_user"]
    t = services.open_ticket(by=wu, title="x", description="y", device=world.device_a)
    assert services.permitted_actions(wu, t) == ["note", "cancel"]
    with pytest.raises(ValidationError):
        services.act(t, "cancel", by=wu)  # needs a reason
    services.act(t, "cancel", by=wu, note="已自行恢复")
    assert t.state == "cancelled"


def test_patrol_with_fault_opens_ticket(world: Any) -> None:
    officer = world.accounts["township"]
    results = {
        c: "ok" for c in ("seal", "meter_legible", "power", "communication", "enclosure", "signage")
    }
    results["seal"] = "fault"
    p = services.record_patrol(
        by=officer,
        device=world.device_a,
        results=results,
        findings="铅封断裂",
        open_ticket_for_faults=True,
    )
    assert p.township_id == world.township_a.pk
    assert p.ticket is not None and p.ticket.source == "patrol"
    assert [c["code"] for c in p.faults] == ["seal"]
    with pytest.raises(ValidationError) as err:
        services.record_patrol(by=officer, device=world.device_a, results={"seal": "ok"})
    assert "checks.power" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        services.record_patrol(by=officer, device=world.device_a, results={**results, "x": "ok"})
    assert "checks.x" in err.value.message_dict
    with pytest.raises((PermissionDenied, ValidationError)):
        services.record_patrol(by=officer, device=world.device_b, results=results)
    with pytest.raises(PermissionDenied):
        services.record_patrol(
            by=world.accounts["water_user"], device=world.device_a, results=results
        )
    assert Patrol.objects.count() == 1


def test_figures(world: Any, tickets: Any) -> None:
    from aquifer.monitoring.models import Alarm

    a, b = tickets
    bureau = world.accounts["bureau"]
    now = timezone.now()
    Alarm.objects.create(
        kind="device_offline",
        key="k1",
        title="t",
        township=world.township_a,
        device=world.device_a,
        opened_at=now - dt.timedelta(hours=5),
        acknowledged_at=now - dt.timedelta(hours=3),
        state="acknowledged",
    )
    Alarm.objects.create(
        kind="device_offline",
        key="k2",
        title="t",
        township=world.township_b,
        device=world.device_b,
        opened_at=now - dt.timedelta(hours=5),
    )
    Ticket.objects.filter(pk=a.pk).update(opened_at=now - dt.timedelta(hours=10))
    a.refresh_from_db()
    services.act(a, "assign", by=bureau, assignee=bureau)
    services.act(a, "close", by=bureau, resolution="ok")
    Ticket.objects.filter(pk=b.pk).update(due_at=now - dt.timedelta(hours=1))
    rows = upkeep_figures(
        bureau, since=now - dt.timedelta(days=1), until=now + dt.timedelta(minutes=1)
    )
    total = rows[0]
    assert total.key is None and total.open == 1 and total.overdue == 1
    assert total.ack.n == 1 and total.ack.median_h == pytest.approx(2.0)
    assert total.repair.n == 1 and total.repair.median_h == pytest.approx(10.0, abs=0.01)
    # the officer of A sees only A
    rows_a = upkeep_figures(
        world.accounts["township"],
        since=now - dt.timedelta(days=1),
        until=now + dt.timedelta(minutes=1),
    )
    assert {r.key for r in rows_a[1:]} == {world.township_a.pk}
    assert rows_a[0].overdue == 0
    per_device = upkeep_figures(
        bureau, since=now - dt.timedelta(days=1), until=now + dt.timedelta(minutes=1), by="device"
    )
    assert {r.key for r in per_device} == {world.device_a.pk, world.device_b.pk}
