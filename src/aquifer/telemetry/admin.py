"""Admin: the quarantine, read-only (frames are evidence: nobody edits or deletes them).

Readings are not in the admin: a table of a hundred million rows is read through the series
API, its CSV export and the charts, not through a paginated change list.
"""

from __future__ import annotations

from django.contrib import admin

from aquifer.core.admin import ReadOnlyAdmin
from aquifer.telemetry.models import OutboxFrame, QuarantinedFrame, Upstream


@admin.register(QuarantinedFrame)
class QuarantinedFrameAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "kind", "protocol", "station", "remote_addr", "reason")
    list_filter = ("kind", "protocol")
    search_fields = ("station", "remote_addr", "reason")
    date_hierarchy = "received_at"
    readonly_fields = [f.name for f in QuarantinedFrame._meta.fields]


@admin.register(Upstream)
class UpstreamAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Where selected devices' frames are forwarded (``aquifer forward``; docs/open-data.md)."""

    list_display = ("name", "host", "port", "protocol", "enabled", "ack_timeout_s")
    list_filter = ("protocol", "enabled")
    filter_horizontal = ("devices",)


@admin.register(OutboxFrame)
class OutboxFrameAdmin(ReadOnlyAdmin):
    """The forwarding outbox, read-only: frames are kept as received."""

    list_display = ("id", "upstream", "station", "status", "attempts", "received_at",
                    "acknowledged_at", "last_error")  # fmt: skip
    list_filter = ("upstream", "status")
    search_fields = ("station",)
    readonly_fields = [f.name for f in OutboxFrame._meta.fields]
