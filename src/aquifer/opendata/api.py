"""REST API of the open-data app: forwarding status per destination, and the exchange files.

Do not add ``from __future__ import annotations`` (django-ninja reads these annotations).
"""

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema

from aquifer.core.exports import export_response
from aquifer.core.scoping import visible_to
from aquifer.opendata import exchange, reports
from aquifer.telemetry.models import OutboxFrame, OutboxStatus, Upstream

router = Router(tags=["opendata"])


class DestinationOut(Schema):
    id: int
    name: str
    host: str
    port: int
    protocol: str
    enabled: bool
    devices: int
    counts: dict[str, int]
    oldest_waiting: dt.datetime | None


class OutboxFrameOut(Schema):
    id: int
    station: str
    device_id: int
    status: str
    attempts: int
    received_at: dt.datetime
    sent_at: dt.datetime | None
    acknowledged_at: dt.datetime | None
    next_attempt_at: dt.datetime
    last_error: str


@router.get(
    "/forwarding/destinations",
    response=list[DestinationOut],
    operation_id="opendata_forwarding_destinations",
    summary="Upstream platforms and their outbox per status (queued, sent, acknowledged, failed)",
)
def forwarding_destinations(request: HttpRequest) -> Any:
    return reports.destinations(request.user)


@router.get(
    "/forwarding/destinations/{int:pk}/frames",
    response=list[OutboxFrameOut],
    operation_id="opendata_forwarding_frames",
    summary="One destination's outbox frames, newest first",
)
def forwarding_frames(
    request: HttpRequest,
    pk: int,
    status: OutboxStatus | None = None,
    limit: int = Query(50, ge=1, le=500),  # type: ignore[type-arg]
) -> Any:
    up = visible_to(request.user, "view", Upstream).filter(pk=pk).first()
    if up is None:
        raise Http404
    qs = OutboxFrame.objects.filter(upstream=up).order_by("-id")
    if status:
        qs = qs.filter(status=status)
    return list(qs[:limit])


def _dates(start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
    """The range asked for; by default the last 30 days."""
    end = end or timezone.localdate()
    start = start or end - dt.timedelta(days=30)
    if start > end:
        raise ValidationError({"start": _("开始日期晚于结束日期。")})
    if (end - start).days > 3660:
        raise ValidationError({"end": _("一次最多导出十年。")})
    return start, end


@router.get(
    "/exchange/levels",
    operation_id="opendata_exchange_levels",
    summary="Exchange file: the monitoring wells' daily levels (CSV or Excel; layout unconfirmed)",
)
def exchange_levels(
    request: HttpRequest,
    start: dt.date | None = None,
    end: dt.date | None = None,
    format: Literal["csv", "xlsx"] = "csv",
) -> HttpResponse:
    start, end = _dates(start, end)
    rows = exchange.daily_levels(request.user, start, end)
    return export_response(rows, exchange.columns("LEVELS"), format, "groundwater-levels")


@router.get(
    "/exchange/quality",
    operation_id="opendata_exchange_quality",
    summary="Exchange file: monitoring wells' quality samples (CSV or Excel; layout unconfirmed)",
)
def exchange_quality(
    request: HttpRequest,
    start: dt.date | None = None,
    end: dt.date | None = None,
    format: Literal["csv", "xlsx"] = "csv",
) -> HttpResponse:
    start, end = _dates(start, end)
    rows = exchange.quality_results(request.user, start, end)
    return export_response(rows, exchange.columns("QUALITY"), format, "groundwater-quality")
