"""Enforcement (执法监管, notice 二(四), R4.6): cases from detection to closing, their evidence,
metering compliance and 以电折水, pollution sources, credit records.

A :class:`Case` (执法案件) is opened from an alarm, a patrol, an inspection, a complaint or by
hand; its procedure is a list of :class:`CaseStep` (who, when, what, the deadline it set), its
state moves only through ``enforcement.workflow``. Its :class:`Evidence` is append-only and
hash-chained per case (``enforcement.evidence``). A final decision against a water user becomes
a :class:`CreditRecord` (地下水管理条例 第五十三条), public once final.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aquifer.core.audit import track
from aquifer.core.geometry import GeometryError
from aquifer.core.models import Docketed, Timestamped
from aquifer.core.scoping import Scope
from aquifer.enforcement import workflow
from aquifer.registry.models.parts import TownshipAndOwner
from aquifer.registry.spatial import locate

__all__ = [
    "Case",
    "CaseKind",
    "CaseSource",
    "CaseState",
    "CaseStep",
    "CreditRecord",
    "ElectricityMonth",
    "Evidence",
    "EvidenceKind",
    "PollutionSource",
    "PumpCoefficient",
    "SourceInspection",
    "SourceKind",
    "TankType",
]


class CaseKind(models.TextChoices):
    UNAPPROVED_WORKS = "unapproved_works", _("未经批准擅自建设取水工程（打井）")
    UNPERMITTED_WITHDRAWAL = "unpermitted_withdrawal", _("未经批准或未按许可取水")
    NO_METER = "no_meter", _("未安装计量设施")
    METER_FAULTY = "meter_faulty", _("计量设施不合格或运行不正常")
    METER_INTERFERENCE = "meter_interference", _("侵占、毁坏、擅自移动计量设施或干扰计量")
    MONITORING_DAMAGE = "monitoring_damage", _("破坏地下水监测设施")
    NOT_SEALED = "not_sealed", _("报废井未封井或回填")
    POLLUTION_DISCHARGE = "pollution_discharge", _("通过渗井、渗坑等排放污染地下水")
    POLLUTION_STORAGE = "pollution_storage", _("在溶洞、废弃矿坑等贮存有毒有害物质")
    SEEPAGE_CONTROL = "seepage_control", _("未采取防渗措施或未建地下水水质监测井")
    CLOSED_WELL_PUMPING = "closed_well_pumping", _("关停井仍在取水")


class CaseSource(models.TextChoices):
    ALARM = "alarm", _("告警")
    PATROL = "patrol", _("巡查")
    INSPECTION = "inspection", _("监督检查")
    COMPLAINT = "complaint", _("群众举报")
    MANUAL = "manual", _("人工立案")


class CaseState(models.TextChoices):
    OPEN = workflow.OPEN, _("待立案")
    FILED = workflow.FILED, _("已立案")
    INVESTIGATED = workflow.INVESTIGATED, _("调查终结")
    NOTICED = workflow.NOTICED, _("已告知")
    DECIDED = workflow.DECIDED, _("已决定")
    EXECUTED = workflow.EXECUTED, _("已执行")
    CLOSED = workflow.CLOSED, _("已结案")
    DISMISSED = workflow.DISMISSED, _("不予处罚")


class Band(models.TextChoices):
    LIGHT = "light", _("较轻")
    ORDINARY = "ordinary", _("一般")
    SERIOUS = "serious", _("严重")


class StepKind(models.TextChoices):
    OPEN = "open", _("线索登记")
    FILE = "file", _("立案审批")
    INVESTIGATE = "investigate", _("调查取证")
    NOTICE = "notice", _("事先告知")
    STATEMENT = "statement", _("陈述申辩/听证")
    DECIDE = "decide", _("处罚决定")
    EXECUTE = "execute", _("执行")
    CLOSE = "close", _("结案")
    DISMISS = "dismiss", _("不予处罚")


class ExecutionKind(models.TextChoices):
    PAID = "paid", _("罚款已缴纳")
    SEALED = "sealed", _("已封井")
    RESTORED = "restored", _("计量设施已恢复")
    REMEDIED = "remedied", _("已整改")


@track
class Case(Docketed, TownshipAndOwner):
    """An enforcement case (执法案件) and the state of its procedure."""

    NUMBER_PREFIX = "ZF"
    OPEN_STATES = workflow.OPEN_STATES

    kind = models.CharField(_("案由"), max_length=32, choices=CaseKind.choices)
    source = models.CharField(_("案件来源"), max_length=16, choices=CaseSource.choices)
    source_ref = models.CharField(_("来源编号"), max_length=64, blank=True)
    state = models.CharField(
        _("状态"), max_length=16, choices=CaseState.choices, default=CaseState.OPEN
    )
    title = models.CharField(_("案件名称"), max_length=200)
    facts = models.TextField(_("违法事实"), blank=True)
    party = models.CharField(_("当事人"), max_length=200, blank=True)
    well = models.ForeignKey(
        "registry.Well",
        verbose_name=_("取水井"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
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
    patrol = models.ForeignKey(
        "maintenance.Patrol",
        verbose_name=_("巡查记录"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    opened_at = models.DateTimeField(_("登记时间"), default=timezone.now, db_index=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    due_at = models.DateTimeField(_("当前期限"), null=True, blank=True, db_index=True)
    due_step = models.CharField(_("期限事项"), max_length=16, blank=True)
    warned_at = models.DateTimeField(_("提醒时间"), null=True, blank=True)
    filed_at = models.DateTimeField(_("立案时间"), null=True, blank=True)
    band = models.CharField(_("裁量档次"), max_length=10, choices=Band.choices, blank=True)
    proposed_amount = models.PositiveIntegerField(_("拟罚款 (元)"), null=True, blank=True)
    decided_amount = models.PositiveIntegerField(_("决定罚款 (元)"), null=True, blank=True)
    decision_reason = models.TextField(_("裁量理由"), blank=True)
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)
    hearing_requested = models.BooleanField(_("申请听证"), default=False)
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("执法案件")
        verbose_name_plural = _("执法案件")
        ordering = ["-opened_at", "-id"]
        indexes = [models.Index(fields=["state", "township"], name="case_state_township")]

    def get_absolute_url(self) -> str:
        return reverse("enforcement:case_detail", args=[self.pk])

    def derive_place(self) -> None:
        """Township and owner follow the well (else the device's, else the alarm's)."""
        well = self.well
        if well is None and self.device_id and self.device is not None:
            well = self.device.well
        if well is not None:
            self.township_id, self.owner_id = well.township_id, well.owner_id
        elif self.alarm_id and self.alarm is not None:
            self.township_id = self.alarm.township_id
            self.owner_id = self.owner_id or self.alarm.owner_id

    def clean(self) -> None:
        super().clean()
        if not (self.title or "").strip():
            raise ValidationError({"title": _("请填写案件名称。")})

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.derive_place()
        super().save(*args, **kwargs)


class CaseStep(models.Model):
    """One step of a case's procedure: who took it, when, what they recorded, and the deadline
    it set for the next."""

    scope = Scope(township="case__township_id", owner="case__owner_id")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="steps")
    step = models.CharField(_("环节"), max_length=16, choices=StepKind.choices)
    at = models.DateTimeField(_("时间"), default=timezone.now)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(_("经办人"), max_length=150, blank=True)
    note = models.TextField(_("说明"), blank=True)
    data = models.JSONField(_("内容"), default=dict, blank=True)
    due_at = models.DateTimeField(_("期限"), null=True, blank=True)

    class Meta:
        verbose_name = _("办案环节")
        verbose_name_plural = _("办案环节")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.step}"


class EvidenceKind(models.TextChoices):
    FRAME = "frame", _("原始报文")
    READINGS = "readings", _("监测数据")
    ALARM = "alarm", _("告警记录")
    FILE = "file", _("文件（照片、扫描件）")
    STATEMENT = "statement", _("询问笔录/陈述")
    DOCUMENT = "document", _("文书")
    FINDING = "finding", _("检查发现")
    NOTE = "note", _("勘验记录")


class Evidence(models.Model):
    """One piece of a case's evidence, as attached: its content (a snapshot, never a live
    link), the content's hash, and its link in the case's chain. Never changed or removed
    (``save`` refuses an update; database triggers refuse UPDATE and DELETE)."""

    scope = Scope(township="case__township_id", owner="case__owner_id")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="evidence")
    seq = models.PositiveIntegerField(_("序号"))
    kind = models.CharField(_("证据类型"), max_length=12, choices=EvidenceKind.choices)
    label = models.CharField(_("名称"), max_length=200)
    content = models.JSONField(_("内容"), default=dict)
    content_hash = models.CharField(_("内容散列 (SHA-256)"), max_length=64)
    prev_hash = models.CharField(_("前一证据散列"), max_length=64, blank=True)
    entry_hash = models.CharField(_("链散列"), max_length=64)
    attachment_id = models.PositiveBigIntegerField(_("附件"), null=True, blank=True)
    attached_at = models.DateTimeField(_("附加时间"), default=timezone.now)
    attached_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    username = models.CharField(_("附加人"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("证据")
        verbose_name_plural = _("证据")
        ordering = ["case_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["case", "seq"], name="evidence_case_seq")]

    def __str__(self) -> str:
        return f"{self.case_id}#{self.seq} {self.label}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValidationError(_("证据一经附加不能修改。"))
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ValidationError(_("证据一经附加不能删除。"))


# --- metering: 以电折水 ----------------------------------------------------------------------


class ElectricityMonth(models.Model):
    """A well's electricity use in one month (the power company's statement), kWh."""

    scope = Scope(township="well__township_id", owner="well__owner_id")

    well = models.ForeignKey(
        "registry.Well", verbose_name=_("取水井"), on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField(_("年"))
    month = models.PositiveSmallIntegerField(
        _("月"), validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    kwh = models.FloatField(_("用电量 (kWh)"), validators=[MinValueValidator(0)])
    imported_at = models.DateTimeField(_("导入时间"), default=timezone.now)
    source_name = models.CharField(_("来源文件"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("月用电量")
        verbose_name_plural = _("月用电量")
        ordering = ["year", "month", "well_id"]
        constraints = [
            models.UniqueConstraint(fields=["well", "year", "month"], name="electricity_month")
        ]

    def __str__(self) -> str:
        return f"{self.well_id} {self.year}-{self.month:02d} {self.kwh:g} kWh"


class CoefficientMethod(models.TextChoices):
    FITTED = "fitted", _("计量月份拟合")
    PUMPING_TEST = "pumping_test", _("抽水试验")


class PumpCoefficient(models.Model):
    """A well's water per kWh (m³/kWh) for one year, fitted from its metered months or set
    from a pumping test."""

    scope = Scope(township="well__township_id", owner="well__owner_id")

    well = models.ForeignKey(
        "registry.Well", verbose_name=_("取水井"), on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField(_("年"))
    m3_per_kwh = models.FloatField(_("折算系数 (m³/kWh)"), validators=[MinValueValidator(0)])
    method = models.CharField(_("方法"), max_length=16, choices=CoefficientMethod.choices)
    months = models.PositiveSmallIntegerField(_("拟合月数"), default=0)
    fitted_at = models.DateTimeField(_("计算时间"), default=timezone.now)

    class Meta:
        verbose_name = _("以电折水系数")
        verbose_name_plural = _("以电折水系数")
        ordering = ["-year", "well_id"]
        constraints = [
            models.UniqueConstraint(fields=["well", "year"], name="pump_coefficient_year")
        ]

    def __str__(self) -> str:
        return f"{self.well_id} {self.year} {self.m3_per_kwh:.3f}"


# --- pollution sources ------------------------------------------------------------------------


class SourceKind(models.TextChoices):
    FUEL_STATION = "fuel_station", _("加油站")
    LANDFILL = "landfill", _("垃圾填埋场")
    TAILINGS = "tailings", _("尾矿库")
    MINE = "mine", _("矿山")
    CHEMICAL = "chemical", _("化工企业")
    HAZARDOUS_STORE = "hazardous_store", _("危险废物贮存场所")


class TankType(models.TextChoices):
    DOUBLE_WALLED = "double_walled", _("双层罐")
    SEEPAGE_PIT = "seepage_pit", _("单层罐+防渗池")
    SINGLE_WALLED = "single_walled", _("单层罐（无防渗池）")


@track
class PollutionSource(Timestamped):
    """A site that can pollute groundwater (地下水污染源), with what its duties require."""

    scope = Scope(township="township_id", owner="operator_id")

    name = models.CharField(_("名称"), max_length=200)
    kind = models.CharField(_("类型"), max_length=16, choices=SourceKind.choices)
    lon = models.FloatField(_("经度 (WGS84)"))
    lat = models.FloatField(_("纬度 (WGS84)"))
    township = models.ForeignKey(
        "registry.Township",
        verbose_name=_("乡镇"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    operator = models.ForeignKey(
        "registry.WaterUser",
        verbose_name=_("经营单位（取用水户）"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    operator_name = models.CharField(_("经营单位"), max_length=200, blank=True)
    tank_type = models.CharField(_("地下油罐"), max_length=16, choices=TankType.choices, blank=True)
    seepage_control = models.BooleanField(_("已采取防渗措施"), default=False)
    monitoring_well = models.BooleanField(_("已建地下水水质监测井"), default=False)
    notes = models.TextField(_("备注"), blank=True)
    active = models.BooleanField(_("在用"), default=True)

    class Meta:
        verbose_name = _("地下水污染源")
        verbose_name_plural = _("地下水污染源")
        ordering = ["township_id", "name", "id"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("enforcement:source_detail", args=[self.pk])

    def clean(self) -> None:
        super().clean()
        if self.kind == SourceKind.FUEL_STATION and not self.tank_type:
            raise ValidationError({"tank_type": _("加油站须填写地下油罐类型。")})

    def save(self, *args: Any, **kwargs: Any) -> None:
        try:
            self.township_id, _zone = locate(self.lon, self.lat, "shallow")
        except GeometryError:  # outside the county: kept, without a township
            self.township_id = None
        super().save(*args, **kwargs)


@track
class SourceInspection(models.Model):
    """An inspection of a pollution source: what was seen, and the duties found missing."""

    scope = Scope(township="source__township_id", owner="source__operator_id")

    source = models.ForeignKey(
        PollutionSource, on_delete=models.PROTECT, related_name="inspections"
    )
    inspected_at = models.DateTimeField(_("检查时间"), default=timezone.now)
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(_("检查人"), max_length=150, blank=True)
    tank_type = models.CharField(_("地下油罐"), max_length=16, choices=TankType.choices, blank=True)
    seepage_control = models.BooleanField(_("防渗措施"), default=False)
    monitoring_well = models.BooleanField(_("水质监测井"), default=False)
    missing = models.JSONField(_("未履行义务"), default=list, blank=True)
    findings = models.TextField(_("检查情况"), blank=True)
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("污染源检查")
        verbose_name_plural = _("污染源检查")
        ordering = ["-inspected_at", "-id"]

    def __str__(self) -> str:
        return f"{self.source} {self.inspected_at:%Y-%m-%d}"


# --- credit --------------------------------------------------------------------------------


class CreditRecord(models.Model):
    """A water user's violation with a decision (信用记录, 地下水管理条例 第五十三条); public
    from ``final_on``."""

    scope = Scope(township="water_user__township_id", owner="water_user_id")

    water_user = models.ForeignKey(
        "registry.WaterUser", verbose_name=_("取用水户"), on_delete=models.PROTECT, related_name="+"
    )
    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="credit")
    kind = models.CharField(_("违法行为"), max_length=32, choices=CaseKind.choices)
    basis = models.CharField(_("处罚依据"), max_length=200)
    amount = models.PositiveIntegerField(_("罚款 (元)"), default=0)
    decided_on = models.DateField(_("决定日期"))
    final_on = models.DateField(_("生效日期"))

    class Meta:
        verbose_name = _("信用记录")
        verbose_name_plural = _("信用记录")
        ordering = ["-decided_on", "-id"]

    def __str__(self) -> str:
        return f"{self.water_user} {self.decided_on}"

    @property
    def is_final(self) -> bool:
        return self.final_on <= dt.date.today()
