"""Device upkeep (R4.4): maintenance tickets (运维工单) and patrol inspections (巡检).

A :class:`Ticket` is opened from an alarm, by a water user reporting a fault on one of their
devices, from a patrol finding, or by staff; it is assigned, worked and closed with what was
done. Its state moves only through ``maintenance.workflow``; every move is a
:class:`TicketEvent` on its timeline and, the ticket being tracked, an audit entry.
A :class:`Patrol` is one visit to a device or well with a checklist whose items are data
(:class:`ChecklistItem`), so the bureau can change the list without a release.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aquifer.core.audit import track
from aquifer.core.models import Docketed
from aquifer.core.scoping import Scope
from aquifer.core.texts import loaded_text
from aquifer.maintenance import workflow
from aquifer.registry.models.parts import TownshipAndOwner


class TicketState(models.TextChoices):
    NEW = workflow.NEW, _("待派单")
    ASSIGNED = workflow.ASSIGNED, _("已派单")
    IN_PROGRESS = workflow.IN_PROGRESS, _("处理中")
    CLOSED = workflow.CLOSED, _("已完成")
    CANCELLED = workflow.CANCELLED, _("已撤销")


class TicketSource(models.TextChoices):
    ALARM = "alarm", _("告警")
    USER_REPORT = "user_report", _("用户报修")
    PATROL = "patrol", _("巡检发现")
    STAFF = "staff", _("工作人员")


class Priority(models.TextChoices):
    LOW = "low", _("低")
    NORMAL = "normal", _("普通")
    HIGH = "high", _("高")
    URGENT = "urgent", _("紧急")


class TicketAction(models.TextChoices):
    OPEN = "open", _("创建")
    ASSIGN = "assign", _("派单")
    START = "start", _("开始处理")
    NOTE = "note", _("备注")
    CLOSE = "close", _("完成")
    CANCEL = "cancel", _("撤销")
    REOPEN = "reopen", _("重新打开")


@track
class Ticket(Docketed, TownshipAndOwner):
    """A maintenance ticket for a device (运维工单)."""

    NUMBER_PREFIX = "WX"
    OPEN_STATES = workflow.OPEN_STATES

    title = models.CharField(_("标题"), max_length=200)
    description = models.TextField(_("故障描述"), blank=True)
    source = models.CharField(
        _("来源"), max_length=16, choices=TicketSource.choices, default=TicketSource.STAFF
    )
    priority = models.CharField(
        _("优先级"), max_length=8, choices=Priority.choices, default=Priority.NORMAL
    )
    state = models.CharField(
        _("状态"), max_length=16, choices=TicketState.choices, default=TicketState.NEW
    )
    device = models.ForeignKey(
        "registry.Device",
        verbose_name=_("监测设备"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    alarm = models.ForeignKey(
        "monitoring.Alarm",
        verbose_name=_("告警"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("报告人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="maintenance_tickets",
    )
    opened_at = models.DateTimeField(_("创建时间"), default=timezone.now, db_index=True)
    due_at = models.DateTimeField(_("处理时限"), null=True, blank=True)
    assigned_at = models.DateTimeField(_("派单时间"), null=True, blank=True)
    started_at = models.DateTimeField(_("开始处理时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    resolution = models.TextField(_("处理结果"), blank=True)

    class Meta:
        verbose_name = _("运维工单")
        verbose_name_plural = _("运维工单")
        ordering = ["-opened_at", "-id"]
        indexes = [
            models.Index(fields=["state", "township"], name="ticket_state_township"),
            models.Index(fields=["device", "state"], name="ticket_device_state"),
        ]

    def get_absolute_url(self) -> str:
        return reverse("maintenance:ticket_detail", args=[self.pk])

    def derive_place(self) -> None:
        """Township and owner follow the device (else the alarm); never typed."""
        well = self.device.well if self.device_id and self.device else None
        if well is not None:
            self.township_id, self.owner_id = well.township_id, well.owner_id
        elif self.alarm_id and self.alarm is not None:
            self.township_id, self.owner_id = self.alarm.township_id, self.alarm.owner_id

    def clean(self) -> None:
        super().clean()
        if not self.device_id and not self.alarm_id:
            raise ValidationError({"device": _("请选择故障设备（或从告警创建工单）。")})
        if self.state == TicketState.CLOSED and not self.resolution.strip():
            raise ValidationError({"resolution": _("完成工单时必须填写处理结果。")})

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.derive_place()
        super().save(*args, **kwargs)


class TicketEvent(models.Model):
    """One step on a ticket's timeline: who did what, when, and what they wrote."""

    scope = Scope(township="ticket__township_id", owner="ticket__owner_id")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("时间"), default=timezone.now)
    action = models.CharField(_("动作"), max_length=8, choices=TicketAction.choices)
    from_state = models.CharField(_("原状态"), max_length=16, blank=True)
    to_state = models.CharField(_("新状态"), max_length=16, choices=TicketState.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(_("操作人"), max_length=150, blank=True)
    assignee_name = models.CharField(_("处理人"), max_length=150, blank=True)
    note = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("工单记录")
        verbose_name_plural = _("工单记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.action}"


@track
class ChecklistItem(models.Model):
    """One item of the patrol checklist (seal intact, meter legible, …), edited by the bureau."""

    scope = Scope(shared=True)

    code = models.SlugField(_("代码"), max_length=32, unique=True)
    label = models.CharField(_("检查项"), max_length=100)
    help_text = models.CharField(_("说明"), max_length=200, blank=True)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("巡检项目")
        verbose_name_plural = _("巡检项目")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.label

    @property
    def display_label(self) -> str:
        """The label in the reader's language when it is one the system loaded (migration
        0002: its Chinese text is its message id); as the bureau wrote it otherwise."""
        return loaded_text(self.label)

    @property
    def display_help(self) -> str:
        return loaded_text(self.help_text)


class CheckResult(models.TextChoices):
    OK = "ok", _("正常")
    FAULT = "fault", _("异常")
    NA = "na", _("不适用")


@track
class Patrol(TownshipAndOwner):
    """One patrol visit (巡检) to a device and its well, with the checklist as answered.

    ``checks`` keeps each item's code, label (as it read that day), result and note, so a
    later change of the checklist does not rewrite past records.
    """

    device = models.ForeignKey(
        "registry.Device", verbose_name=_("监测设备"), on_delete=models.PROTECT, related_name="+"
    )
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("巡检人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    visited_at = models.DateTimeField(_("巡检时间"), default=timezone.now, db_index=True)
    checks = models.JSONField(_("检查结果"), default=list)
    meter_reading = models.FloatField(_("表底读数 (m³)"), null=True, blank=True)
    findings = models.TextField(_("发现问题"), blank=True)
    ticket = models.ForeignKey(
        Ticket,
        verbose_name=_("运维工单"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="patrols",
    )

    class Meta:
        verbose_name = _("巡检记录")
        verbose_name_plural = _("巡检记录")
        ordering = ["-visited_at", "-id"]

    def __str__(self) -> str:
        return f"{self.device} {self.visited_at:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return reverse("maintenance:patrol_detail", args=[self.pk])

    @property
    def faults(self) -> list[dict[str, Any]]:
        return [c for c in self.checks if c.get("result") == CheckResult.FAULT]

    def clean(self) -> None:
        super().clean()
        if self.visited_at and self.visited_at > timezone.now() + dt.timedelta(minutes=5):
            raise ValidationError({"visited_at": _("巡检时间不能晚于当前时间。")})

    def save(self, *args: Any, **kwargs: Any) -> None:
        well = self.device.well if self.device_id else None
        if well is not None:
            self.township_id, self.owner_id = well.township_id, well.owner_id
        super().save(*args, **kwargs)
