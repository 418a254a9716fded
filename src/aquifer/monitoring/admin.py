"""Admin: check thresholds, level thresholds and meter changes (data entry); alarms,
findings to look at (changed only through the pages, API and jobs)."""

from __future__ import annotations

from django.contrib import admin

from aquifer.core.admin import ReadOnlyAdmin
from aquifer.monitoring.models import (
    Alarm,
    CheckSettings,
    LevelThreshold,
    MeterChange,
    ReadingFinding,
)


@admin.register(CheckSettings)
class CheckSettingsAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("element", "device", "overrides", "updated_at")
    list_filter = ("element",)
    raw_id_fields = ("device",)


@admin.register(LevelThreshold)
class LevelThresholdAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("monitoring_well", "max_fall_m_per_day", "window_days")
    raw_id_fields = ("monitoring_well",)


@admin.register(MeterChange)
class MeterChangeAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("device", "changed_at", "old_final", "new_initial", "old_serial", "new_serial")
    raw_id_fields = ("device",)
    date_hierarchy = "changed_at"


@admin.register(Alarm)
class AlarmAdmin(ReadOnlyAdmin):
    list_display = ("opened_at", "kind", "severity", "state", "title", "township", "count")
    list_filter = ("state", "kind", "severity")
    search_fields = ("key", "title")


@admin.register(ReadingFinding)
class ReadingFindingAdmin(ReadOnlyAdmin):
    list_display = ("observed_at", "device", "element", "check_kind", "value", "review")
    list_filter = ("check_kind", "review", "element")
