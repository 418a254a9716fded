"""Admin for the portal: news items. Complaints change only through ``portal.services``
(state machine, scope, timeline), so they are not in the admin."""

from __future__ import annotations

from django.contrib import admin

from aquifer.portal.models import NewsItem


@admin.register(NewsItem)
class NewsItemAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("title", "kind", "published", "published_at")
