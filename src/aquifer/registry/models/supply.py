"""Surface-water supply works (地表水供水工程) and the areas they serve (供水覆盖范围).

The charter's source replacement (阳水字〔2022〕100号 二(二): 水源置换,
"张峰引水覆盖到哪里，地下水井关停到哪里") needs to know where a public network can take over
from a groundwater well: a coverage area is a polygon with the date from which it is served.
The permit rules (取水许可和水资源费征收管理条例 第二十条第五项: an own well where the public
network can meet the demand) and the closure programme read them; both live above the registry.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from aquifer.core.audit import track
from aquifer.core.geometry import GeometryError, area_km2, parse_polygon
from aquifer.core.models import Timestamped
from aquifer.core.scoping import Scope


class SupplyWorkKind(models.TextChoices):
    RESERVOIR_PROJECT = "reservoir_project", _("水库供水工程")
    WATER_PLANT = "water_plant", _("水厂")
    VILLAGE_NETWORK = "village_network", _("村级供水管网")
    OTHER = "other", _("其他")


@track
class SupplyWork(Timestamped):
    """A surface-water supply work: the Zhangfeng reservoir's county supply project, a water
    plant, a village network. ``is_illustrative`` marks demo records (not the real works)."""

    scope = Scope(shared=True, public=True)

    code = models.CharField(_("编号"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=20, choices=SupplyWorkKind.choices)
    water_source = models.CharField(_("水源"), max_length=100, blank=True)
    capacity_m3_per_day = models.PositiveBigIntegerField(
        _("供水能力 (m³/日)"), null=True, blank=True, validators=[MinValueValidator(0)]
    )
    commissioned_on = models.DateField(_("建成日期"), null=True, blank=True)
    is_illustrative = models.BooleanField(_("示意数据"), default=False)
    notes = models.TextField(_("备注"), blank=True)

    class Meta:
        verbose_name = _("供水工程")
        verbose_name_plural = _("供水工程")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


@track
class CoverageArea(Timestamped):
    """The area a supply work serves from ``served_on`` (no date: planned, not yet served)."""

    scope = Scope(shared=True, public=True)

    work = models.ForeignKey(
        SupplyWork,
        verbose_name=_("供水工程"),
        on_delete=models.CASCADE,
        related_name="areas",
    )
    name = models.CharField(_("名称"), max_length=100)
    geometry = models.JSONField(_("范围 (GeoJSON)"))
    area_km2 = models.FloatField(_("面积 (km²)"), editable=False, default=0)
    capacity_m3_per_day = models.PositiveBigIntegerField(
        _("可供水量 (m³/日)"), null=True, blank=True, validators=[MinValueValidator(0)]
    )
    served_on = models.DateField(_("通水日期"), null=True, blank=True)
    notes = models.TextField(_("备注"), blank=True)

    class Meta:
        verbose_name = _("供水覆盖范围")
        verbose_name_plural = _("供水覆盖范围")
        ordering = ["work__code", "name"]

    def __str__(self) -> str:
        return f"{self.work.name} · {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("closure:supply")

    def is_served(self, on: dt.date) -> bool:
        return self.served_on is not None and self.served_on <= on

    def clean(self) -> None:
        try:
            parse_polygon(self.geometry)
        except GeometryError as exc:
            raise ValidationError({"geometry": str(exc)}) from exc

    def save(self, *args: Any, **kwargs: Any) -> None:
        try:
            self.area_km2 = round(area_km2(parse_polygon(self.geometry)), 4)
        except GeometryError:
            self.area_km2 = 0
        super().save(*args, **kwargs)
