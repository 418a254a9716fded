"""Notifications: who receives what (rules), the notices themselves, their deliveries per
channel (the in-app inbox is the ``inbox`` channel), the SMS outbox and users' mobile numbers.

A :class:`Notice` is one call of :func:`aquifer.notifications.service.notify`; it has one
:class:`Delivery` per recipient and channel. Inbox deliveries are delivered when created; e-mail
and SMS deliveries are sent after the transaction commits and, when that fails, retried by the
job in ``notifications/jobs.py`` until they go through — a delivery is never dropped.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aquifer.core.audit import track
from aquifer.core.roles import Role
from aquifer.core.scoping import Scope
from aquifer.core.texts import render
from aquifer.notifications.choices import (
    ALL_EVENTS,
    Channel,
    DeliveryState,
    Event,
    Severity,
    severity_rank,
)
from aquifer.notifications.hooks import notice_text

#: ``Notice.message`` of a notice whose params hold its title and body as stored texts.
TEXT_MESSAGE = "text"

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")

EVENT_CHOICES = [(ALL_EVENTS, _("全部事件")), *Event.choices]


@track
class Rule(models.Model):
    """Who receives which event, on which channels (edited by the bureau).

    A rule applies to the users of ``role``: bureau staff and inspectors county-wide, township
    officers for events in their own township, and — when ``addressed_only`` is set, and always
    for water users — only to the users an event names (a water user's own device or permit,
    the person a ticket is assigned to). ``township`` narrows a rule to events of one township.
    """

    scope = Scope(township="township_id", shared=True)

    event = models.CharField(_("事件"), max_length=32, choices=EVENT_CHOICES, default=ALL_EVENTS)
    role = models.CharField(
        _("角色"),
        max_length=16,
        choices=[c for c in Role.choices if c[0] != Role.PUBLIC],
    )
    township = models.ForeignKey(
        "registry.Township",
        verbose_name=_("乡镇"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("留空表示全部乡镇"),
    )
    addressed_only = models.BooleanField(
        _("仅限事件指名的用户"),
        default=False,
        help_text=_("只发给事件点名的用户（如设备所属取用水户、工单处理人）"),
    )
    inbox = models.BooleanField(_("站内信"), default=True)
    email = models.BooleanField(_("电子邮件"), default=False)
    sms = models.BooleanField(_("短信"), default=False)
    min_severity = models.CharField(
        _("最低级别"), max_length=8, choices=Severity.choices, default=Severity.INFO
    )
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("通知规则")
        verbose_name_plural = _("通知规则")
        ordering = ["role", "event", "id"]

    def __str__(self) -> str:
        return f"{self.get_role_display()} · {self.get_event_display()}"

    def clean(self) -> None:
        super().clean()
        if not (self.inbox or self.email or self.sms):
            raise ValidationError({"inbox": _("至少选择一个通知渠道。")})

    @property
    def channels(self) -> list[str]:
        return [c for c in Channel.values if getattr(self, c)]

    def matches(self, event: str, severity: str, township_id: int | None) -> bool:
        return (
            self.active
            and self.event in (ALL_EVENTS, event)
            and severity_rank(severity) >= severity_rank(self.min_severity)
            and (self.township_id is None or self.township_id == township_id)
        )


def validate_mobile(value: str) -> None:
    if value and not MOBILE_RE.match(value):
        raise ValidationError(_("手机号应为 11 位中国大陆手机号码，如 13812345678。"))


@track
class Contact(models.Model):
    """A user's mobile number for SMS (core.User has the e-mail address)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="contact",
    )
    mobile = models.CharField(_("手机号"), max_length=11, blank=True, validators=[validate_mobile])

    class Meta:
        verbose_name = _("联系方式")
        verbose_name_plural = _("联系方式")

    def __str__(self) -> str:
        return f"{self.user} {self.mobile}"


class Notice(models.Model):
    """One event that was notified: what, how grave, where, and a link to the record.

    What it says is stored as a message code and params (``message``, ``params``) and shown
    in the reader's language (:attr:`display_title`, :attr:`display_body`): ``"text"`` holds
    a title and body as :mod:`aquifer.core.texts` stored forms; another code is rendered by
    the app that sent it (``notifications.hooks.notice_text``). ``title`` and ``body`` are
    the texts as sent (the default language; e-mail and SMS carry them) and what a notice
    stored before codes existed shows.
    """

    scope = Scope(township="township_id")

    event = models.CharField(_("事件"), max_length=32, choices=Event.choices)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    message = models.CharField(_("消息代码"), max_length=64, blank=True)
    params = models.JSONField(_("消息参数"), default=dict, blank=True)
    url = models.CharField(_("链接"), max_length=300, blank=True)
    severity = models.CharField(_("级别"), max_length=8, choices=Severity.choices)
    township = models.ForeignKey(
        "registry.Township",
        verbose_name=_("乡镇"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title

    def _rendered(self) -> tuple[str, str]:
        params = self.params if isinstance(self.params, dict) else {}
        if self.message == TEXT_MESSAGE:
            return render(params.get("title", self.title)), render(params.get("body", self.body))
        if self.message:
            for fn in notice_text.functions:
                found = fn(self.message, params)
                if found is not None:
                    title, body = found
                    return (
                        self.title if title is None else title,
                        self.body if body is None else body,
                    )
        return self.title, self.body

    @property
    def display_title(self) -> str:
        """The title in the current language (as sent, for a notice without a code)."""
        return self._rendered()[0]

    @property
    def display_body(self) -> str:
        return self._rendered()[1]


class Delivery(models.Model):
    """A notice to one recipient on one channel; the inbox is the ``inbox`` deliveries."""

    scope = Scope(township="notice__township_id")

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="deliveries")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("收件人"),
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    channel = models.CharField(_("渠道"), max_length=8, choices=Channel.choices)
    address = models.CharField(_("地址"), max_length=254, blank=True)
    state = models.CharField(
        _("状态"), max_length=8, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    last_error = models.TextField(_("最近错误"), blank=True)
    next_attempt_at = models.DateTimeField(_("下次尝试"), null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知投递")
        verbose_name_plural = _("通知投递")
        ordering = ["-notice__created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "channel", "read_at"], name="notif_inbox_idx"),
            models.Index(fields=["state", "next_attempt_at"], name="notif_retry_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["notice", "recipient", "channel"], name="notif_one_delivery_per_channel"
            )
        ]

    def __str__(self) -> str:
        return f"{self.notice} → {self.recipient} ({self.channel})"


class SmsOutbox(models.Model):
    """Text messages waiting for (or handed to) an SMS gateway.

    ``OutboxSmsSender`` writes here; a gateway process sends ``queued`` rows and marks them
    ``sent`` with the gateway's id (docs/notifications.md).
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("待发送")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")

    delivery = models.OneToOneField(
        Delivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="sms"
    )
    mobile = models.CharField(_("手机号"), max_length=11)
    text = models.CharField(_("短信内容"), max_length=500)
    state = models.CharField(_("状态"), max_length=8, choices=State.choices, default=State.QUEUED)
    gateway_id = models.CharField(_("网关编号"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("短信发件箱")
        verbose_name_plural = _("短信发件箱")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.mobile}: {self.text[:20]}"
