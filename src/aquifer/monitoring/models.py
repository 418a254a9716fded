"""Models of the monitoring app: alarms, quality findings, check settings, meter changes,
device state and daily network health, and the state of the background jobs.

Alarms (告警)
    One row per condition episode. ``(kind, key)`` names the condition ("device_offline:
    device:17"); a partial unique index allows at most one *open* (open or acknowledged) alarm
    per condition, so a condition that persists updates its alarm (``last_seen``, ``count``)
    instead of flooding the board. Lifecycle: open → acknowledged → resolved, or closed as
    false (误报) from open or acknowledged; a resolved or false alarm is final, a new episode
    of the condition opens a new alarm. :class:`AlarmEvent` keeps the history.

Findings (质量检查结果)
    :class:`ReadingFinding` records which check flagged which reading (one row per reading and
    check), and its review: a reviewer confirms the flag or overrides it with a reason.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aquifer.core.audit import track
from aquifer.core.scoping import Scope
from aquifer.core.texts import choice_label
from aquifer.monitoring import messages
from aquifer.registry.models.parts import TownshipAndOwner
from aquifer.telemetry.elements import ELEMENTS

__all__ = [
    "Alarm",
    "AlarmEvent",
    "AlarmKind",
    "AlarmSeverity",
    "AlarmState",
    "CheckSettings",
    "DeviceHealthDaily",
    "DeviceState",
    "LevelThreshold",
    "MeterChange",
    "ReadingFinding",
    "ReviewState",
    "Watermark",
]

_DEVICE_SCOPE = Scope(township="device__well__township_id", owner="device__well__owner_id")


class AlarmKind(models.TextChoices):
    DEVICE_OFFLINE = "device_offline", _("设备离线")
    LOW_BATTERY = "low_battery", _("电池电压低")
    DEVICE_STATUS = "device_status", _("设备状态报警")
    SUSPICIOUS_READING = "suspicious_reading", _("数据异常")
    UNREGISTERED_STATION = "unregistered_station", _("未登记测站")
    LEVEL_BELOW_WARNING = "level_below_warning", _("水位低于预警线")
    LEVEL_FALLING_FAST = "level_falling_fast", _("水位下降过快")
    QUOTA_80 = "quota_80", _("取水量达许可水量80%")
    QUOTA_100 = "quota_100", _("取水量超许可水量")
    DEEP_WITHDRAWAL = "deep_withdrawal", _("开采深层水")
    PROHIBITED_WITHDRAWAL = "prohibited_withdrawal", _("禁采区取水")
    QUALITY_WARNING = "quality_warning", _("水质预警")
    PERMIT_DEADLINE = "permit_deadline", _("许可证到期")
    PERMIT_UNUSED = "permit_unused", _("许可水量长期未用")
    METERING_MISSING = "metering_missing", _("计量设施不合规")
    SUSPECTED_BYPASS = "suspected_bypass", _("疑似绕表取水")
    CLOSED_WELL_WITHDRAWAL = "closed_well_withdrawal", _("关停井取水")


class AlarmSeverity(models.TextChoices):
    INFO = "info", _("提示")
    WARNING = "warning", _("警告")
    CRITICAL = "critical", _("严重")


SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}


class AlarmState(models.TextChoices):
    OPEN = "open", _("未处理")
    ACKNOWLEDGED = "acknowledged", _("已确认")
    RESOLVED = "resolved", _("已解除")
    FALSE = "false", _("误报关闭")


OPEN_STATES = (AlarmState.OPEN, AlarmState.ACKNOWLEDGED)


class Alarm(TownshipAndOwner):
    """An alarm (告警): one episode of one condition, with its lifecycle."""

    kind = models.CharField(_("告警类型"), max_length=32, choices=AlarmKind.choices)
    key = models.CharField(_("条件标识"), max_length=160)
    state = models.CharField(
        _("状态"), max_length=16, choices=AlarmState.choices, default=AlarmState.OPEN
    )
    severity = models.CharField(
        _("级别"), max_length=10, choices=AlarmSeverity.choices, default=AlarmSeverity.WARNING
    )
    title = models.CharField(_("标题"), max_length=200)
    detail = models.TextField(_("详情"), blank=True)
    # The title and detail as a message code and its params (monitoring.messages), rendered
    # in the reader's language; title / detail keep the default-language text for search.
    message = models.CharField(_("消息代码"), max_length=64, blank=True, default="")
    params = models.JSONField(_("消息参数"), default=dict, blank=True)
    data = models.JSONField(_("数据"), default=dict, blank=True)
    device = models.ForeignKey(
        "registry.Device",
        verbose_name=_("监测设备"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    well = models.ForeignKey(
        "registry.Well",
        verbose_name=_("井"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    opened_at = models.DateTimeField(_("发生时间"), default=timezone.now)
    last_seen = models.DateTimeField(_("最近出现"), default=timezone.now)
    count = models.PositiveIntegerField(_("出现次数"), default=1)
    due_at = models.DateTimeField(_("处理时限"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("升级时间"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确认人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("关闭人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.TextField(_("处理说明"), blank=True)

    class Meta:
        verbose_name = _("告警")
        verbose_name_plural = _("告警")
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "key"],
                condition=models.Q(state__in=["open", "acknowledged"]),
                name="alarm_one_open_per_condition",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "township", "opened_at"], name="alarm_state_township"),
            models.Index(fields=["kind", "key"], name="alarm_kind_key"),
            models.Index(fields=["state", "due_at"], name="alarm_state_due"),
            # the board: active alarms (closed_at IS NULL) newest first, read off the index
            models.Index(fields=["closed_at", "opened_at", "id"], name="alarm_board"),
            # the board's summary and groups: active alarms counted by kind, severity,
            # township and due time off the index alone (monitoring/board.py)
            models.Index(
                fields=["closed_at", "kind", "severity", "township", "due_at"],
                name="alarm_board_summary",
            ),
        ]

    def __str__(self) -> str:
        return f"{choice_label(AlarmKind, self.kind)} {self.display_title}"

    def get_absolute_url(self) -> str:
        return reverse("monitoring:alarm_detail", args=[self.pk])

    @property
    def display_title(self) -> str:
        """The title in the reader's language (``messages.title``)."""
        return messages.title(self)

    @property
    def display_detail(self) -> str:
        """The detail in the reader's language (``messages.detail``)."""
        return messages.detail(self)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def overdue(self) -> bool:
        return self.is_open and self.due_at is not None and self.due_at < timezone.now()


