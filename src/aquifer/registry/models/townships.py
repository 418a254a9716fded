from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from aquifer.core.audit import track
from aquifer.core.geometry import GeometryError, parse_polygon
from aquifer.core.scoping import Scope
from aquifer.registry.choices import TownshipKind


class TownshipQuerySet(models.QuerySet["Township"]):
    def current(self) -> TownshipQuerySet:
        return self.filter(is_current=True)


@track
class Township(models.Model):
    """A township-level government (乡镇) with its official 9-digit division code.

    Abolished or renamed townships are kept with ``is_current=False`` and, where known, the
    township that took them over (``successor``), so that records carrying an old code still
    resolve (:meth:`resolve_code`).
    """

    scope = Scope(township="pk", shared=True, public=True)

    code = models.CharField(
        _("区划代码"), max_length=9, unique=True, help_text=_("国家统计局9位乡级区划代码")
    )
    name = models.CharField(_("名称"), max_length=50)
    name_en = models.CharField(_("英文名"), max_length=80, blank=True)
    kind = models.CharField(_("类型"), max_length=10, choices=TownshipKind.choices)
    is_current = models.BooleanField(_("现行"), default=True)
    successor = models.ForeignKey(
        "self",
        verbose_name=_("并入/更名为"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="predecessors",
    )
    valid_until = models.DateField(_("停用日期"), null=True, blank=True)
    change_note = models.CharField(_("变更说明"), max_length=200, blank=True)
    boundary = models.JSONField(_("边界 (GeoJSON)"), null=True, blank=True)
    boundary_is_approximate = models.BooleanField(_("边界为示意"), default=True)
    seat_lon = models.FloatField(_("驻地经度"), null=True, blank=True)
    seat_lat = models.FloatField(_("驻地纬度"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TownshipQuerySet.as_manager()

    class Meta:
        verbose_name = _("乡镇")
        verbose_name_plural = _("乡镇")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("registry:township_detail", args=[self.pk])

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if not (self.code.isdigit() and len(self.code) == 9):
            errors["code"] = _("区划代码应为9位数字。")
        if self.boundary:
            try:
                parse_polygon(self.boundary)
            except GeometryError as exc:
                errors["boundary"] = str(exc)
        if self.is_current and self.successor_id:
            errors["successor"] = _("现行乡镇不能有后继乡镇。")
        if errors:
            raise ValidationError(errors)

    def save(self, *args: Any, **kwargs: Any) -> None:
        from django.db import transaction

        from aquifer.registry.spatial import placement_changed, rederive_wells

        # Only current townships with a boundary take wells (spatial.build_index).
        moved = placement_changed(self, ("boundary", "is_current"))
        with transaction.atomic():
            super().save(*args, **kwargs)
            if moved:
                rederive_wells(reason=f"township {self.code} boundary saved")

    @classmethod
    def resolve_code(cls, code: str) -> Township | None:
        """The current township for a code, following abolitions and renames."""
        t = cls.objects.filter(code=str(code).strip()).first()
        seen: set[int] = set()
        while t is not None and not t.is_current and t.successor_id and t.pk not in seen:
            seen.add(t.pk)
            t = t.successor
        return t
