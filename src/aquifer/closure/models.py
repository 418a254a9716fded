"""The closure programme (关井压采, 水源置换; 阳水字〔2022〕100号 二(二)).

A :class:`ClosureEntry` puts one groundwater well into the programme: why (the candidate
reasons as codes), by when, which township answers for it, what replaces its water (a supply
work and its coverage area, the connection) and how it is closed (封存 sealed and kept as an
emergency reserve, or 回填 backfilled). Its status moves planned → notified → closed →
verified (:data:`TRANSITIONS`), only through ``closure.services``. Verification rests on an
:class:`Inspection` (time, GPS, findings; photos and signatures as attachments) and, for a
metered well, on telemetry showing no withdrawal since closure.

:class:`ReductionTarget` holds a township's or a zone's yearly reduction target (m³ removed),
:class:`ZoneRecharge` the recharge the bureau enters for a zone and year, and
:class:`MeteoSeries` / :class:`MeteoValue` a station's daily precipitation and evaporation.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from aquifer.core.audit import track
from aquifer.core.models import Timestamped
from aquifer.core.scoping import Scope


class Reason(models.TextChoices):
    COVERED = "covered", _("位于供水管网覆盖范围")
    PROHIBITED = "prohibited", _("位于禁采区")
    OVEREXPLOITED = "overexploited", _("超采区压采目标需要")
    NO_PERMIT = "no_permit", _("无取水许可")


class Method(models.TextChoices):
    SEAL = "seal", _("封存（应急备用）")
    BACKFILL = "backfill", _("回填")


class Status(models.TextChoices):
    PLANNED = "planned", _("计划")
    NOTIFIED = "notified", _("已通知")
    CLOSED = "closed", _("已关停")
    VERIFIED = "verified", _("已核验")


#: The programme's status moves, one step at a time.
TRANSITIONS: dict[str, str] = {
    Status.PLANNED: Status.NOTIFIED,
    Status.NOTIFIED: Status.CLOSED,
    Status.CLOSED: Status.VERIFIED,
}

STATUS_COLOURS: dict[str, str] = {
    Status.PLANNED: "#9e9e9e",
    Status.NOTIFIED: "#fdae61",
    Status.CLOSED: "#d7191c",
    Status.VERIFIED: "#1a9641",
}


class Basis(models.TextChoices):
    METERED = "metered", _("近12个月计量")
    PERMITTED = "permitted", _("许可水量")
    ESTIMATED = "estimated", _("估算")
    NONE = "none", _("无数据")


@track
class ClosureEntry(Timestamped):
    """One well in the closure programme."""

    scope = Scope(township="township_id", owner="well__owner_id")

    well = models.OneToOneField(
        "registry.Well",
        verbose_name=_("取水井"),
        on_delete=models.PROTECT,
        related_name="closure",
    )
    township = models.ForeignKey(
        "registry.Township",
        verbose_name=_("责任乡镇"),
        on_delete=models.PROTECT,
        related_name="closures",
    )
    reasons = models.JSONField(_("关停理由"), default=list, blank=True)
    deadline = models.DateField(_("关停期限"))
    replacement_work = models.ForeignKey(
        "registry.SupplyWork",
        verbose_name=_("替代水源工程"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="closures",
    )
    replacement_area = models.ForeignKey(
        "registry.CoverageArea",
        verbose_name=_("供水覆盖范围"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="closures",
    )
    connection = models.CharField(_("接水方式"), max_length=200, blank=True)
    method = models.CharField(_("关停方式"), max_length=10, choices=Method.choices)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PLANNED
    )
    baseline_m3 = models.FloatField(_("关停前年取水量 (m³)"), default=0)
    baseline_basis = models.CharField(
        _("取水量依据"), max_length=10, choices=Basis.choices, default=Basis.NONE
    )
    notified_on = models.DateField(_("通知日期"), null=True, blank=True)
    closed_at = models.DateTimeField(_("关停时间"), null=True, blank=True)
    meter_at_closure_m3 = models.FloatField(_("关停时水表读数 (m³)"), null=True, blank=True)
    verified_on = models.DateField(_("核验日期"), null=True, blank=True)
    notes = models.TextField(_("备注"), blank=True)

    class Meta:
        verbose_name = _("关停井")
        verbose_name_plural = _("关停井")
        ordering = ["deadline", "well__code"]
        indexes = [models.Index(fields=["township", "status"], name="closure_township_status")]

    def __str__(self) -> str:
        return str(self.well)

    def get_absolute_url(self) -> str:
        return reverse("closure:entry_detail", args=[self.pk])

    def clean(self) -> None:
        area = self.replacement_area if self.replacement_area_id else None
        if (
            area is not None
            and self.replacement_work_id
            and area.work_id != self.replacement_work_id
        ):
            raise ValidationError({"replacement_area": _("覆盖范围不属于所选供水工程。")})
        bad = [r for r in self.reasons or [] if r not in Reason.values]
        if bad:
            raise ValidationError({"reasons": _("未知的关停理由：%(r)s") % {"r": ", ".join(bad)}})

    def reason_labels(self) -> list[str]:
        return [str(Reason(r).label) for r in self.reasons or [] if r in Reason.values]


@track
class Inspection(Timestamped):
    """An inspection on site of a closed well (verification evidence)."""

    scope = Scope(township="entry__township_id", owner="entry__well__owner_id")

    entry = models.ForeignKey(
        ClosureEntry,
        verbose_name=_("关停井"),
        on_delete=models.CASCADE,
        related_name="inspections",
    )
    inspected_at = models.DateTimeField(_("检查时间"))
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("检查人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    lon = models.FloatField(_("经度 (WGS84)"))
    lat = models.FloatField(_("纬度 (WGS84)"))
    distance_m = models.FloatField(_("距井位 (m)"), default=0, editable=False)
    findings = models.TextField(_("检查情况"), blank=True)
    signed_by = models.CharField(_("签字人"), max_length=100, blank=True)
    #: Metered withdrawal since closure at the inspection (None: the well has no meter).
    telemetry_m3 = models.FloatField(_("关停后计量水量 (m³)"), null=True, blank=True)

    class Meta:
        verbose_name = _("现场核查")
        verbose_name_plural = _("现场核查")
        ordering = ["-inspected_at"]

    def __str__(self) -> str:
        return f"{self.entry} {self.inspected_at:%Y-%m-%d}"


class TargetKind(models.TextChoices):
    TOWNSHIP = "township", _("乡镇")
    ZONE = "zone", _("分区")


@track
class ReductionTarget(Timestamped):
    """A yearly reduction target (压采目标, m³/a removed by the end of ``year``, cumulative
    from the programme's start) of a township or of a zone."""

    scope = Scope(township="township_id", shared=True)

    year = models.PositiveSmallIntegerField(_("年度"))
    township = models.ForeignKey(
        "registry.Township",
        verbose_name=_("乡镇"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reduction_targets",
    )
    zone = models.ForeignKey(
        "registry.Zone",
        verbose_name=_("分区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reduction_targets",
    )
    reduction_m3 = models.PositiveBigIntegerField(
        _("压减水量 (m³/年)"), validators=[MinValueValidator(0)]
    )
    document = models.CharField(_("依据文件"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("压采目标")
        verbose_name_plural = _("压采目标")
        ordering = ["year", "township__code", "zone__code"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(township__isnull=False, zone__isnull=True)
                    | models.Q(township__isnull=True, zone__isnull=False)
                ),
                name="reduction_target_township_xor_zone",
            ),
            models.UniqueConstraint(
                fields=["year", "township"], name="reduction_target_township_year"
            ),
            models.UniqueConstraint(fields=["year", "zone"], name="reduction_target_zone_year"),
        ]

    def __str__(self) -> str:
        return f"{self.zone or self.township} {self.year}"

    def clean(self) -> None:
        if bool(self.township_id) == bool(self.zone_id):
            raise ValidationError({"township": _("目标属于一个乡镇或一个分区（二选一）。")})


@track
class TownshipAllowance(Timestamped):
    """A township's allowable extraction set by the bureau (m³/a), where it is not the area
    split of the zones' allowable extraction."""

    scope = Scope(township="township_id", shared=True)

    township = models.OneToOneField(
        "registry.Township",
        verbose_name=_("乡镇"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    allowable_m3 = models.PositiveBigIntegerField(_("可开采量 (m³/年)"))
    document = models.CharField(_("依据文件"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("乡镇可开采量")
        verbose_name_plural = _("乡镇可开采量")

    def __str__(self) -> str:
        return str(self.township)


@track
class ZoneRecharge(Timestamped):
    """Recharge of a zone in a year as the bureau enters it (补给量), and optionally the
    allowable extraction of a township inside it when not split by area."""

    scope = Scope(shared=True)

    zone = models.ForeignKey(
        "registry.Zone", verbose_name=_("分区"), on_delete=models.CASCADE, related_name="+"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    recharge_m3 = models.PositiveBigIntegerField(_("补给量 (m³)"))
    source = models.CharField(_("来源"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("分区补给量")
        verbose_name_plural = _("分区补给量")
        constraints = [models.UniqueConstraint(fields=["zone", "year"], name="zone_recharge_year")]

    def __str__(self) -> str:
        return f"{self.zone} {self.year}"


@track
class MeteoSeries(Timestamped):
    """A meteorological station's daily series (precipitation or evaporation, mm/day)."""

    scope = Scope(shared=True, public=True)

    class Kind(models.TextChoices):
        PRECIPITATION = "precipitation", _("降水量")
        EVAPORATION = "evaporation", _("蒸发量")

    station = models.CharField(_("站名"), max_length=100)
    kind = models.CharField(_("要素"), max_length=16, choices=Kind.choices)
    is_synthetic = models.BooleanField(_("合成数据"), default=False)
    source = models.CharField(_("来源"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("气象序列")
        verbose_name_plural = _("气象序列")
        constraints = [
            models.UniqueConstraint(fields=["station", "kind"], name="meteo_station_kind")
        ]

    def __str__(self) -> str:
        return f"{self.station} {self.get_kind_display()}"


class MeteoValue(models.Model):
    """One day's value of a meteorological series (mm)."""

    series = models.ForeignKey(MeteoSeries, on_delete=models.CASCADE, related_name="values")
    day = models.DateField()
    value_mm = models.FloatField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["series", "day"], name="meteo_value_day")]

    def __str__(self) -> str:
        return f"{self.series_id} {self.day} {self.value_mm}"


def labels(codes: Any) -> str:
    return "、".join(str(Reason(c).label) for c in codes or [] if c in Reason.values)
