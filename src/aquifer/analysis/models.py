"""Stored analysis results and the inputs only the analysis app holds.

- :class:`LevelMeasurement`: manual soundings (人工测量) of a monitoring well, at irregular
  dates; they join the logger series (telemetry daily rollups) in the trend.
- :class:`WellTrend` / :class:`ZoneTrend`: the trend and recovery status (止降返升) per
  monitoring well and per zone, one row per computation date (``jobs.compute_trends``).
- :class:`QualitySample` / :class:`QualityResult`: lab samples and their GB/T 14848-2017
  classes (``quality.py``), per indicator and per sample.
- :class:`LevelForecast`: a cached level forecast with its fit statistics on held-back data.

Scoping: well-level rows follow their well (township and owner); zone-level rows are public
(R5.1: the portal shows zones and levels), as zones are.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from aquifer.core.audit import track
from aquifer.core.scoping import Scope

__all__ = [
    "LevelElement",
    "LevelForecast",
    "LevelMeasurement",
    "QualityResult",
    "QualitySample",
    "RecoveryStatus",
    "WellTrend",
    "ZoneTrend",
]


class LevelElement(models.TextChoices):
    DEPTH = "depth_to_water", _("地下水埋深")
    LEVEL = "water_level", _("水位")


class RecoveryStatus(models.TextChoices):
    RISING = "rising", _("回升")
    STABILISED = "stabilised", _("稳定")
    FALLING = "falling", _("下降")
    NOT_ENOUGH_DATA = "not enough data", _("数据不足")


#: Mann-Kendall results (``trends.Trend``, of the values as measured: depth or level) → label.
TREND_LABELS: dict[str, Any] = {
    "increasing": _("增大"),
    "decreasing": _("减小"),
    "no trend": _("无显著趋势"),
    "not enough data": _("数据不足"),
}

#: The test a trend comes from (``trends`` ``test``) → label.
TEST_LABELS: dict[str, Any] = {
    "seasonal": _("季节性 Mann-Kendall 检验"),
    "original": _("Mann-Kendall 检验"),
    "none": _("未检验"),
}


def trend_label(code: str) -> str:
    """A trend or recovery-status code as its label in the current language."""
    label = TREND_LABELS.get(code)
    if label is None:
        try:
            label = RecoveryStatus(code).label
        except ValueError:
            return code
    return str(label)


#: Map colours of the recovery statuses (also the legend).
STATUS_COLOURS: dict[str, str] = {
    RecoveryStatus.RISING: "#1a9850",
    RecoveryStatus.STABILISED: "#fee08b",
    RecoveryStatus.FALLING: "#d73027",
    RecoveryStatus.NOT_ENOUGH_DATA: "#bdbdbd",
}

#: Map colours of the quality classes I–V (and no sample).
CLASS_COLOURS: dict[str, str] = {
    "I": "#2c7bb6",
    "II": "#abd9e9",
    "III": "#ffffbf",
    "IV": "#fdae61",
    "V": "#d7191c",
    "": "#bdbdbd",
}

_WELL_SCOPE = Scope(
    township="monitoring_well__well__township_id", owner="monitoring_well__well__owner_id"
)


@track
class LevelMeasurement(models.Model):
    """A manual sounding of a monitoring well (人工测量): depth to water or water level."""

    scope = _WELL_SCOPE

    monitoring_well = models.ForeignKey(
        "registry.MonitoringWell",
        verbose_name=_("监测井"),
        on_delete=models.PROTECT,
        related_name="level_measurements",
    )
    element = models.CharField(_("监测要素"), max_length=16, choices=LevelElement.choices)
    measured_at = models.DateTimeField(_("测量时间"))
    value = models.FloatField(_("数值 (m)"))
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("人工水位测量")
        verbose_name_plural = _("人工水位测量")
        ordering = ["monitoring_well", "measured_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["monitoring_well", "element", "measured_at"],
                name="levelmeasurement_well_element_time",
            )
        ]

    def __str__(self) -> str:
        return f"{self.monitoring_well} {self.measured_at:%Y-%m-%d} {self.value}"


class TrendFields(models.Model):
    """The trend of a series and its recovery status (``trends.TrendAssessment``)."""

    computed_on = models.DateField(_("计算日期"))
    status = models.CharField(
        _("恢复状态"), max_length=16, choices=RecoveryStatus.choices, db_index=True
    )
    months = models.PositiveIntegerField(_("有数据的月数"), default=0)
    first_month = models.DateField(_("起始月"), null=True, blank=True)
    last_month = models.DateField(_("截止月"), null=True, blank=True)
    level_slope_per_year = models.FloatField(
        _("水位变化速率 (m/年)"), null=True, blank=True
    )  # level terms: positive = rising
    same_month_change = models.FloatField(_("同期水位变幅 (m)"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class WellTrend(TrendFields):
    """A monitoring well's level trend and recovery status on one date (computed by a job).

    ``trend``, ``p``, ``tau``, ``z`` and ``slope_per_year`` are of the values as measured
    (``element``: depth or level); ``level_slope_per_year``, ``same_month_change`` and
    ``status`` are in water-level terms (positive = higher).
    """

    scope = _WELL_SCOPE

    monitoring_well = models.ForeignKey(
        "registry.MonitoringWell",
        verbose_name=_("监测井"),
        on_delete=models.CASCADE,
        related_name="trends",
    )
    element = models.CharField(_("监测要素"), max_length=16, choices=LevelElement.choices)
    sources = models.CharField(_("数据来源"), max_length=32, blank=True)
    test = models.CharField(_("检验方法"), max_length=12)
    trend = models.CharField(_("趋势"), max_length=16)
    p = models.FloatField(null=True, blank=True)
    tau = models.FloatField(null=True, blank=True)
    z = models.FloatField(null=True, blank=True)
    slope_per_year = models.FloatField(_("Sen 斜率 (m/年)"), null=True, blank=True)
    intercept = models.FloatField(null=True, blank=True)
    window_trend = models.CharField(_("近期趋势"), max_length=16)
    window_slope_per_year = models.FloatField(null=True, blank=True)

    class Meta:
        verbose_name = _("监测井水位趋势")
        verbose_name_plural = _("监测井水位趋势")
        ordering = ["monitoring_well", "-computed_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["monitoring_well", "computed_on"], name="welltrend_well_date"
            )
        ]

    def __str__(self) -> str:
        return f"{self.monitoring_well} {self.computed_on} {self.status}"

    @property
    def trend_label(self) -> str:
        return trend_label(self.trend)

    @property
    def window_trend_label(self) -> str:
        return trend_label(self.window_trend)

    @property
    def test_label(self) -> str:
        label = TEST_LABELS.get(self.test)
        return str(label) if label is not None else self.test


class ZoneTrend(TrendFields):
    """A zone's recovery status on one date, from its monitoring wells (docs/analysis.md)."""

    scope = Scope(township="zone__supervising_township_id", shared=True, public=True)

    zone = models.ForeignKey(
        "registry.Zone", verbose_name=_("分区"), on_delete=models.CASCADE, related_name="trends"
    )
    wells = models.PositiveIntegerField(_("监测井数"), default=0)
    wells_assessed = models.PositiveIntegerField(_("有结论的监测井数"), default=0)
    rising = models.PositiveIntegerField(_("回升井数"), default=0)
    stabilised = models.PositiveIntegerField(_("稳定井数"), default=0)
    falling = models.PositiveIntegerField(_("下降井数"), default=0)

    class Meta:
        verbose_name = _("分区水位趋势")
        verbose_name_plural = _("分区水位趋势")
        ordering = ["zone", "-computed_on"]
        constraints = [
            models.UniqueConstraint(fields=["zone", "computed_on"], name="zonetrend_zone_date")
        ]

    def __str__(self) -> str:
        return f"{self.zone} {self.computed_on} {self.status}"


