"""notify(): who gets what, on which channel, and that nothing is lost when sending fails."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from aquifer.core.models import User
from aquifer.core.roles import Role
from aquifer.notifications.choices import DeliveryState
from aquifer.notifications.models import Contact, Delivery, Notice, Rule, SmsOutbox
from aquifer.notifications.service import deliver, inbox_of, notify, unread_count

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(world: Any) -> Any:
    a = world.accounts
    a["bureau"].email = "bureau@example.cn"
    a["bureau"].save()
    a["township"].email = "officer@example.cn"
    a["township"].save()
    a["water_user"].email = "user@example.cn"
    a["water_user"].save()
    Contact.objects.create(user=a["bureau"], mobile="13800000001")
    Contact.objects.create(user=a["water_user"], mobile="13800000002")
    a["officer_b"] = User.objects.create_user(
        "officer_b", role=Role.TOWNSHIP, township=world.township_b, email="b@example.cn"
    )
    return world


def channels_of(user: Any) -> set[str]:
    return set(Delivery.objects.filter(recipient=user).values_list("channel", flat=True))


def test_township_alarm_reaches_bureau_and_own_township_only(
    people: Any, django_capture_on_commit_callbacks: Any
) -> None:
    a = people.accounts
    with django_capture_on_commit_callbacks(execute=True):
        n = notify(
            event="alarm.opened",
            title="W-A-1 离线",
            township=people.township_a,
            url="/monitoring/alarms/1/",
            severity="warning",
        )
    assert channels_of(a["bureau"]) == {"inbox", "email"}
    assert channels_of(a["township"]) == {"inbox", "email"}
    assert channels_of(a["officer_b"]) == set()
    assert channels_of(a["water_user"]) == set()  # not named: not their device
    assert channels_of(a["inspector"]) == set()
    assert channels_of(a["public"]) == set()
    assert n == 4
    assert sorted(m.to[0] for m in mail.outbox) == ["bureau@example.cn", "officer@example.cn"]
    assert "/monitoring/alarms/1/" in mail.outbox[0].body
    assert unread_count(a["township"]) == 1


def test_named_water_user_gets_own_event_and_critical_sms(
    people: Any, django_capture_on_commit_callbacks: Any
) -> None:
    a = people.accounts
    with django_capture_on_commit_callbacks(execute=True):
        notify(
            event="alarm.opened",
            title="计量设施被拆",
            township=people.township_a,
            severity="critical",
            users=[people.user_a],  # a WaterUser: all its accounts
        )
    assert channels_of(a["water_user"]) == {"inbox", "email", "sms"}
    assert channels_of(a["bureau"]) == {"inbox", "email", "sms"}
    # the officer has no mobile number: the SMS is recorded as skipped, not lost silently
    skipped = Delivery.objects.get(recipient=a["township"], channel="sms")
    assert skipped.state == DeliveryState.SKIPPED
    assert set(SmsOutbox.objects.values_list("mobile", flat=True)) == {
        "13800000001",
        "13800000002",
    }


def test_rules_are_configurable(people: Any) -> None:
    a = people.accounts
    Rule.objects.filter(role="township").update(active=False)
    notify(event="alarm.opened", title="x", township=people.township_a)
    assert channels_of(a["township"]) == set()
    Rule.objects.create(role="inspector", event="alarm.opened", township=people.township_b)
    notify(event="alarm.opened", title="y", township=people.township_a)
    assert channels_of(a["inspector"]) == set()  # the rule is for 北留镇 only
    notify(event="alarm.opened", title="z", township=people.township_b)
    assert channels_of(a["inspector"]) == {"inbox"}
    Rule.objects.filter(role="bureau").update(min_severity="critical")
    before = Delivery.objects.filter(recipient=a["bureau"]).count()
    notify(event="permit.decided", title="info only", severity="info")
    assert Delivery.objects.filter(recipient=a["bureau"]).count() == before


def test_named_user_always_gets_inbox(people: Any) -> None:
    a = people.accounts
    Rule.objects.all().delete()
    assert notify(event="ticket.assigned", title="工单 #1", users=[a["inspector"]]) == 1
    assert [d.notice.title for d in inbox_of(a["inspector"])] == ["工单 #1"]
    assert list(inbox_of(a["bureau"])) == []


def test_bad_event_or_severity_is_refused(people: Any) -> None:
    with pytest.raises(ValueError, match="event"):
        notify(event="alarm.nonsense", title="x")
    with pytest.raises(ValueError, match="severity"):
        notify(event="alarm.opened", title="x", severity="fatal")
    assert not Notice.objects.exists()


def test_failed_email_is_retried_never_lost(
    people: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.EMAIL_BACKEND = "tests.notifications.failing_backend.Backend"
    with django_capture_on_commit_callbacks(execute=True):
        notify(event="permit.decided", title="许可已批准", users=[people.user_a])
    failed = Delivery.objects.filter(channel="email", state=DeliveryState.FAILED)
    assert failed.count() == 2  # bureau + the water user
    d = failed.first()
    assert d is not None and d.attempts == 1 and "refused" in d.last_error
    # not due yet: nothing is tried again before its back-off
    assert deliver()["sent"] == 0
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    from aquifer.notifications.jobs import retry_deliveries

    later = d.next_attempt_at
    assert later is not None
    import datetime as dt
    from unittest import mock

    with mock.patch("django.utils.timezone.now", return_value=later + dt.timedelta(seconds=1)):
        retry_deliveries()
    assert not Delivery.objects.filter(state=DeliveryState.FAILED).exists()
    assert Delivery.objects.filter(channel="email", state=DeliveryState.SENT).count() == 2
    assert len(mail.outbox) == 2


def test_rolled_back_change_sends_nothing(
    people: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                notify(event="alarm.opened", title="x", township=people.township_a)
                raise RuntimeError
        except RuntimeError:
            pass
    assert not Notice.objects.exists()
    assert mail.outbox == []


class RecordingSender:
    sent: list[tuple[str, str]] = []

    def send(self, mobile: str, text: str, *, delivery: Any = None) -> str:
        RecordingSender.sent.append((mobile, text))
        return "gw-1"


def test_sms_gateway_plugs_in_by_setting(
    people: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.AQUIFER = {
        **settings.AQUIFER,
        "NOTIFICATIONS": {
            "SMS_SENDER": "tests.notifications.test_service.RecordingSender",
            "SITE_URL": "https://gw.example.cn",
        },
    }
    RecordingSender.sent = []
    with django_capture_on_commit_callbacks(execute=True):
        notify(event="alarm.opened", title="严重告警", severity="critical", url="/x/")
    assert [m for m, _ in RecordingSender.sent] == ["13800000001"]
    assert RecordingSender.sent[0][1].endswith("水务】严重告警 https://gw.example.cn/x/")
    assert Delivery.objects.get(channel="sms", recipient=people.accounts["bureau"]).state == "sent"
    assert not SmsOutbox.objects.exists()


def test_outbox_is_written_once_per_delivery(people: Any) -> None:
    from aquifer.notifications.channels import OutboxSmsSender

    notify(event="alarm.opened", title="x", severity="critical")
    d = Delivery.objects.get(channel="sms", recipient=people.accounts["bureau"])
    OutboxSmsSender().send(d.address, "x", delivery=d)
    OutboxSmsSender().send(d.address, "x", delivery=d)  # a retry after a crash
    assert SmsOutbox.objects.filter(delivery=d).count() == 1


def test_stale_claim_is_taken_again(people: Any) -> None:
    import datetime as dt

    from django.utils import timezone

    notify(event="permit.decided", title="x")  # no on_commit run: stays pending
    d = Delivery.objects.get(channel="email", recipient=people.accounts["bureau"])
    Delivery.objects.filter(pk=d.pk).update(
        state="sending", claimed_at=timezone.now() - dt.timedelta(minutes=5)
    )
    assert deliver()["sent"] == 0  # another worker may still be at it
    Delivery.objects.filter(pk=d.pk).update(claimed_at=timezone.now() - dt.timedelta(hours=1))
    assert deliver()["sent"] == 1
    assert len(mail.outbox) == 1


def test_users_may_be_ids_and_bad_ones_are_refused(people: Any) -> None:
    Rule.objects.all().delete()
    assert notify(event="trade.completed", title="x", users=[people.accounts["public"].pk]) == 1
    with pytest.raises(TypeError):
        notify(event="trade.completed", title="x", users=["someone"])


def test_inactive_users_get_nothing(people: Any) -> None:
    officer = people.accounts["township"]
    officer.is_active = False
    officer.save()
    notify(event="alarm.opened", title="x", township=people.township_a, users=[officer])
    assert channels_of(officer) == set()
