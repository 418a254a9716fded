from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from aquifer.core.audit import track
from aquifer.core.geometry import ACCEPTED_CRS, GeometryError, to_wgs84
from aquifer.core.models import Timestamped
from aquifer.core.scoping import Scope
from aquifer.registry.choices import (
    WELL_TRANSITIONS,
    AquiferLayer,
    MonitoringNetwork,
    WellPurpose,
    WellStatus,
)
from aquifer.registry.hooks import well_activation

#: How each accepted coordinate system is named on the pages, in the reader's language (the
#: codes are ``core.geometry.ACCEPTED_CRS``; a code missing here is shown by its technical
#: name). The choices of ``Well.input_crs``, so the change history shows them translated.
CRS_LABELS: dict[int, Any] = {
    4326: _("WGS 84 经纬度"),
    4490: _("CGCS2000 经纬度"),
    4546: _("CGCS2000 3度带高斯-克吕格 中央经线111°E"),
    4547: _("CGCS2000 3度带高斯-克吕格 中央经线114°E"),
    4525: _("CGCS2000 3度带高斯-克吕格 第37带"),
    4526: _("CGCS2000 3度带高斯-克吕格 第38带"),
}


@track
class Well(Timestamped):
    """A groundwater well (取水井) in the county's register (地下水管理条例 art. 49).

    Its township and zone are derived from its location — never typed — and re-derived when
    zones change. Coordinates are stored in WGS84; what was entered (system and values) is kept.
    """

    scope = Scope(township="township_id", owner="owner_id")
    _stored_status: str | None = None  # the status as loaded, for lifecycle checks

    code = models.CharField(_("编号"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100, blank=True)
    lon = models.FloatField(_("经度 (WGS84)"))
    lat = models.FloatField(_("纬度 (WGS84)"))
    input_crs = models.PositiveIntegerField(
        _("录入坐标系 (EPSG)"),
        default=4326,
        choices=[
            (k, format_lazy("EPSG:{} {}", k, CRS_LABELS.get(k, v))) for k, v in ACCEPTED_CRS.items()
        ],
    )
    input_x = models.FloatField(_("录入 X/经度"), null=True, blank=True)
    input_y = models.FloatField(_("录入 Y/纬度"), null=True, blank=True)
    depth_m = models.DecimalField(
        _("井深 (m)"),
        max_digits=7,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.5")), MaxValueValidator(Decimal("5000"))],
    )
    layer = models.CharField(_("含水层"), max_length=10, choices=AquiferLayer.choices)
    purpose = models.CharField(_("用途"), max_length=16, choices=WellPurpose.choices)
    status = models.CharField(
        _("状态"), max_length=10, choices=WellStatus.choices, default=WellStatus.ACTIVE
    )
    owner = models.ForeignKey(
        "registry.WaterUser",
        verbose_name=_("权属人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="wells",
    )
    township = models.ForeignKey(
        "registry.Township",
        verbose_name=_("乡镇"),
        editable=False,
        on_delete=models.PROTECT,
        related_name="wells",
    )
    zone = models.ForeignKey(
        "registry.Zone",
        verbose_name=_("分区"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="wells",
    )
    drilled_on = models.DateField(_("成井日期"), null=True, blank=True)
    notes = models.TextField(_("备注"), blank=True)

    class Meta:
        verbose_name = _("取水井")
        verbose_name_plural = _("取水井")
        ordering = ["code"]
        indexes = [models.Index(fields=["township", "status"], name="well_township_status")]

    def __str__(self) -> str:
        return self.code if not self.name else f"{self.code} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("registry:well_detail", args=[self.pk])

    @classmethod
    def from_db(cls, db: Any, field_names: Any, values: Any) -> Well:
        instance = super().from_db(db, field_names, values)
        # Not getattr: a status left out by .only() would cost a query per loaded well; clean()
        # reads it then, if the lifecycle check needs it.
        instance._stored_status = instance.__dict__.get("status")
        return instance

    def set_location(self, x: float, y: float, epsg: int = 4326) -> None:
        """Set the location from coordinates in any accepted system (converted to WGS84)."""

        self.input_crs, self.input_x, self.input_y = epsg, x, y
        self.lon, self.lat = to_wgs84(x, y, epsg)

    def derive_location(self) -> None:
        """Set township and zone from the location (raises GeometryError outside the county)."""
        from aquifer.registry.spatial import locate

        self.township_id, self.zone_id = locate(self.lon, self.lat, self.layer)

    def full_clean(
        self, exclude: Any = None, validate_unique: bool = True, validate_constraints: bool = True
    ) -> None:
        errors: dict[str, Any] = {}
        exclude = set(exclude or ())
        try:
            if self.lon is None or self.lat is None:
                raise GeometryError(str(_("缺少坐标。")))
            self.derive_location()
        except GeometryError as exc:
            errors["lon"] = str(exc)
            exclude |= {"township", "zone", "lon", "lat"}
        try:
            super().full_clean(
                exclude=exclude,
                validate_unique=validate_unique,
                validate_constraints=validate_constraints,
            )
        except ValidationError as exc:
            errors = {**exc.message_dict, **errors}
        if errors:
            raise ValidationError(errors)

    def clean(self) -> None:
        stored = getattr(self, "_stored_status", None)
        if stored is None and self.pk is not None and not self._state.adding:
            stored = Well.objects.filter(pk=self.pk).values_list("status", flat=True).first()
        if stored and stored != self.status and self.status not in WELL_TRANSITIONS[stored]:
            allowed = ", ".join(str(WellStatus(s).label) for s in sorted(WELL_TRANSITIONS[stored]))
            raise ValidationError(
                {
                    "status": _("状态不能从“%(old)s”改为“%(new)s”；可改为：%(allowed)s")
                    % {
                        "old": WellStatus(stored).label,
                        "new": WellStatus(self.status).label,
                        "allowed": allowed or "—",
                    }
                }
            )
        if stored and stored != WellStatus.ACTIVE and self.status == WellStatus.ACTIVE:
            # Putting a well into service is a permit question (zones, emergency windows,
            # the Yellow River suspension): the apps above answer through the hook.
            reasons = [r for answer in well_activation(self) for r in answer]
            if reasons:
                raise ValidationError({"status": reasons})

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.derive_location()
        super().save(*args, **kwargs)
        self._stored_status = self.status


@track
class MonitoringWell(models.Model):
    """A well used for water-level or water-quality monitoring (监测井), R4.1."""

    scope = Scope(township="well__township_id", owner="well__owner_id")

    well = models.OneToOneField(
        Well, verbose_name=_("井"), on_delete=models.PROTECT, related_name="monitoring"
    )
    monitors_level = models.BooleanField(_("水位监测"), default=True)
    monitors_quality = models.BooleanField(_("水质监测"), default=False)
    network = models.CharField(
        _("监测网级别"),
        max_length=12,
        choices=MonitoringNetwork.choices,
        default=MonitoringNetwork.COUNTY,
    )
    warning_depth_m = models.DecimalField(
        _("预警埋深 (m)"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    established_on = models.DateField(_("建站日期"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("监测井")
        verbose_name_plural = _("监测井")
        ordering = ["well__code"]

    def __str__(self) -> str:
        return str(self.well)

    def get_absolute_url(self) -> str:
        return self.well.get_absolute_url()

    def clean(self) -> None:
        if not (self.monitors_level or self.monitors_quality):
            raise ValidationError(_("监测井至少监测水位或水质之一。"))
