from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models, transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from aquifer.core.audit import track
from aquifer.core.geometry import GeometryError, area_km2, parse_polygon
from aquifer.core.scoping import Scope
from aquifer.core.texts import choice_label
from aquifer.registry.choices import AquiferLayer, ZoneKind


@track
class Zone(models.Model):
    """A groundwater management zone (分区) for one aquifer layer.

    Its polygon decides which wells lie in it: a well's zone is derived from the well's
    location and re-derived whenever a zone is created, moved or deleted.
    """

    scope = Scope(township="supervising_township_id", shared=True, public=True)

    code = models.CharField(_("编号"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("分区类型"), max_length=20, choices=ZoneKind.choices)
    layer = models.CharField(_("含水层"), max_length=10, choices=AquiferLayer.choices)
    geometry = models.JSONField(_("范围 (GeoJSON)"))
    area_km2 = models.FloatField(_("面积 (km²)"), editable=False, default=0)
    allowable_extraction_m3 = models.PositiveBigIntegerField(
        _("可开采量 (m³/年)"), validators=[MinValueValidator(0)]
    )
    hard_to_renew = models.BooleanField(
        _("难以更新的地下水"),
        default=False,
        help_text=_(
            "地下水管理条例 第二十七条、第六十三条："
            "与大气降水和地表水体没有密切水力联系，无法补给或者补给非常缓慢"
        ),
    )
    designation_document = models.CharField(_("划定文件"), max_length=200)
    designated_on = models.DateField(_("划定日期"), null=True, blank=True)
    supervising_township = models.ForeignKey(
        "registry.Township",
        verbose_name=_("监管乡镇"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="supervised_zones",
    )
    notes = models.TextField(_("备注"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("分区")
        verbose_name_plural = _("分区")
        ordering = ["layer", "kind", "code"]

    def __str__(self) -> str:
        return f"{self.name}（{choice_label(AquiferLayer, self.layer)}）"

    def get_absolute_url(self) -> str:
        return reverse("registry:zone_detail", args=[self.pk])

    def clean(self) -> None:
        from aquifer.registry.spatial import county_geometry, outside_county

        errors: dict[str, Any] = {}
        try:
            geom = parse_polygon(self.geometry)
        except GeometryError as exc:
            errors["geometry"] = str(exc)
        else:
            far = outside_county(geom)
            if far is not None:
                errors["geometry"] = _("分区范围超出县界约 %(m).0f 米（允许 %(tol).0f 米）。") % {
                    "m": far,
                    "tol": settings.AQUIFER["COUNTY_BOUNDARY_TOLERANCE_M"],
                }
            elif not geom.intersects(county_geometry()):
                errors["geometry"] = _("分区范围不在县域内。")
        if errors:
            raise ValidationError(errors)

    def save(self, *args: Any, **kwargs: Any) -> None:
        from aquifer.registry.spatial import placement_changed, rederive_wells

        try:
            self.area_km2 = round(area_km2(parse_polygon(self.geometry)), 4)
        except GeometryError:
            self.area_km2 = 0
        # Polygon, kind (which zone wins an overlap) and layer decide wells' zones; a new
        # name or document does not, and need not touch every well in the county.
        moved = placement_changed(self, ("geometry", "kind", "layer"))
        with transaction.atomic():
            super().save(*args, **kwargs)
            if moved:
                rederive_wells(reason=f"zone {self.code} saved")

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        from aquifer.registry.spatial import rederive_wells

        with transaction.atomic():
            result = super().delete(*args, **kwargs)
            rederive_wells(reason=f"zone {self.code} deleted")
        return result