@track
class QualitySample(models.Model):
    """A groundwater sample analysed by a lab (水质样品), classed after GB/T 14848-2017.

    ``klass`` is the sample's class (§6.3: the worst definite indicator class), ``deciding``
    the indicators that set it; both are computed from the results when the sample is saved
    through :func:`aquifer.analysis.samples.save_sample`, never typed.
    """

    scope = Scope(township="well__township_id", owner="well__owner_id")

    sample_id = models.CharField(_("样品编号"), max_length=60, unique=True)
    well = models.ForeignKey(
        "registry.Well",
        verbose_name=_("采样井"),
        on_delete=models.PROTECT,
        related_name="quality_samples",
    )
    sampled_at = models.DateTimeField(_("采样时间"))
    lab = models.CharField(_("检测单位"), max_length=100)
    klass = models.PositiveSmallIntegerField(_("水质类别"), null=True, blank=True)
    deciding = models.JSONField(_("决定类别的指标"), default=list, blank=True)
    notes = models.JSONField(_("说明"), default=list, blank=True)
    illustrative = models.BooleanField(_("示例数据"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("水质样品")
        verbose_name_plural = _("水质样品")
        ordering = ["-sampled_at", "sample_id"]
        indexes = [models.Index(fields=["well", "sampled_at"], name="qualitysample_well_time")]

    def __str__(self) -> str:
        return self.sample_id

    @property
    def label(self) -> str:
        from aquifer.analysis.quality import CLASS_LABELS

        return CLASS_LABELS.get(self.klass or 0, "—")

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("analysis:sample_detail", args=[self.pk])


class QualityResult(models.Model):
    """One indicator of a sample: as the lab reported it, and in the standard's unit with
    its class (``klass`` 1–5, or ``bound`` for a non-detect known only as "≤ class X")."""

    scope = Scope(township="sample__well__township_id", owner="sample__well__owner_id")

    sample = models.ForeignKey(
        QualitySample, verbose_name=_("样品"), on_delete=models.CASCADE, related_name="results"
    )
    indicator = models.CharField(_("指标"), max_length=60)
    value = models.FloatField(_("检测值"), null=True, blank=True)
    value_text = models.CharField(_("检测结果（文字）"), max_length=10, blank=True)
    unit = models.CharField(_("单位"), max_length=20, blank=True)
    detection_limit = models.FloatField(_("检出限"), null=True, blank=True)
    below_detection = models.BooleanField(_("未检出"), default=False)
    std_value = models.FloatField(_("标准单位值"), null=True, blank=True)
    std_unit = models.CharField(_("标准单位"), max_length=20, blank=True)
    klass = models.PositiveSmallIntegerField(_("类别"), null=True, blank=True)
    bound = models.PositiveSmallIntegerField(_("类别上限"), null=True, blank=True)
    notes = models.JSONField(_("说明"), default=list, blank=True)

    class Meta:
        verbose_name = _("水质指标结果")
        verbose_name_plural = _("水质指标结果")
        ordering = ["sample", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["sample", "indicator"], name="qualityresult_sample_indicator"
            )
        ]

    def __str__(self) -> str:
        return f"{self.sample_id} {self.indicator}"

    @property
    def label(self) -> str:
        from aquifer.analysis.quality import CLASS_LABELS

        if self.klass:
            return CLASS_LABELS[self.klass]
        if self.bound:
            return "≤" + CLASS_LABELS[self.bound]
        return "—"


class LevelForecast(models.Model):
    """A cached level forecast of a monitoring well with its fit on held-back data."""

    scope = _WELL_SCOPE

    monitoring_well = models.ForeignKey(
        "registry.MonitoringWell",
        verbose_name=_("监测井"),
        on_delete=models.CASCADE,
        related_name="forecasts",
    )
    computed_on = models.DateField(_("计算日期"))
    data_until = models.DateField(_("数据截止月"), null=True, blank=True)
    element = models.CharField(_("监测要素"), max_length=16, choices=LevelElement.choices)
    method = models.CharField(_("方法"), max_length=40)
    enough_data = models.BooleanField(_("数据充足"), default=False)
    message = models.CharField(_("说明"), max_length=200, blank=True)
    rmse = models.FloatField(null=True, blank=True)
    nse = models.FloatField(null=True, blank=True)
    evp = models.FloatField(null=True, blank=True)
    baseline_rmse = models.FloatField(null=True, blank=True)
    holdout_months = models.PositiveSmallIntegerField(default=0)
    points = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("水位预测")
        verbose_name_plural = _("水位预测")
        ordering = ["monitoring_well", "-computed_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["monitoring_well", "computed_on"], name="levelforecast_well_date"
            )
        ]

    def __str__(self) -> str:
        return f"{self.monitoring_well} {self.computed_on} {self.method}"
