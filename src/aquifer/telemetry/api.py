"""Telemetry API: reading series of a device or a well (JSON for charts, CSV in full), and
the quarantine of frames the gateway could not store.

Every query goes through :func:`aquifer.core.scoping.visible_to`: a device or well out of the
caller's scope is a 404, like a record that does not exist. Bad parameters are a 422 naming
the parameter, in the shape of :mod:`aquifer.api.errors`.

This module must not use ``from __future__ import annotations``: django-ninja reads the
annotations of the endpoint functions at run time.
"""

import csv
import datetime as dt
import io
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, StreamingHttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema

from aquifer.core.crud import page
from aquifer.core.roles import Action
from aquifer.core.scoping import allowed, visible_to
from aquifer.registry.models import Device, Well
from aquifer.telemetry.elements import ELEMENTS
from aquifer.telemetry.models import QuarantinedFrame, QuarantineKind, Reading
from aquifer.telemetry.series import RESOLUTIONS, series

__all__ = ["router"]

router = Router(tags=["telemetry"])

CSV_CHUNK = 2000


class SeriesOut(Schema):
    element: str
    unit: str
    resolution: str
    source_points: int
    points: list[tuple[str, float, float, float]]


#: The years a series may be asked for (at year 1 or 9999 the time zone arithmetic overflows).
YEARS = (1900, 2999)


def parse_time(field: str, text: str | None, *, end: bool = False) -> dt.datetime | None:
    """An ISO 8601 date or date-time; without an offset it is local (settings.TIME_ZONE).

    A date alone means the start of that day, or as an ``end`` the whole day.
    """
    if text is None or not text.strip():
        return None
    text = text.strip()
    value: dt.datetime | None
    try:
        day = parse_date(text)  # a date alone (parse_datetime would read it as midnight)
        value = None if day is not None else parse_datetime(text)
    except ValueError:
        value = day = None
    when = day or value
    if when is None:
        raise ValidationError(
            {field: _("无法识别的时间：%s（应为 ISO 8601，如 2024-05-01T08:00）") % text}
        )
    if not YEARS[0] <= when.year <= YEARS[1]:  # else the arithmetic below overflows
        raise ValidationError(
            {
                field: _("日期应在 %(first)d 年至 %(last)d 年之间。")
                % {"first": YEARS[0], "last": YEARS[1]}
            }
        )
    if day is not None:
        value = dt.datetime.combine(day + dt.timedelta(days=1 if end else 0), dt.time(0))
        if end:
            value -= dt.timedelta(microseconds=1)
    assert value is not None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def check_params(
    element: str | None,
    start: str | None,
    end: str | None,
    resolution: str = "auto",
    *,
    element_required: bool = True,
) -> tuple[dt.datetime | None, dt.datetime | None]:
    errors: dict[str, str] = {}
    if element_required or element:
        if not element:
            errors["element"] = _("请指定监测要素。")
        elif element not in ELEMENTS:
            errors["element"] = _("未知的监测要素：%(element)s（可用：%(known)s）") % {
                "element": element,
                "known": ", ".join(ELEMENTS),
            }
    if resolution not in RESOLUTIONS:
        errors["resolution"] = _("分辨率应为 %(choices)s 之一。") % {
            "choices": " / ".join(RESOLUTIONS)
        }
    t0 = t1 = None
    try:
        t0 = parse_time("start", start)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    try:
        t1 = parse_time("end", end, end=True)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if t0 is not None and t1 is not None and t0 > t1:
        errors["start"] = _("开始时间晚于结束时间。")
    if errors:
        raise ValidationError(errors)
    return t0, t1


def visible_device(request: HttpRequest, pk: int) -> Device:
    device = visible_to(request.user, Action.VIEW, Device).filter(pk=pk).first()
    if device is None:
        raise Http404
    return device


def series_response(
    request: HttpRequest,
    device_ids: list[int],
    element: str,
    start: str | None,
    end: str | None,
    resolution: str,
    max_points: int,
) -> dict[str, Any]:
    t0, t1 = check_params(element, start, end, resolution)
    s = series(request.user, device_ids, element, t0, t1, resolution, max_points)  # type: ignore[arg-type]
    return {
        "element": s.element,
        "unit": s.unit,
        "resolution": s.resolution,
        "source_points": s.source_points,
        "points": s.points(timezone.get_default_timezone()),
    }


SERIES_DOC = (
    "Readings of one element by time range, for charts: `points` are `[time, value, min, "
    "max]`, times in the county's time zone with their offset. `resolution=auto` picks raw, "
    "hourly or daily and reduces to at most `max_points` with LTTB (min and max keep the "
    "envelope of what each point stands for). `start` / `end`: ISO 8601 date or date-time "
    "(local when without offset; an `end` date includes that day)."
)


@router.get(
    "/devices/{int:pk}/series",
    response=SeriesOut,
    operation_id="device_series",
    url_name="device_series",
    summary="A device's reading series",
    description=SERIES_DOC,
)
def device_series(
    request: HttpRequest,
    pk: int,
    element: str,
    start: str | None = None,
    end: str | None = None,
    resolution: str = "auto",
    max_points: int = Query(1000, ge=2, le=20000),  # type: ignore[type-arg]
) -> Any:
    device = visible_device(request, pk)
    return series_response(request, [device.pk], element, start, end, resolution, max_points)


