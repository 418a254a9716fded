"""``notify``: the one way other apps tell people something (COMMON.md interface 3).

::

    from aquifer.notifications.service import notify

    notify(event="ticket.closed",
           title=text(gettext_noop("运维工单 %(number)s 已完成"), number=t.number),
           township=well.township, url=t.get_absolute_url(), severity="info",
           users=[well.owner])   # the water user whose device it is

A title or body is a stored text (``aquifer.core.texts.text``: a message id and its
params), shown to each reader in their language; a plain string is shown as it is (proper
names only). An app with its own message codes passes ``message`` and ``params`` instead and
renders them through ``notifications.hooks.notice_text``. The title and body as sent (in the
default language) are kept on the notice for e-mail, SMS and search.

Recipients come from the :class:`~aquifer.notifications.models.Rule` table (per role and
township, edited by the bureau): bureau staff and inspectors county-wide, township officers for
events of their own township, water users only when the event names them. ``users`` names the
people (``User``), water users (``registry.WaterUser``: all their accounts) or user ids an
event concerns; a named user always gets the inbox message, and e-mail / SMS as their role's
rules say.

Inbox messages exist when ``notify`` returns. E-mail and SMS are sent after the surrounding
transaction commits (nothing goes out for a change that was rolled back); a failure is recorded
on the delivery and retried by ``notifications.jobs.retry_deliveries`` until it goes through.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone, translation

from aquifer.core.roles import Role, role_of
from aquifer.core.texts import is_stored_text, render
from aquifer.notifications.channels import CHANNELS, notification_settings
from aquifer.notifications.choices import ALL_EVENTS, Channel, DeliveryState, Event, Severity
from aquifer.notifications.models import TEXT_MESSAGE, Delivery, Notice, Rule

__all__ = ["deliver", "inbox_of", "mark_read", "notify", "recipients", "unread_count"]

log = logging.getLogger(__name__)

#: A delivery claimed this long ago and still "sending" was lost with its process.
STALE_CLAIM = dt.timedelta(minutes=15)


def _id(obj: Any) -> int | None:
    if obj is None:
        return None
    if isinstance(obj, int):
        return obj
    return int(obj.pk)


def _named_users(users: Iterable[Any] | None) -> set[int]:
    """User ids of ``users``: accounts, water users (their accounts) or ids."""
    if not users:
        return set()
    ids: set[int] = set()
    water_users: list[int] = []
    User = get_user_model()
    for u in users:
        if u is None:
            continue
        if isinstance(u, int):
            ids.add(u)
        elif isinstance(u, User):
            ids.add(int(u.pk))
        elif getattr(u, "_meta", None) is not None and u._meta.label_lower == "registry.wateruser":
            water_users.append(int(u.pk))
        else:
            raise TypeError(f"notify(users=...): cannot address {u!r}")
    if water_users:
        ids.update(
            User.objects.filter(water_user_id__in=water_users, is_active=True).values_list(
                "pk", flat=True
            )
        )
    return ids


def recipients(
    event: str, severity: str, township_id: int | None, named: set[int]
) -> dict[Any, set[str]]:
    """Each recipient (a User) and the channels they get this event on."""
    User = get_user_model()
    rules = [
        r
        for r in Rule.objects.filter(active=True, event__in=[event, ALL_EVENTS])
        if r.matches(event, severity, township_id)
    ]
    broadcast_roles = {r.role for r in rules if not r.addressed_only and r.role != Role.WATER_USER}
    who = models.Q(pk__in=named)
    if Role.BUREAU in broadcast_roles:
        who |= models.Q(role=Role.BUREAU) | models.Q(is_superuser=True)
    if Role.INSPECTOR in broadcast_roles:
        who |= models.Q(role=Role.INSPECTOR)
    if Role.TOWNSHIP in broadcast_roles and township_id is not None:
        who |= models.Q(role=Role.TOWNSHIP, township_id=township_id)
    out: dict[Any, set[str]] = {}
    for user in User.objects.filter(who, is_active=True).select_related("contact"):
        role = role_of(user)
        is_named = user.pk in named
        channels: set[str] = {Channel.INBOX} if is_named else set()
        for r in rules:
            if r.role != role:
                continue
            if (r.addressed_only or role == Role.WATER_USER) and not is_named:
                continue
            if role == Role.TOWNSHIP and not is_named and user.township_id != township_id:
                continue
            channels.update(r.channels)
        if channels:
            out[user] = channels
    return out


def notify(
    *,
    event: str,
    title: Any,
    body: Any = "",
    message: str = "",
    params: dict[str, Any] | None = None,
    township: Any = None,
    url: str = "",
    severity: str = "info",
    users: Iterable[Any] | None = None,
) -> int:
    """Deliver a notice by the subscription rules; returns the number of messages created
    (one per recipient and channel; a channel the recipient has no address for is recorded
    as skipped and not counted)."""
    if event not in Event.values:
        raise ValueError(f"unknown notification event {event!r}")
    if severity not in Severity.values:
        raise ValueError(f"unknown severity {severity!r}")
    township_id = _id(township)
    now = timezone.now()
    if not message and (is_stored_text(title) or is_stored_text(body)):
        message, params = TEXT_MESSAGE, {"title": title, "body": body}
    with translation.override(settings.LANGUAGE_CODE):  # as sent: the default language
        title, body = render(title), render(body)
    with transaction.atomic():  # a savepoint: an error here cannot break the caller's transaction
        named = _named_users(users)
        notice = Notice.objects.create(
            event=event,
            title=title[:200],
            body=body,
            message=message[:64],
            params=params or {},
            url=url[:300],
            severity=severity,
            township_id=township_id,
            created_at=now,
        )
        rows: list[Delivery] = []
        for user, channels in recipients(event, severity, township_id, named).items():
            for name in sorted(channels):
                channel = CHANNELS[name]
                address = channel.address(user)
                row = Delivery(notice=notice, recipient=user, channel=name, address=address)
                if channel.immediate:
                    row.state, row.sent_at = DeliveryState.SENT, now
                elif not address:
                    row.state = DeliveryState.SKIPPED
                    row.last_error = "no address"
                else:
                    row.next_attempt_at = now
                rows.append(row)
        Delivery.objects.bulk_create(rows)
        if any(r.state == DeliveryState.PENDING for r in rows):
            transaction.on_commit(lambda: deliver(notice_id=notice.pk))
    return sum(1 for r in rows if r.state != DeliveryState.SKIPPED)


def _backoff(attempts: int) -> dt.timedelta:
    cap = int(notification_settings()["RETRY_MAX_DELAY_MINUTES"])
    return dt.timedelta(minutes=min(2 ** max(attempts - 1, 0), cap))


def deliver(*, notice_id: int | None = None, now: dt.datetime | None = None) -> dict[str, int]:
    """Send the due e-mail and SMS deliveries (of one notice, or all); returns counts.

    Each delivery is claimed with a conditional UPDATE, so two workers never send the same
    one at once. A failure is recorded (error, attempt count) and retried with exponential
    back-off, capped at ``RETRY_MAX_DELAY_MINUTES``; nothing is given up.
    """
    now = now or timezone.now()
    due = models.Q(state__in=[DeliveryState.PENDING, DeliveryState.FAILED]) & (
        models.Q(next_attempt_at__isnull=True) | models.Q(next_attempt_at__lte=now)
    )
    stale = models.Q(state=DeliveryState.SENDING, claimed_at__lt=now - STALE_CLAIM)
    qs = Delivery.objects.filter(due | stale).exclude(channel=Channel.INBOX)
    if notice_id is not None:
        qs = qs.filter(notice_id=notice_id)
    counts = {"sent": 0, "failed": 0}
    for pk in list(qs.order_by("pk").values_list("pk", flat=True)[:1000]):
        claimed = (
            Delivery.objects.filter(pk=pk)
            .filter(due | stale)
            .update(state=DeliveryState.SENDING, claimed_at=now, attempts=F("attempts") + 1)
        )
        if not claimed:
            continue
        delivery = Delivery.objects.select_related("notice").get(pk=pk)
        try:
            CHANNELS[delivery.channel].send(delivery)
        except Exception as exc:  # any transport error: record it, retry later
            log.warning("delivery %s via %s failed: %s", pk, delivery.channel, exc)
            Delivery.objects.filter(pk=pk).update(
                state=DeliveryState.FAILED,
                last_error=f"{type(exc).__name__}: {exc}"[:2000],
                next_attempt_at=now + _backoff(delivery.attempts),
            )
            counts["failed"] += 1
        else:
            Delivery.objects.filter(pk=pk).update(
                state=DeliveryState.SENT, sent_at=timezone.now(), last_error=""
            )
            counts["sent"] += 1
    return counts


def inbox_of(user: Any) -> models.QuerySet[Delivery]:
    """A user's inbox: their own inbox deliveries, newest first (nobody reads another's)."""
    if not getattr(user, "is_authenticated", False):
        return Delivery.objects.none()
    return Delivery.objects.filter(recipient=user, channel=Channel.INBOX).select_related("notice")


def unread_count(user: Any) -> int:
    return inbox_of(user).filter(read_at__isnull=True).count()


def mark_read(user: Any, ids: Iterable[int] | None = None) -> int:
    """Mark some (or all) of a user's inbox messages read; returns how many changed."""
    qs = inbox_of(user).filter(read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())
