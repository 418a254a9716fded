"""Withdrawal permits (取水许可证), their applications, rule decisions and the rule settings.

A :class:`Permit` is created by an application for a new permit (status ``pending``), gets its
number, term and status ``active`` when the bureau approves it, or ``refused`` with the rule
engine's reasons. Renewals, changes and cancellations are :class:`PermitApplication` rows on an
existing permit. Every rule-engine answer (permit decisions, quota changes, well activations)
is kept as a :class:`RuleDecision` with its reasons and sources, and written to the audit trail.

The bureau's rule settings (the Yellow River basin's overloaded areas, caps) are
:class:`RuleSettings` versions — the newest row is in force — and the deep aquifer's emergency
windows are :class:`EmergencyWindow` rows the bureau declares and ends.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from aquifer.core.audit import track
from aquifer.core.models import Timestamped
from aquifer.core.scoping import Scope
from aquifer.registry.choices import UseType
from aquifer.registry.models import Township, Zone


class WaterSource(models.TextChoices):
    """The water a permit draws (values = ``rules.Source``)."""

    SHALLOW = "shallow", _("浅层地下水")
    DEEP = "deep", _("深层地下水")
    SURFACE = "surface", _("地表水")


class PermitStatus(models.TextChoices):
    PENDING = "pending", _("申请中")
    ACTIVE = "active", _("有效")
    REFUSED = "refused", _("不予许可")
    EXPIRED = "expired", _("已过期")
    CANCELLED = "cancelled", _("已注销")


class ApplicationKind(models.TextChoices):
    NEW = "new", _("新申请")
    RENEWAL = "renewal", _("延续")
    CHANGE = "change", _("变更")
    CANCELLATION = "cancellation", _("注销")


class ApplicationStatus(models.TextChoices):
    SUBMITTED = "submitted", _("已受理")
    REVIEWED = "reviewed", _("乡镇已初审")
    APPROVED = "approved", _("准予许可")
    REFUSED = "refused", _("不予许可")
    WITHDRAWN = "withdrawn", _("已撤回")


OPEN_APPLICATION = (ApplicationStatus.SUBMITTED, ApplicationStatus.REVIEWED)


@track
class Permit(Timestamped):
    """A withdrawal permit (取水许可证, 取水许可和水资源费征收管理条例 art. 24).

    ``township`` is derived: the township of its first well (R1.1, by location), else the
    holder's. ``number`` is given on approval (format: setting ``PERMITS.NUMBER_FORMAT``).
    """

    scope = Scope(township="township_id", owner="holder_id")

    number = models.CharField(_("许可证编号"), max_length=60, unique=True, null=True, blank=True)
    holder = models.ForeignKey(
        "registry.WaterUser",
        verbose_name=_("持证人"),
        on_delete=models.PROTECT,
        related_name="permits",
    )
    wells = models.ManyToManyField(
        "registry.Well", verbose_name=_("取水井"), related_name="permits", blank=True
    )
    source = models.CharField(_("水源类型"), max_length=10, choices=WaterSource.choices)
    use_type = models.CharField(_("用水类型"), max_length=16, choices=UseType.choices)
    annual_quota_m3 = models.PositiveBigIntegerField(
        _("年许可水量 (m³)"), validators=[MinValueValidator(1)]
    )
    term_years = models.PositiveSmallIntegerField(
        _("有效期 (年)"), default=5, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    valid_from = models.DateField(_("有效期起"), null=True, blank=True)
    valid_until = models.DateField(_("有效期止"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=PermitStatus.choices, default=PermitStatus.PENDING
    )
    flags = models.JSONField(_("申报情形"), default=list, blank=True)
    township = models.ForeignKey(
        "registry.Township",
        verbose_name=_("乡镇"),
        on_delete=models.PROTECT,
        related_name="permits",
        editable=False,
    )
    purpose = models.CharField(_("取水用途说明"), max_length=200, blank=True)
    unused_since = models.DateField(_("连续两年未取水（起）"), null=True, blank=True)
    notes = models.TextField(_("备注"), blank=True)

    class Meta:
        verbose_name = _("取水许可证")
        verbose_name_plural = _("取水许可证")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "township"], name="permit_status_township"),
        ]

    #: What its name reads besides its own row (an unnumbered permit goes by its first
    #: application): prefetched where many permits are named at once (the audit trail).
    NAME_PREFETCH = ("applications",)

    def __str__(self) -> str:
        if self.number:
            return self.number
        # Not (yet) a permit: it goes by the number of the application that asked for it, the
        # number the application's page, messages and reminders show ("申请 #<application>").
        first = self.application_number
        return f"{_('申请')} #{first if first is not None else '—'}"

    @property
    def application_number(self) -> int | None:
        """The id of the application that asked for this permit (its first), or None. Uses
        prefetched ``applications`` when the query has them."""
        if not self.pk:
            return None
        cache = getattr(self, "_prefetched_objects_cache", {})
        if "applications" in cache:
            ids = [a.pk for a in cache["applications"]]
            return min(ids) if ids else None
        return self.applications.order_by("id").values_list("id", flat=True).first()

    def get_absolute_url(self) -> str:
        return reverse("permits:permit_detail", args=[self.pk])

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        from aquifer.permits.rules import Flag

        known = {f.value for f in Flag}
        bad = [f for f in (self.flags or []) if f not in known]
        if not isinstance(self.flags, list) or bad:
            errors["flags"] = _("未知情形：%(bad)s") % {"bad": ", ".join(map(str, bad))}
        elif "domestic" in self.flags and self.use_type != UseType.DOMESTIC:
            errors["flags"] = _("“生活用水”情形须用水类型为生活。")
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            errors["valid_until"] = _("有效期止应晚于有效期起。")
        if errors:
            raise ValidationError(errors)

    def derive_township(self) -> None:
        """The township of the first well (by code), else the holder's."""
        well = self.wells.order_by("code").first() if self.pk else None
        if well is not None:
            self.township_id = well.township_id
        elif self.holder_id and not self.township_id:
            self.township_id = self.holder.township_id

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.township_id and self.holder_id:
            self.township_id = self.holder.township_id
        super().save(*args, **kwargs)