class AlarmEvent(models.Model):
    """One step in an alarm's history (opened, acknowledged, escalated, resolved …)."""

    scope = Scope(township="alarm__township_id", owner="alarm__owner_id")

    alarm = models.ForeignKey(Alarm, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("时间"), default=timezone.now)
    action = models.CharField(_("动作"), max_length=16)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    username = models.CharField(_("用户"), max_length=150, blank=True)
    note = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("告警记录")
        verbose_name_plural = _("告警记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.alarm_id} {self.action} {self.at:%Y-%m-%d %H:%M}"

    @property
    def action_label(self) -> str:
        return messages.event_action(self.action)

    @property
    def note_text(self) -> str:
        """The note in the reader's language where the system wrote it."""
        return messages.event_note(self, self.alarm)


class ReviewState(models.TextChoices):
    PENDING = "pending", _("待复核")
    CONFIRMED = "confirmed", _("确认异常")
    OVERRIDDEN = "overridden", _("撤销标记")


class ReadingFinding(models.Model):
    """Which check flagged which reading (质量检查结果), and its review."""

    scope = _DEVICE_SCOPE

    reading = models.ForeignKey(
        "telemetry.Reading", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    device = models.ForeignKey(
        "registry.Device", verbose_name=_("监测设备"), on_delete=models.PROTECT, related_name="+"
    )
    element = models.CharField(_("监测要素"), max_length=32)
    observed_at = models.DateTimeField(_("观测时间"))
    value = models.FloatField(_("数值"), null=True)
    check_kind = models.CharField(_("检查项"), max_length=16)
    flag = models.PositiveSmallIntegerField(_("所设标志"), default=0)
    severity = models.CharField(_("级别"), max_length=10, choices=AlarmSeverity.choices)
    message = models.CharField(_("说明"), max_length=300)
    found_at = models.DateTimeField(_("发现时间"), default=timezone.now)
    review = models.CharField(
        _("复核"), max_length=12, choices=ReviewState.choices, default=ReviewState.PENDING
    )
    reviewed_at = models.DateTimeField(_("复核时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("复核人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reason = models.TextField(_("复核理由"), blank=True)

    class Meta:
        verbose_name = _("质量检查结果")
        verbose_name_plural = _("质量检查结果")
        ordering = ["-observed_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["reading", "check_kind"], name="finding_reading_check"),
        ]
        indexes = [
            models.Index(fields=["review", "found_at"], name="finding_review"),
            models.Index(fields=["device", "element", "observed_at"], name="finding_series"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.check_kind} {self.device_id} {self.element} {self.observed_at:%Y-%m-%d %H:%M}"
        )


@track
class CheckSettings(models.Model):
    """Threshold overrides of the quality checks for one element, county-wide (no device) or
    for one device. Keys are the fields of ``monitoring.checks.CheckConfig``."""

    scope = Scope()  # the bureau's

    element = models.CharField(_("监测要素"), max_length=32)
    device = models.ForeignKey(
        "registry.Device",
        verbose_name=_("监测设备"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    overrides = models.JSONField(_("阈值"), default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("检查阈值")
        verbose_name_plural = _("检查阈值")
        constraints = [
            models.UniqueConstraint(
                fields=["element", "device"], name="checksettings_element_device"
            ),
            models.UniqueConstraint(
                fields=["element"],
                condition=models.Q(device__isnull=True),
                name="checksettings_element_default",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.element} {self.device_id or '*'}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from aquifer.monitoring.checks import default_config

        try:
            config = default_config(self.element)
        except KeyError:
            raise ValidationError({"element": _("未知的监测要素。")}) from None
        if not isinstance(self.overrides, dict):
            raise ValidationError({"overrides": _("阈值应为 JSON 对象。")})
        try:
            config.with_overrides(self.overrides)
        except (ValueError, TypeError) as exc:
            raise ValidationError({"overrides": str(exc)}) from None


@track
class MeterChange(models.Model):
    """A registered meter replacement (换表登记): tells a replacement from tampering."""

    scope = _DEVICE_SCOPE

    device = models.ForeignKey(
        "registry.Device", verbose_name=_("监测设备"), on_delete=models.PROTECT, related_name="+"
    )
    element = models.CharField(_("监测要素"), max_length=32, default="cumulative_volume")
    changed_at = models.DateTimeField(_("换表时间"))
    old_final = models.FloatField(_("旧表止码"))
    new_initial = models.FloatField(_("新表起码"))
    old_serial = models.CharField(_("旧表编号"), max_length=100, blank=True)
    new_serial = models.CharField(_("新表编号"), max_length=100, blank=True)
    note = models.TextField(_("说明"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("换表登记")
        verbose_name_plural = _("换表登记")
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.device_id} {self.changed_at:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        errors = {}
        if self.element not in ELEMENTS or not ELEMENTS[self.element].cumulative:
            errors["element"] = _("换表登记只适用于累计型要素（如累计水量）。")
        if self.old_final is not None and self.old_final < 0:
            errors["old_final"] = _("表码不能为负。")
        if self.new_initial is not None and self.new_initial < 0:
            errors["new_initial"] = _("表码不能为负。")
        if self.changed_at is not None and self.changed_at > timezone.now():
            errors["changed_at"] = _("换表时间不能晚于当前时间。")
        if errors:
            raise ValidationError(errors)


@track
class LevelThreshold(models.Model):
    """Alarm thresholds of a monitoring well's level beyond the registry's warning depth."""

    scope = Scope(
        township="monitoring_well__well__township_id", owner="monitoring_well__well__owner_id"
    )

    monitoring_well = models.OneToOneField(
        "registry.MonitoringWell",
        verbose_name=_("监测井"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    max_fall_m_per_day = models.FloatField(_("日降幅阈值 (m/日)"), null=True, blank=True)
    window_days = models.PositiveSmallIntegerField(_("计算窗口 (日)"), default=7)

    class Meta:
        verbose_name = _("水位预警阈值")
        verbose_name_plural = _("水位预警阈值")

    def __str__(self) -> str:
        return f"{self.monitoring_well_id} {self.max_fall_m_per_day}"


class DeviceState(models.Model):
    """What the sweeps last saw of a device: last report, last values, online state."""

    scope = _DEVICE_SCOPE

    device = models.OneToOneField(
        "registry.Device", on_delete=models.CASCADE, related_name="+", primary_key=True
    )
    last_observed_at = models.DateTimeField(_("最近观测时间"), null=True, blank=True)
    last_received_at = models.DateTimeField(_("最近接收时间"), null=True, blank=True)
    last_values = models.JSONField(_("最近读数"), default=dict, blank=True)
    status_bits = models.JSONField(_("状态位"), default=dict, blank=True)
    state = models.CharField(_("在线状态"), max_length=10, default="unknown")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("设备状态")
        verbose_name_plural = _("设备状态")

    def __str__(self) -> str:
        return f"{self.device_id} {self.state}"


class DeviceHealthDaily(models.Model):
    """One device's day (在线 / 数据完整率), stored by the daily health job."""

    scope = _DEVICE_SCOPE

    device = models.ForeignKey(
        "registry.Device", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    township = models.ForeignKey(
        "registry.Township", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    day = models.DateField(_("日期"))
    expected = models.PositiveIntegerField(_("应报条数"))
    received = models.PositiveIntegerField(_("实报条数"))
    online = models.BooleanField(_("在线"))

    class Meta:
        verbose_name = _("设备日运行统计")
        verbose_name_plural = _("设备日运行统计")
        constraints = [
            models.UniqueConstraint(fields=["device", "day"], name="devicehealth_device_day"),
        ]
        indexes = [models.Index(fields=["day", "township"], name="devicehealth_day_township")]

    def __str__(self) -> str:
        return f"{self.device_id} {self.day} {self.received}/{self.expected}"


class Watermark(models.Model):
    """How far a sweep has read a growing table (the last id it processed)."""

    name = models.CharField(max_length=64, unique=True)
    position = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name}={self.position}"
