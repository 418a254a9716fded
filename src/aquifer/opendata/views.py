"""Pages of the open-data app: forwarding status per destination, exchange file downloads."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from aquifer.core.exports import export_response
from aquifer.opendata import exchange, reports
from aquifer.telemetry.models import OutboxFrame, OutboxStatus


def forwarding(request: HttpRequest) -> HttpResponse:
    """Each upstream platform: its frames per status, and the latest failures."""
    rows = reports.destinations(request.user)
    failed = (
        OutboxFrame.objects.filter(upstream_id__in=[r["id"] for r in rows],
                                   status=OutboxStatus.FAILED)
        .select_related("upstream").order_by("-id")[:20]
    )  # fmt: skip
    return render(request, "opendata/forwarding.html", {"rows": rows, "failed": failed})


def _date(text: str | None, default: dt.date) -> tuple[dt.date, str | None]:
    if not text:
        return default, None
    try:
        return dt.date.fromisoformat(text), None
    except ValueError:
        return default, text


def exchange_files(request: HttpRequest) -> HttpResponse:
    """The form; with ``file=levels|quality`` the file itself."""
    today = timezone.localdate()
    start, bad_start = _date(request.GET.get("start"), today - dt.timedelta(days=30))
    end, bad_end = _date(request.GET.get("end"), today)
    fmt = request.GET.get("format", "csv")
    fmt = fmt if fmt in ("csv", "xlsx") else "csv"
    which = request.GET.get("file")
    errors = bad_start is not None or bad_end is not None or start > end
    if which in ("levels", "quality") and not errors:
        if which == "levels":
            rows = exchange.daily_levels(request.user, start, end)
            return export_response(rows, exchange.columns("LEVELS"), fmt, "groundwater-levels")
        rows = exchange.quality_results(request.user, start, end)
        return export_response(rows, exchange.columns("QUALITY"), fmt, "groundwater-quality")
    return render(
        request,
        "opendata/exchange.html",
        {"start": start, "end": end, "format": fmt, "errors": errors,
         "levels": exchange.columns("LEVELS"), "quality": exchange.columns("QUALITY")},
    )  # fmt: skip
