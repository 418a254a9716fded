"""Admin for the maintenance app: the patrol checklist. Tickets and patrols are changed only
through the pages and the API (``maintenance.services``: state machine, scope, timeline)."""

from __future__ import annotations

from django.contrib import admin

from aquifer.maintenance.models import ChecklistItem


@admin.register(ChecklistItem)
class ChecklistItemAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("order", "code", "label", "active")
    list_editable = ("active",)
    list_display_links = ("code",)