@router.get(
    "/wells/{int:pk}/series",
    response=SeriesOut,
    operation_id="well_series",
    url_name="well_series",
    summary="A well's reading series (its devices merged)",
    description=SERIES_DOC,
)
def well_series(
    request: HttpRequest,
    pk: int,
    element: str,
    start: str | None = None,
    end: str | None = None,
    resolution: str = "auto",
    max_points: int = Query(1000, ge=2, le=20000),  # type: ignore[type-arg]
) -> Any:
    well = visible_to(request.user, Action.VIEW, Well).filter(pk=pk).first()
    if well is None:
        raise Http404
    ids = list(
        visible_to(request.user, Action.VIEW, Device)
        .filter(well_id=well.pk)
        .values_list("pk", flat=True)
    )
    return series_response(request, ids, element, start, end, resolution, max_points)


def csv_lines(header: list[str], rows: Iterator[tuple[Any, ...]]) -> Iterator[str]:
    """The CSV text in chunks: a byte-order mark and the header, then ``CSV_CHUNK`` rows each."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    buf.write("\ufeff")  # so that Excel on a Chinese Windows reads UTF-8
    writer.writerow(header)
    chunk = 0
    for row in rows:
        writer.writerow(row)
        chunk += 1
        if chunk >= CSV_CHUNK:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
            chunk = 0
    yield buf.getvalue()


@router.get(
    "/devices/{int:pk}/series.csv",
    operation_id="device_series_csv",
    url_name="device_series_csv",
    summary="A device's readings as CSV (all rows, streamed)",
    description=(
        "Every stored reading in the range (rejected ones included, with their flags: "
        "1 estimated, 2 suspect, 4 rejected, 8 manual); all elements when `element` is "
        "omitted. UTF-8 with a byte-order mark; times in the county's time zone."
    ),
    response={200: None},
)
def device_series_csv(
    request: HttpRequest,
    pk: int,
    element: str | None = None,
    start: str | None = None,
    end: str | None = None,
) -> StreamingHttpResponse:
    device = visible_device(request, pk)
    t0, t1 = check_params(element, start, end, element_required=False)
    qs = visible_to(request.user, Action.VIEW, Reading).filter(device_id=device.pk)
    if element:
        qs = qs.filter(element=element)
    if t0 is not None:
        qs = qs.filter(observed_at__gte=t0)
    if t1 is not None:
        qs = qs.filter(observed_at__lte=t1)
    tz = timezone.get_default_timezone()
    units = {k: e.unit for k, e in ELEMENTS.items()}
    header = [
        _("测站地址"),
        f"{_('观测时间')} ({settings.TIME_ZONE})",
        _("监测要素"),
        _("数值"),
        _("单位"),
        _("质量标志"),
    ]
    station = device.station_address

    def rows() -> Iterator[tuple[Any, ...]]:
        values = qs.order_by("element", "observed_at").values_list(
            "observed_at", "element", "value", "flags"
        )
        for observed_at, el, value, flags in values.iterator(chunk_size=CSV_CHUNK):
            local = observed_at.astimezone(tz).replace(tzinfo=None)
            yield station, local.isoformat(sep=" "), el, value, units.get(el, ""), flags

    response = StreamingHttpResponse(
        csv_lines(header, rows()), content_type="text/csv; charset=utf-8"
    )
    name = f"{station}-{element or 'all'}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- Quarantine -------------------------------------------------------------------------------


class QuarantinedFrameOut(Schema):
    id: int
    received_at: dt.datetime
    protocol: str
    remote_addr: str
    station: str
    kind: str
    reason: str
    raw_hex: str


class QuarantinePage(Schema):
    count: int
    limit: int
    offset: int
    items: list[QuarantinedFrameOut]


@router.get(
    "/quarantine/",
    response=QuarantinePage,
    operation_id="quarantine_list",
    url_name="quarantine_list",
    summary="Frames the gateway kept but could not store as readings (bureau only)",
)
def quarantine_list(
    request: HttpRequest,
    kind: QuarantineKind | None = None,
    protocol: str | None = None,
    station: str | None = None,
    limit: int = Query(50, ge=1, le=500),  # type: ignore[type-arg]
    offset: int = Query(0, ge=0),  # type: ignore[type-arg]
) -> Any:
    # Raw frames may carry station passwords: the bureau only. The model's empty Scope
    # already says so; the explicit check answers 403 instead of an empty list.
    if not allowed(request.user, "telemetry.quarantine"):
        raise PermissionDenied(_("隔离报文仅供县水务局查看。"))
    qs = visible_to(request.user, Action.VIEW, QuarantinedFrame)
    if kind:
        qs = qs.filter(kind=kind)
    if protocol:
        qs = qs.filter(protocol=protocol)
    if station:
        qs = qs.filter(station=station)
    return page(qs, limit, offset)
