"""Admin for the registry, for the bureau's data entry.

Wells and devices use the pages' own forms: a well's location is entered as x, y and a
coordinate system (its township and zone are derived, shown read-only), and a device's secret
is write-only. Validation is the models' own, as everywhere.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from aquifer.registry.forms import DeviceForm, WellForm
from aquifer.registry.models import Device, MonitoringWell, Township, WaterUser, Well, Zone


@admin.register(Township)
class TownshipAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("code", "name", "name_en", "kind", "is_current", "successor")
    list_filter = ("is_current", "kind")
    search_fields = ("code", "name", "name_en")


@admin.register(Zone)
class ZoneAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("code", "name", "kind", "layer", "area_km2", "supervising_township")
    list_filter = ("kind", "layer")
    search_fields = ("code", "name")
    readonly_fields = ("area_km2",)


@admin.register(WaterUser)
class WaterUserAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "uscc", "use_type", "township", "contact_person", "phone")
    list_filter = ("use_type", "township")
    search_fields = ("name", "uscc")


@admin.register(Well)
class WellAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = WellForm
    list_display = ("code", "name", "township", "zone", "status", "layer", "purpose", "owner")
    list_filter = ("status", "layer", "purpose", "township")
    search_fields = ("code", "name")
    autocomplete_fields = ("owner",)
    readonly_fields = ("township", "zone", "lon", "lat")
    fieldsets = (
        (None, {"fields": ("code", "name", "status", "layer", "purpose", "depth_m", "owner")}),
        (_("位置"), {"fields": ("x", "y", "crs", "lon", "lat", "township", "zone")}),
        (None, {"fields": ("drilled_on", "notes")}),
    )


@admin.register(MonitoringWell)
class MonitoringWellAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("well", "network", "monitors_level", "monitors_quality", "warning_depth_m")
    list_filter = ("network", "monitors_level", "monitors_quality")
    search_fields = ("well__code",)
    autocomplete_fields = ("well",)


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = DeviceForm
    list_display = ("station_address", "kind", "protocol", "well", "active")
    list_filter = ("kind", "protocol", "active")
    search_fields = ("station_address", "serial_number")
    autocomplete_fields = ("well",)
