"""Accounting models: monthly withdrawal per well, and the water resource tax settings.

:class:`WithdrawalMonth` holds the computed figures (the service recomputes them; they are
derived data, not records anyone edits). :class:`TaxRate` and :class:`TaxMultiplier` are the
bureau-visible settings of the water resource tax (水资源税), with effective dates and sources,
loaded by migration 0002 from ../shared/reference/standards.md §5; ``confirmed=False`` marks
what standards.md marks [U].
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aquifer.core.audit import track
from aquifer.core.scoping import Scope
from aquifer.registry.choices import UseType

__all__ = ["MultiplierKind", "TaxMultiplier", "TaxRate", "WaterKind", "WithdrawalMonth"]


class WithdrawalMonth(models.Model):
    """One well's withdrawal in one calendar month (月取水量), metered and estimated parts.

    ``flags`` is a :class:`aquifer.accounting.volumes.VolumeFlag` bitmask.
    """

    scope = Scope(township="well__township_id", owner="well__owner_id")

    well = models.ForeignKey(
        "registry.Well",
        verbose_name=_("取水井"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # the unique (well, year, month) index serves it
    )
    year = models.PositiveSmallIntegerField(_("年"))
    month = models.PositiveSmallIntegerField(
        _("月"), validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    metered_m3 = models.FloatField(_("计量水量 (m³)"), default=0)
    estimated_m3 = models.FloatField(_("估算水量 (m³)"), default=0)
    flags = models.PositiveIntegerField(_("标志"), default=0)
    metered_by_device = models.BooleanField(_("有计量设施"), default=True)
    computed_at = models.DateTimeField(_("计算时间"), default=timezone.now)

    class Meta:
        verbose_name = _("月取水量")
        verbose_name_plural = _("月取水量")
        ordering = ["year", "month", "well_id"]
        constraints = [
            models.UniqueConstraint(fields=["well", "year", "month"], name="withdrawal_month"),
        ]
        indexes = [models.Index(fields=["year", "month"], name="withdrawal_year_month")]

    def __str__(self) -> str:
        return f"{self.well_id} {self.year}-{self.month:02d} {self.total_m3:.1f}"

    @property
    def total_m3(self) -> float:
        return self.metered_m3 + self.estimated_m3


class WaterKind(models.TextChoices):
    GROUNDWATER = "groundwater", _("地下水")
    SURFACE = "surface", _("地表水")


class _Dated(models.Model):
    effective_from = models.DateField(_("生效日期"))
    effective_until = models.DateField(_("失效日期"), null=True, blank=True)
    source = models.CharField(_("依据"), max_length=300)
    confirmed = models.BooleanField(
        _("已核实"), default=False, help_text=_("未核实：参考资料中标注为待确认。")
    )
    notes = models.TextField(_("说明"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if (
            self.effective_until
            and self.effective_from
            and self.effective_until < self.effective_from
        ):
            errors["effective_until"] = _("失效日期不能早于生效日期。")
        if errors:
            raise ValidationError(errors)


class TaxCategory(models.TextChoices):
    """The tax items (税目) of the Shanxi notices the rates come from (standards.md §5)."""

    AGRICULTURE = "agriculture", _("农业生产取用水；农村集中式饮水工程")
    AGRICULTURE_OVER_QUOTA = "agriculture_over_quota", _("农业超定额取用水；农村集中式饮水工程")
    PUBLIC_SUPPLY = "public_supply", _("城镇公共供水")
    OTHER = "other", _("其他行业")
    GROUNDWATER_AVERAGE = "groundwater_average", _("地下水平均最低税额")


@track
class TaxRate(_Dated):
    """The water resource tax rate (水资源税适用税额) for a use type and water kind.

    ``taxable_share`` is the share of the withdrawal that is taxed (public supply: 1 − 9 %
    allowable network loss); ``exempt_within_quota`` exempts the volume within the permit quota
    (agriculture, 2017 framework [U]).
    """

    scope = Scope(shared=True)

    use_type = models.CharField(_("用水类型"), max_length=16, choices=UseType.choices)
    water = models.CharField(
        _("水源"), max_length=12, choices=WaterKind.choices, default=WaterKind.GROUNDWATER
    )
    category = models.CharField(_("税目"), max_length=100, choices=TaxCategory.choices)
    yuan_per_m3 = models.DecimalField(
        _("税额 (元/m³)"), max_digits=8, decimal_places=3, validators=[MinValueValidator(0)]
    )
    taxable_share = models.DecimalField(
        _("计税比例"),
        max_digits=5,
        decimal_places=4,
        default=1,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
    )
    exempt_within_quota = models.BooleanField(_("定额内免征"), default=False)

    class Meta:
        verbose_name = _("水资源税税额")
        verbose_name_plural = _("水资源税税额")
        ordering = ["water", "use_type", "-effective_from"]

    def __str__(self) -> str:
        return f"{self.get_use_type_display()} {self.yuan_per_m3} ({self.effective_from})"


class MultiplierKind(models.TextChoices):
    OVER_QUOTA = "over_quota", _("超计划（定额）取水")
    OVEREXPLOITED = "overexploited", _("超采区")
    SERIOUSLY_OVEREXPLOITED = "seriously_overexploited", _("严重超采区")


@track
class TaxMultiplier(_Dated):
    """A multiple of the rate (加倍征收): over quota by tiers of percent over, or by zone.

    For ``over_quota``, the tier applies when the withdrawal exceeds the quota by more than
    ``above_pct`` percent (the highest such tier wins) and multiplies the rate on the volume
    above the quota. Zone kinds multiply the rate on a well's whole volume.
    """

    scope = Scope(shared=True)

    kind = models.CharField(_("类别"), max_length=24, choices=MultiplierKind.choices)
    above_pct = models.DecimalField(
        _("超出比例下限 (%)"),
        max_digits=6,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0)],
    )
    factor = models.DecimalField(
        _("倍数"), max_digits=5, decimal_places=2, validators=[MinValueValidator(1)]
    )

    class Meta:
        verbose_name = _("水资源税加倍系数")
        verbose_name_plural = _("水资源税加倍系数")
        ordering = ["kind", "above_pct", "-effective_from"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} >{self.above_pct}% ×{self.factor}"
