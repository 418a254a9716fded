"""Admin for the closure programme's reference data: supply works and their coverage areas
(drawn or pasted as GeoJSON), reduction targets, zone recharge, meteorological series.
Programme entries change only through the pages and the API (``closure.services``)."""

from __future__ import annotations

from django.contrib import admin

from aquifer.closure.models import MeteoSeries, ReductionTarget, TownshipAllowance, ZoneRecharge
from aquifer.registry.models import CoverageArea, SupplyWork


class CoverageAreaInline(admin.StackedInline):  # type: ignore[type-arg]
    model = CoverageArea
    extra = 0
    fields = ("name", "geometry", "capacity_m3_per_day", "served_on", "notes")


@admin.register(SupplyWork)
class SupplyWorkAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("code", "name", "kind", "capacity_m3_per_day", "is_illustrative")
    inlines = [CoverageAreaInline]


@admin.register(ReductionTarget)
class ReductionTargetAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("year", "township", "zone", "reduction_m3", "document")
    list_filter = ("year",)


@admin.register(TownshipAllowance)
class TownshipAllowanceAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("township", "allowable_m3", "document")


@admin.register(ZoneRecharge)
class ZoneRechargeAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("zone", "year", "recharge_m3", "source")


@admin.register(MeteoSeries)
class MeteoSeriesAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("station", "kind", "is_synthetic", "source")
