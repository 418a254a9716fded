"""Admin: the quarantine, read-only (frames are evidence: nobody edits or deletes them).

Readings are not in the admin: a table of a hundred million rows is read through the series
API, its CSV export and the charts, not through a paginated change list.
"""

from __future__ import annotations

from django.contrib import admin

from aquifer.core.admin import ReadOnlyAdmin
from aquifer.telemetry.models import QuarantinedFrame


@admin.register(QuarantinedFrame)
class QuarantinedFrameAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "kind", "protocol", "station", "remote_addr", "reason")
    list_filter = ("kind", "protocol")
    search_fields = ("station", "remote_addr", "reason")
    date_hierarchy = "received_at"
    readonly_fields = [f.name for f in QuarantinedFrame._meta.fields]