@track
class PermitApplication(models.Model):
    """An application (新申请, 延续, 变更, 注销) and its review and decision.

    ``deadline`` is 45 working days after ``received_on`` (取水许可和水资源费征收管理条例
    art. 19), counted by :mod:`aquifer.permits.workdays`.
    """

    scope = Scope(township="permit__township_id", owner="permit__holder_id")

    permit = models.ForeignKey(
        Permit, verbose_name=_("许可证"), on_delete=models.PROTECT, related_name="applications"
    )
    kind = models.CharField(_("申请类型"), max_length=14, choices=ApplicationKind.choices)
    status = models.CharField(
        _("状态"),
        max_length=10,
        choices=ApplicationStatus.choices,
        default=ApplicationStatus.SUBMITTED,
    )
    requested_quota_m3 = models.PositiveBigIntegerField(_("申请年水量 (m³)"), null=True, blank=True)
    requested_term_years = models.PositiveSmallIntegerField(
        _("申请有效期 (年)"), null=True, blank=True
    )
    statement = models.TextField(_("申请说明"), blank=True)
    received_on = models.DateField(_("受理日期"))
    deadline = models.DateField(_("决定期限"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    township_opinion = models.TextField(_("乡镇初审意见"), blank=True)
    township_recommends = models.BooleanField(_("乡镇建议准予"), null=True, blank=True)
    # The reviewer's finding on 地下水管理条例 第二十五条 (irrigation of illegally reclaimed
    # land): None — as the application declared; True/False — confirmed on review, and the
    # permit's declared facts follow it (the rule engine judges the confirmed fact).
    reclaimed_land_finding = models.BooleanField(
        _("核实：用于非法开垦土地灌溉"), null=True, blank=True
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("初审人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("初审时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("决定人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)
    decision_note = models.TextField(_("决定说明"), blank=True)
    decision = models.JSONField(_("规则判定"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("许可申请")
        verbose_name_plural = _("许可申请")
        ordering = ["-received_on", "-id"]

    #: See Permit.NAME_PREFETCH: it is named after its permit.
    NAME_PREFETCH = ("permit__applications",)

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.permit})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_APPLICATION


@track
class RuleDecision(models.Model):
    """One answer of the rule engine that was acted on: allowed or refused, with reasons."""

    scope = Scope(township="township_id", owner="holder_id")

    at = models.DateTimeField(_("时间"), auto_now_add=True)
    subject = models.CharField(_("事项"), max_length=20)  # rules.ChangeKind or "cancellation"
    permit = models.ForeignKey(
        Permit,
        verbose_name=_("许可证"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rule_decisions",
    )
    application = models.ForeignKey(
        PermitApplication,
        verbose_name=_("申请"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rule_decisions",
    )
    well = models.ForeignKey(
        "registry.Well",
        verbose_name=_("取水井"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    township = models.ForeignKey(
        "registry.Township",
        verbose_name=_("乡镇"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    holder = models.ForeignKey(
        "registry.WaterUser",
        verbose_name=_("持证人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    allowed = models.BooleanField(_("允许"))
    applied = models.BooleanField(_("已执行"), default=False)
    change = models.JSONField(_("变更内容"), default=dict)
    result = models.JSONField(_("判定"), default=dict)  # rules.Decision.to_dict()
    reason = models.CharField(_("事由"), max_length=300, blank=True)
    by_username = models.CharField(_("操作人"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("规则判定")
        verbose_name_plural = _("规则判定")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        verdict = _("允许") if self.allowed else _("拒绝")
        return f"{self.subject} {verdict} #{self.pk}"


@track
class RuleSettings(models.Model):
    """A version of the bureau's rule settings; the newest row is in force.

    ``overloaded_townships`` / ``overloaded_zones``: codes of the Yellow River basin's
    overloaded areas (水资管〔2020〕380号, number unconfirmed) that cover the county;
    ``overloaded_sources``: the overloaded sources there. ``township_caps``: {township code:
    m³/a}. ``disabled_rules``: rule ids switched off. Empty = the rule engine's defaults.
    """

    overloaded_townships = models.JSONField(_("超载地区（乡镇编码）"), default=list, blank=True)
    overloaded_zones = models.JSONField(_("超载地区（分区编号）"), default=list, blank=True)
    overloaded_sources = models.JSONField(
        _("超载水源"), default=list, blank=True, help_text=_("空 = 浅层和深层地下水")
    )
    county_cap_m3 = models.PositiveBigIntegerField(
        _("全县地下水许可总量指标 (m³/年)"), null=True, blank=True
    )
    township_caps = models.JSONField(_("乡镇许可总量指标"), default=dict, blank=True)
    small_withdrawal_max_m3 = models.PositiveIntegerField(
        _("少量取水上限 (m³/年)"), null=True, blank=True
    )
    disabled_rules = models.JSONField(_("停用的规则"), default=list, blank=True)
    document = models.CharField(_("依据文件"), max_length=200, blank=True)
    note = models.TextField(_("说明"), blank=True)
    created_at = models.DateTimeField(_("生效时间"), auto_now_add=True)
    created_by = models.CharField(_("设置人"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("规则设置")
        verbose_name_plural = _("规则设置")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{_('规则设置')} #{self.pk}"

    def clean(self) -> None:
        from aquifer.permits.rules import RuleId

        errors: dict[str, Any] = {}
        for name, model in (("overloaded_townships", Township), ("overloaded_zones", Zone)):
            codes = getattr(self, name)
            if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
                errors[name] = _("应为编码列表。")
                continue
            known = set(model.objects.filter(code__in=codes).values_list("code", flat=True))
            unknown = [c for c in codes if c not in known]
            if unknown:
                errors[name] = _("没有这些编码：%(codes)s") % {"codes": ", ".join(unknown)}
        src = self.overloaded_sources
        if not isinstance(src, list) or any(s not in WaterSource.values for s in src):
            errors["overloaded_sources"] = _("水源应为 shallow、deep 或 surface。")
        caps = self.township_caps
        if not isinstance(caps, dict) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in caps.values()
        ):
            errors["township_caps"] = _("应为 {乡镇编码: 非负整数 m³} 。")
        else:
            known = set(Township.objects.filter(code__in=list(caps)).values_list("code", flat=True))
            unknown = [c for c in caps if c not in known]
            if unknown:
                errors["township_caps"] = _("没有这些编码：%(codes)s") % {
                    "codes": ", ".join(unknown)
                }
        rule_ids = {r.value for r in RuleId}
        dis = self.disabled_rules
        if not isinstance(dis, list) or any(r not in rule_ids for r in dis):
            errors["disabled_rules"] = _("未知规则编号。")
        if errors:
            raise ValidationError(errors)


@track
class EmergencyWindow(models.Model):
    """A declared emergency during which deep groundwater may be drawn (R1.2; 地下水管理条例
    art. 15). The bureau declares it (``start``) and ends it (``end``)."""

    name = models.CharField(_("名称"), max_length=100)
    start = models.DateField(_("开始日期"))
    end = models.DateField(_("结束日期"), null=True, blank=True)
    document = models.CharField(_("宣布文件"), max_length=200)
    reason = models.TextField(_("事由"), blank=True)
    declared_by = models.CharField(_("宣布人"), max_length=150, blank=True)
    ended_by = models.CharField(_("结束人"), max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("深层地下水应急期")
        verbose_name_plural = _("深层地下水应急期")
        ordering = ["-start", "-id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.start and self.end and self.end < self.start:
            raise ValidationError({"end": _("结束日期不能早于开始日期。")})
