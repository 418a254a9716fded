"""The delivery interface: one small class per channel (inbox, e-mail, SMS).

A channel knows a recipient's address on it and sends one delivery; ``send`` raises on
failure (the caller records the error and the retry job tries again). SMS goes through an
:class:`SmsSender`; the one shipped, :class:`OutboxSmsSender`, writes the ``SmsOutbox`` table,
from which a gateway sends. A real gateway plugs in by naming its sender class in
``AQUIFER["NOTIFICATIONS"]["SMS_SENDER"]`` (docs/notifications.md).
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar, Protocol

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.module_loading import import_string

from aquifer.notifications.choices import Channel
from aquifer.notifications.models import Delivery, SmsOutbox

__all__ = [
    "CHANNELS",
    "DeliveryChannel",
    "EmailChannel",
    "InboxChannel",
    "OutboxSmsSender",
    "SmsChannel",
    "SmsSender",
    "notification_settings",
    "sms_sender",
]

DEFAULTS: dict[str, Any] = {
    "SMS_SENDER": "aquifer.notifications.channels.OutboxSmsSender",
    "SITE_URL": "",
    "EMAIL_SUBJECT_PREFIX": "",
    "RETRY_MAX_DELAY_MINUTES": 360,
}


def notification_settings() -> dict[str, Any]:
    """``AQUIFER["NOTIFICATIONS"]`` over the defaults above."""
    return {**DEFAULTS, **settings.AQUIFER.get("NOTIFICATIONS", {})}


def absolute(url: str) -> str:
    if not url or url.startswith(("http://", "https://")):
        return url
    return str(notification_settings()["SITE_URL"]).rstrip("/") + url


class DeliveryChannel(abc.ABC):
    """Send one delivery. Subclasses set ``name`` and implement ``address`` and ``send``."""

    name: ClassVar[str]
    #: True when creating the delivery is delivering it (the inbox).
    immediate: ClassVar[bool] = False

    @abc.abstractmethod
    def address(self, user: Any) -> str:
        """Where this channel reaches ``user`` ("" when it cannot)."""

    @abc.abstractmethod
    def send(self, delivery: Delivery) -> None:
        """Deliver ``delivery``; raise to have it retried."""


class InboxChannel(DeliveryChannel):
    name = Channel.INBOX
    immediate = True

    def address(self, user: Any) -> str:
        return str(user.pk)

    def send(self, delivery: Delivery) -> None:
        """Nothing to send: the delivery row is the inbox entry."""


class EmailChannel(DeliveryChannel):
    """E-mail through Django's e-mail backend (SMTP, configured by ``EMAIL_*`` settings)."""

    name = Channel.EMAIL

    def address(self, user: Any) -> str:
        return str(user.email or "")

    def send(self, delivery: Delivery) -> None:
        notice = delivery.notice
        prefix = notification_settings()["EMAIL_SUBJECT_PREFIX"] or (
            f"[{settings.AQUIFER.get('COUNTY_NAME', '')}] "
            if settings.AQUIFER.get("COUNTY_NAME")
            else ""
        )
        lines = [notice.body] if notice.body else []
        if notice.url:
            lines.append(absolute(notice.url))
        EmailMessage(
            subject=(prefix + notice.title).replace("\n", " ")[:250],
            body="\n\n".join(lines) or notice.title,
            to=[delivery.address],
        ).send(fail_silently=False)


class SmsSender(Protocol):
    """Hands one text to an SMS gateway; returns the gateway's id for it, raises on failure."""

    def send(self, mobile: str, text: str, *, delivery: Delivery | None = None) -> str: ...


class OutboxSmsSender:
    """Writes the text to ``SmsOutbox`` (state queued); a gateway sends from there."""

    def send(self, mobile: str, text: str, *, delivery: Delivery | None = None) -> str:
        if delivery is not None:
            # A retry after a crash between writing the row and marking the delivery sent.
            existing = SmsOutbox.objects.filter(delivery=delivery).first()
            if existing is not None:
                return f"outbox:{existing.pk}"
        row = SmsOutbox.objects.create(delivery=delivery, mobile=mobile, text=text[:500])
        return f"outbox:{row.pk}"


def sms_sender() -> SmsSender:
    cls = import_string(notification_settings()["SMS_SENDER"])
    sender: SmsSender = cls()
    return sender


class SmsChannel(DeliveryChannel):
    name = Channel.SMS

    def address(self, user: Any) -> str:
        contact = getattr(user, "contact", None)
        return str(contact.mobile) if contact is not None else ""

    def send(self, delivery: Delivery) -> None:
        notice = delivery.notice
        text = f"【{settings.AQUIFER.get('COUNTY_NAME', '')}水务】{notice.title}"
        if notice.url:
            text += " " + absolute(notice.url)
        sms_sender().send(delivery.address, text, delivery=delivery)


CHANNELS: dict[str, DeliveryChannel] = {
    c.name: c for c in (InboxChannel(), EmailChannel(), SmsChannel())
}
