"""Township responsibility (R1.1, R1.3–R1.5; notice 一, 三(一), 三(二)): annual work plans,
targets, the assessment and its ranking, inspections and rectification orders.

* :class:`WorkPlan` — one township's plan for a year (年度工作计划); its :class:`PlanTask` rows
  carry a kind the charter names, a measurable target, a unit, a deadline and who answers for
  it. Every submission, return and approval keeps a :class:`PlanVersion` (the tasks as they
  stood), so nothing the bureau approved is silently rewritten.
* :class:`Target` — the bureau's target for a township, year and indicator, with the default
  Aquifer computed and how (``basis``); audited.
* :class:`ScoringMethod` — the assessment's method as data, versioned by year: indicators,
  weights, computations, thresholds, deductions. :class:`Assessment` is a year's round
  (provisional until frozen; published or not); :class:`Score` one township's score with the
  evidence of every point; :class:`ScoreAdjustment` a change by the bureau with its reason.
* :class:`Inspection` (督查) of a township or water user with its :class:`Finding` rows; a
  finding issues a :class:`Rectification` order (整改通知) answered, verified, closed or sent
  back (:class:`RectificationEvent` its timeline); repeated failures open an
  :class:`Accountability` record (问责).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aquifer.core.audit import track
from aquifer.core.scoping import Scope
from aquifer.registry.models.parts import TownshipAndOwner

YEAR_VALIDATORS = [MinValueValidator(2000), MaxValueValidator(2100)]


class PlanState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已报审")
    RETURNED = "returned", _("已退回")
    APPROVED = "approved", _("已批准")


class TaskKind(models.TextChoices):
    """The kinds of task the charter names (notice 三(一)); ``other`` is a free task."""

    CLOSE_WELLS = "close_wells", _("关停取水井")
    INSTALL_METERS = "install_meters", _("安装计量设施")
    INSTALL_ONLINE_METERS = "install_online_meters", _("安装在线计量设施")
    ONLINE_RATE = "online_rate", _("设备在线率")
    BUILD_MONITORING_WELLS = "build_monitoring_wells", _("新建监测井")
    REPAIR_MONITORING_WELLS = "repair_monitoring_wells", _("维修监测井")
    INSPECTIONS = "inspections", _("开展检查")
    PUBLICITY = "publicity", _("宣传活动")
    RECTIFICATIONS = "rectifications", _("完成整改")
    OTHER = "other", _("其他任务")


#: The kinds whose progress Aquifer measures (supervision.progress computes them).
COMPUTED_KINDS = frozenset(
    {
        TaskKind.CLOSE_WELLS,
        TaskKind.INSTALL_METERS,
        TaskKind.INSTALL_ONLINE_METERS,
        TaskKind.ONLINE_RATE,
        TaskKind.RECTIFICATIONS,
    }
)


@track
class WorkPlan(models.Model):
    """A township's annual work plan (年度工作计划); one per township and year."""

    scope = Scope(township="township_id")

    township = models.ForeignKey(
        "registry.Township", verbose_name=_("乡镇"), on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField(_("年度"), validators=YEAR_VALIDATORS)
    title = models.CharField(_("标题"), max_length=200, blank=True)
    state = models.CharField(
        _("状态"), max_length=12, choices=PlanState.choices, default=PlanState.DRAFT
    )
    version = models.PositiveIntegerField(_("版本"), default=0)
    comment = models.TextField(_("审核意见"), blank=True)
    submitted_at = models.DateTimeField(_("报审时间"), null=True, blank=True)
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("年度工作计划")
        verbose_name_plural = _("年度工作计划")
        ordering = ["-year", "township__code"]
        constraints = [
            models.UniqueConstraint(fields=["township", "year"], name="workplan_township_year")
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.township}"

    def get_absolute_url(self) -> str:
        return reverse("supervision:plan_detail", args=[self.pk])

    @property
    def editable(self) -> bool:
        return self.state in (PlanState.DRAFT, PlanState.RETURNED)


@track
class PlanTask(models.Model):
    """One task of a plan: a measurable target, a unit, a deadline, who answers for it."""

    scope = Scope(township="plan__township_id")

    plan = models.ForeignKey(WorkPlan, on_delete=models.CASCADE, related_name="tasks")
    kind = models.CharField(_("任务类型"), max_length=32, choices=TaskKind.choices)
    title = models.CharField(_("任务"), max_length=200)
    target = models.FloatField(_("目标值"), validators=[MinValueValidator(0)])
    unit = models.CharField(_("单位"), max_length=20)
    deadline = models.DateField(_("完成时限"))
    responsible = models.CharField(_("责任人"), max_length=100)
    progress = models.FloatField(_("进度值"), default=0, validators=[MinValueValidator(0)])
    progress_computed = models.BooleanField(_("进度自动计算"), default=False)
    progress_at = models.DateTimeField(_("进度更新时间"), null=True, blank=True)
    progress_note = models.CharField(_("进度说明"), max_length=300, blank=True)
    overdue_notified_at = models.DateTimeField(_("逾期提醒时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("计划任务")
        verbose_name_plural = _("计划任务")
        ordering = ["deadline", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def done(self) -> bool:
        return self.progress >= self.target

    @property
    def share(self) -> float:
        return min(1.0, self.progress / self.target) if self.target else 1.0

    @property
    def overdue(self) -> bool:
        return not self.done and self.deadline < timezone.localdate()

    def clean(self) -> None:
        super().clean()
        if self.plan_id and self.deadline and self.deadline.year != self.plan.year:
            raise ValidationError({"deadline": _("完成时限须在计划年度内。")})


class PlanVersion(models.Model):
    """A plan as it stood when submitted, returned or approved (every version kept)."""

    scope = Scope(township="plan__township_id")

    plan = models.ForeignKey(WorkPlan, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField(_("版本"))
    state = models.CharField(_("状态"), max_length=12, choices=PlanState.choices)
    tasks = models.JSONField(_("任务"), default=list)
    comment = models.TextField(_("意见"), blank=True)
    username = models.CharField(_("操作人"), max_length=150, blank=True)
    at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("计划版本")
        verbose_name_plural = _("计划版本")
        ordering = ["version", "at", "id"]

    def __str__(self) -> str:
        return f"{self.plan} v{self.version} {self.state}"


class Indicator(models.TextChoices):
    """What targets are set for and the assessment scores (docs/supervision.md)."""

    WITHDRAWAL = "withdrawal", _("取水总量")
    CLOSURES = "closures", _("关停取水井")
    METER_COVERAGE = "meter_coverage", _("计量覆盖率")
    ONLINE_METER_COVERAGE = "online_meter_coverage", _("在线计量覆盖率")
    ARRIVAL_RATE = "arrival_rate", _("数据到报率")
    LEVELS_STABLE = "levels_stable", _("水位稳定或回升比例")
    ALARM_SLA = "alarm_sla", _("告警按时处置率")
    RECTIFICATION_ON_TIME = "rectification_on_time", _("整改按期完成率")
    PLAN_COMPLETION = "plan_completion", _("计划任务完成率")
    COMPLAINTS_ON_TIME = "complaints_on_time", _("投诉按时答复率")


@track
class Target(models.Model):
    """The bureau's target for one township, year and indicator; ``default_value`` and
    ``basis`` say what Aquifer computed and how."""

    scope = Scope(township="township_id")

    township = models.ForeignKey(
        "registry.Township", verbose_name=_("乡镇"), on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField(_("生效年度"), validators=YEAR_VALIDATORS)
    indicator = models.CharField(_("指标"), max_length=32, choices=Indicator.choices)
    value = models.FloatField(_("目标值"), validators=[MinValueValidator(0)])
    default_value = models.FloatField(_("计算默认值"), null=True, blank=True)
    basis = models.JSONField(_("计算依据"), default=dict, blank=True)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("考核目标")
        verbose_name_plural = _("考核目标")
        ordering = ["year", "township__code", "indicator"]
        constraints = [
            models.UniqueConstraint(
                fields=["township", "year", "indicator"], name="target_township_year_indicator"
            )
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.township} {self.get_indicator_display()}"


@track
class ScoringMethod(models.Model):
    """The assessment method for a year, as data (``definition``; supervision.scoring reads
    it). A new version is a new row; an assessment keeps the version it was scored by."""

    scope = Scope(shared=True)

    year = models.PositiveSmallIntegerField(_("年度"), validators=YEAR_VALIDATORS)
    version = models.PositiveIntegerField(_("版本"), default=1)
    definition = models.JSONField(_("评分办法"))
    note = models.CharField(_("说明"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("考核评分办法")
        verbose_name_plural = _("考核评分办法")
        ordering = ["-year", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["year", "version"], name="scoringmethod_year_version")
        ]

    def __str__(self) -> str:
        return f"{self.year} v{self.version}"


class AssessmentState(models.TextChoices):
    PROVISIONAL = "provisional", _("暂定")
    FROZEN = "frozen", _("已定稿")


@track
class Assessment(models.Model):
    """One year's assessment round: provisional until frozen at year end; the ranking is
    shown to other townships and the public only once published."""

    scope = Scope(public=True)

    year = models.PositiveSmallIntegerField(_("年度"), unique=True, validators=YEAR_VALIDATORS)
    method = models.ForeignKey(
        ScoringMethod, verbose_name=_("评分办法"), on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(
        _("状态"),
        max_length=12,
        choices=AssessmentState.choices,
        default=AssessmentState.PROVISIONAL,
    )
    computed_at = models.DateTimeField(_("计算时间"), null=True, blank=True)
    frozen_at = models.DateTimeField(_("定稿时间"), null=True, blank=True)
    published_at = models.DateTimeField(_("公布时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("年度考核")
        verbose_name_plural = _("年度考核")
        ordering = ["-year"]

    def __str__(self) -> str:
        return str(self.year)

    def get_absolute_url(self) -> str:
        return reverse("supervision:assessment", args=[self.year])

    @property
    def published(self) -> bool:
        return self.published_at is not None


@track
class Score(models.Model):
    """One township's score in a round: ``details`` holds every indicator's value, target,
    points and evidence, and every deduction; ``total`` = points − deductions + adjustment."""

    scope = Scope(township="township_id")

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="scores")
    township = models.ForeignKey(
        "registry.Township", verbose_name=_("乡镇"), on_delete=models.PROTECT, related_name="+"
    )
    points = models.FloatField(_("指标得分"), default=0)
    deductions = models.FloatField(_("扣分"), default=0)
    adjustment = models.FloatField(_("调整分"), default=0)
    total = models.FloatField(_("总分"), default=0)
    rank = models.PositiveSmallIntegerField(_("排名"), null=True, blank=True)
    details = models.JSONField(_("得分明细"), default=dict)
    computed_at = models.DateTimeField(_("计算时间"), default=timezone.now)

    class Meta:
        verbose_name = _("考核得分")
        verbose_name_plural = _("考核得分")
        ordering = ["rank", "township__code"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "township"], name="score_round_township")
        ]

    def __str__(self) -> str:
        return f"{self.assessment} {self.township} {self.total:.1f}"


@track
class ScoreAdjustment(models.Model):
    """A change of a score by the bureau, with its reason (audited; never silent)."""

    scope = Scope(township="score__township_id")

    score = models.ForeignKey(Score, on_delete=models.CASCADE, related_name="adjustments")
    points = models.FloatField(_("调整分值"))
    reason = models.CharField(_("理由"), max_length=300)
    username = models.CharField(_("操作人"), max_length=150, blank=True)
    at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("得分调整")
        verbose_name_plural = _("得分调整")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.score} {self.points:+g}"

    def clean(self) -> None:
        super().clean()
        if not (self.reason or "").strip():
            raise ValidationError({"reason": _("调整得分必须说明理由。")})


class InspectionState(models.TextChoices):
    PLANNED = "planned", _("计划")
    DONE = "done", _("已完成")


@track
class Inspection(TownshipAndOwner):
    """An inspection (督查) of a township, or of one water user in it."""

    date = models.DateField(_("日期"))
    state = models.CharField(
        _("状态"), max_length=8, choices=InspectionState.choices, default=InspectionState.PLANNED
    )
    place = models.CharField(_("地点"), max_length=200, blank=True)
    lon = models.FloatField(_("经度 (WGS84)"), null=True, blank=True)
    lat = models.FloatField(_("纬度 (WGS84)"), null=True, blank=True)
    inspectors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("检查人员"), blank=True, related_name="+"
    )
    subject = models.CharField(_("检查内容"), max_length=200)
    summary = models.TextField(_("检查情况"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("督查检查")
        verbose_name_plural = _("督查检查")
        ordering = ["-date", "-id"]

    def __str__(self) -> str:
        return f"{self.date} {self.township} {self.subject}"

    def get_absolute_url(self) -> str:
        return reverse("supervision:inspection_detail", args=[self.pk])

    def clean(self) -> None:
        super().clean()
        if (self.lon is None) != (self.lat is None):
            raise ValidationError({"lat": _("经度和纬度须同时填写。")})
        if self.lon is not None and not (-180 <= self.lon <= 180):
            raise ValidationError({"lon": _("经度须在 -180 至 180 之间。")})
        if self.lat is not None and not (-90 <= self.lat <= 90):
            raise ValidationError({"lat": _("纬度须在 -90 至 90 之间。")})
        owner = self.owner if self.owner_id else None
        if (
            owner is not None
            and self.township_id
            and owner.township_id
            not in (
                None,
                self.township_id,
            )
        ):
            raise ValidationError({"owner": _("取用水户不属于该乡镇。")})


class Severity(models.TextChoices):
    MINOR = "minor", _("一般")
    MAJOR = "major", _("较重")
    SERIOUS = "serious", _("严重")


@track
class Finding(models.Model):
    """One finding of an inspection and the rule or target it breaks."""

    scope = Scope(township="inspection__township_id", owner="inspection__owner_id")

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="findings")
    description = models.TextField(_("问题描述"))
    rule = models.CharField(_("违反的规定或目标"), max_length=200)
    severity = models.CharField(
        _("严重程度"), max_length=8, choices=Severity.choices, default=Severity.MINOR
    )
    created_at = models.DateTimeField(_("记录时间"), default=timezone.now)

    class Meta:
        verbose_name = _("检查发现")
        verbose_name_plural = _("检查发现")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.description[:60]


class OrderState(models.TextChoices):
    ISSUED = "issued", _("已下达")
    ANSWERED = "answered", _("已报送")
    SENT_BACK = "sent_back", _("已退回")
    CLOSED = "closed", _("已销号")


OPEN_ORDER_STATES = (OrderState.ISSUED, OrderState.ANSWERED, OrderState.SENT_BACK)


@track
class Rectification(TownshipAndOwner):
    """A rectification order (整改通知) issued from a finding, with its deadline and the
    party responsible; answered with evidence, verified and closed or sent back."""

    finding = models.ForeignKey(Finding, on_delete=models.PROTECT, related_name="orders")
    requirement = models.TextField(_("整改要求"))
    responsible = models.CharField(_("责任单位"), max_length=200)
    deadline = models.DateField(_("整改期限"))
    state = models.CharField(
        _("状态"), max_length=12, choices=OrderState.choices, default=OrderState.ISSUED
    )
    issued_at = models.DateTimeField(_("下达时间"), default=timezone.now)
    answered_at = models.DateTimeField(_("报送时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("销号时间"), null=True, blank=True)
    sent_back_count = models.PositiveSmallIntegerField(_("退回次数"), default=0)
    escalated_at = models.DateTimeField(_("逾期升级时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("整改通知")
        verbose_name_plural = _("整改通知")
        ordering = ["-issued_at", "-id"]
        indexes = [models.Index(fields=["state", "deadline"], name="rectification_state_deadline")]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return f"ZG{self.issued_at:%Y}-{self.pk or 0:04d}"

    def get_absolute_url(self) -> str:
        return reverse("supervision:order_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_ORDER_STATES

    @property
    def overdue(self) -> bool:
        return self.is_open and self.deadline < timezone.localdate()


class OrderAction(models.TextChoices):
    ISSUE = "issue", _("下达")
    ANSWER = "answer", _("报送整改情况")
    CLOSE = "close", _("核查销号")
    SEND_BACK = "send_back", _("退回重改")
    ESCALATE = "escalate", _("逾期升级")


class RectificationEvent(models.Model):
    """One step of an order's timeline; an answer's text is its evidence (files attach to
    the event once core attachments land)."""

    scope = Scope(township="order__township_id", owner="order__owner_id")

    order = models.ForeignKey(Rectification, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("动作"), max_length=12, choices=OrderAction.choices)
    note = models.TextField(_("说明"), blank=True)
    username = models.CharField(_("操作人"), max_length=150, blank=True)
    at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("整改记录")
        verbose_name_plural = _("整改记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.order} {self.action}"


@track
class Accountability(models.Model):
    """An accountability record (问责) opened after repeated failures, naming the township
    and the history of the orders behind it."""

    scope = Scope(township="township_id")

    township = models.ForeignKey(
        "registry.Township", verbose_name=_("乡镇"), on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(_("启动时间"), default=timezone.now)
    reason = models.CharField(_("原因"), max_length=300)
    orders = models.ManyToManyField(Rectification, verbose_name=_("整改通知"), related_name="+")
    history = models.JSONField(_("整改记录"), default=list)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    outcome = models.TextField(_("处理结果"), blank=True)

    class Meta:
        verbose_name = _("问责记录")
        verbose_name_plural = _("问责记录")
        ordering = ["-opened_at", "-id"]

    def __str__(self) -> str:
        return f"{self.township} {self.opened_at:%Y-%m-%d}"

    def as_dict(self) -> dict[str, Any]:
        return {"township": self.township_id, "reason": self.reason, "history": self.history}
