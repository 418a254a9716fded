"""E-mail goes out over real SMTP: an aiosmtpd server on a free local port receives it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.header import decode_header, make_header
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from aquifer.notifications.models import Delivery
from aquifer.notifications.service import notify

pytestmark = pytest.mark.django_db


class Sink:
    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.refuse = False

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.refuse:
            return "550 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp(settings: Any) -> Iterator[Sink]:
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    settings.DEFAULT_FROM_EMAIL = "aquifer@yangcheng.example.cn"
    settings.AQUIFER = {**settings.AQUIFER, "NOTIFICATIONS": {"SITE_URL": "https://gw.example.cn"}}
    try:
        yield sink
    finally:
        controller.stop()


def test_email_arrives_over_smtp(
    world: Any, smtp: Sink, django_capture_on_commit_callbacks: Any
) -> None:
    officer = world.accounts["township"]
    officer.email = "officer@example.cn"
    officer.save()
    with django_capture_on_commit_callbacks(execute=True):
        notify(
            event="alarm.opened",
            title="W-A-1 计量设施离线",
            body="超过 3 个上报周期未上报",
            township=world.township_a,
            url="/monitoring/alarms/7/",
            severity="warning",
        )
    assert len(smtp.messages) == 1
    env = smtp.messages[0]
    assert env.rcpt_tos == ["officer@example.cn"]
    assert env.mail_from == "aquifer@yangcheng.example.cn"
    msg = message_from_bytes(env.original_content)
    assert "W-A-1 计量设施离线" in str(make_header(decode_header(msg["Subject"])))
    text = msg.get_payload(decode=True).decode(msg.get_content_charset() or "utf-8")
    assert (
        "超过 3 个上报周期未上报" in text and "https://gw.example.cn/monitoring/alarms/7/" in text
    )
    assert Delivery.objects.get(channel="email", recipient=officer).state == "sent"


def test_refused_then_retried(
    world: Any, smtp: Sink, django_capture_on_commit_callbacks: Any
) -> None:
    import datetime as dt
    from unittest import mock

    from aquifer.notifications.jobs import retry_deliveries

    bureau = world.accounts["bureau"]
    bureau.email = "bureau@example.cn"
    bureau.save()
    smtp.refuse = True
    with django_capture_on_commit_callbacks(execute=True):
        notify(event="permit.deadline", title="许可证 30 天后到期")
    d = Delivery.objects.get(channel="email")
    assert d.state == "failed" and "550" in d.last_error and smtp.messages == []
    smtp.refuse = False
    assert d.next_attempt_at is not None
    with mock.patch(
        "django.utils.timezone.now", return_value=d.next_attempt_at + dt.timedelta(seconds=1)
    ):
        retry_deliveries()
    d.refresh_from_db()
    assert d.state == "sent" and d.attempts == 2
    assert len(smtp.messages) == 1


def test_server_down_is_recorded(
    world: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    bureau = world.accounts["bureau"]
    bureau.email = "bureau@example.cn"
    bureau.save()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    with django_capture_on_commit_callbacks(execute=True):
        notify(event="permit.deadline", title="x")
    d = Delivery.objects.get(channel="email")
    assert d.state == "failed" and "Connection" in d.last_error
