"""raise_alarm / clear_alarm and the alarm lifecycle (COMMON.md interface 2)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from aquifer.core.models import AuditEntry
from aquifer.monitoring import alarms
from aquifer.monitoring.models import Alarm, AlarmState


def _raise(world: Any, **kw: Any) -> Alarm:
    args = {
        "kind": "device_offline",
        "key": f"device_offline:device:{world.device_a.pk}",
        "title": "离线",
        "device": world.device_a,
    }
    args.update(kw)
    return alarms.raise_alarm(**args)


def test_one_open_alarm_per_condition(world: Any) -> None:
    a = _raise(world)
    assert a.state == "open" and a.township == world.township_a and a.owner == world.user_a
    assert a.well == world.well_a and a.due_at is not None
    b = _raise(world, severity="critical", detail="still")
    assert b.pk == a.pk
    a.refresh_from_db()
    assert a.count == 2 and a.severity == "critical" and a.detail == "still"
    assert Alarm.objects.count() == 1


def test_severity_never_lowered_by_a_repeat(world: Any) -> None:
    _raise(world, severity="critical")
    a = _raise(world, severity="info")
    a.refresh_from_db()
    assert a.severity == "critical"


def test_clear_resolves_and_a_new_episode_opens_a_new_alarm(world: Any) -> None:
    a = _raise(world)
    cleared = alarms.clear_alarm(kind=a.kind, key=a.key, note="back")
    assert cleared is not None and cleared.state == AlarmState.RESOLVED
    assert alarms.clear_alarm(kind=a.kind, key=a.key) is None
    b = _raise(world)
    assert b.pk != a.pk and b.state == "open"


def test_lifecycle_is_audited_and_kept_in_history(world: Any) -> None:
    user = world.accounts["township"]
    a = _raise(world)
    alarms.acknowledge(a, user, "on my way")
    assert a.state == "acknowledged" and a.acknowledged_by == user
    with pytest.raises(alarms.AlarmError):
        alarms.acknowledge(a, user)
    with pytest.raises(alarms.AlarmError):
        alarms.resolve(a, user, "  ")
    alarms.resolve(a, user, "replaced the modem")
    a.refresh_from_db()
    assert a.state == "resolved" and a.note == "replaced the modem"
    with pytest.raises(alarms.AlarmError):
        alarms.close_false(a, user, "x")
    actions = list(a.events.values_list("action", flat=True))
    assert actions == ["opened", "acknowledged", "resolved"]
    entries = AuditEntry.objects.filter(object_type="monitoring.alarm", object_id=str(a.pk))
    assert entries.count() == 3
    assert entries.order_by("-id").first().reason == "replaced the modem"


def test_close_as_false_needs_a_reason(world: Any) -> None:
    a = _raise(world)
    with pytest.raises(alarms.AlarmError):
        alarms.close_false(a, world.accounts["bureau"], "")
    alarms.close_false(a, world.accounts["bureau"], "sensor test")
    assert a.state == "false"


def test_escalation_once_after_the_sla(world: Any) -> None:
    a = _raise(world, severity="critical")
    assert alarms.escalate_overdue(timezone.now()) == 0
    later = a.due_at + dt.timedelta(minutes=1)
    assert alarms.escalate_overdue(later) == 1
    assert alarms.escalate_overdue(later) == 0
    a.refresh_from_db()
    assert a.escalated_at == later
    assert "escalated" in a.events.values_list("action", flat=True)


def test_bad_kind_or_severity_is_refused(world: Any) -> None:
    with pytest.raises(ValueError):
        _raise(world, kind="nope")
    with pytest.raises(ValueError):
        _raise(world, severity="urgent")


def test_unowned_alarm_belongs_to_the_bureau(world: Any) -> None:
    a = alarms.raise_alarm(kind="unregistered_station", key="unregistered_station:X", title="X")
    assert a.township is None and a.owner is None


def test_alarm_reaches_the_owner_and_escalation_the_township(world: Any) -> None:
    """The water user whose device it is gets the alarm in their inbox; an escalation reaches
    the bureau and the device's township officer, not another township's."""
    from aquifer.core.models import User
    from aquifer.notifications.service import inbox_of

    other = User.objects.create_user("officer_b", role="township", township=world.township_b)
    a = _raise(world, severity="critical")
    owner, officer = world.accounts["water_user"], world.accounts["township"]
    assert inbox_of(owner).filter(notice__event="alarm.opened").count() == 1
    alarms.escalate_overdue(a.due_at + dt.timedelta(minutes=1))
    for user, expected in ((world.accounts["bureau"], 1), (officer, 1), (other, 0)):
        assert inbox_of(user).filter(notice__event="alarm.escalated").count() == expected, user


def test_alarm_text_is_rendered_in_the_readers_language(world: Any) -> None:
    """Issue 14 point 13: a coded alarm reads in the reader's language; the stored title is
    the default (Chinese) rendering, and notices go out in it; old rows show their text."""
    from django.utils import translation

    from aquifer.notifications.models import Notice

    a = alarms.raise_alarm(
        kind="low_battery",
        key=f"low_battery:device:{world.device_a.pk}",
        message="low_battery",
        params={"station": "0014052201", "volts": 3.1, "limit": 3.3},
        device=world.device_a,
    )
    assert a.title == "0014052201 电池电压低 3.10 V" and a.detail == "低于 3.3 V"
    assert Notice.objects.filter(title=a.title).exists()
    with translation.override("en"):
        assert a.display_title == "0014052201 low battery voltage 3.10 V"
        assert a.display_detail == "below 3.3 V"
        c = world.client("bureau")
        c.cookies["django_language"] = "en"
        page = c.get(a.get_absolute_url()).content.decode()
        assert "low battery voltage" in page and "电池电压低" not in page
    old = alarms.raise_alarm(kind="unregistered_station", key="unregistered_station:Y", title="旧")
    with translation.override("en"):
        assert old.display_title == "旧"
