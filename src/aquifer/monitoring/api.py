"""REST API of the monitoring app: alarms, quality findings, health figures, device health.

Every queryset comes from ``visible_to``: the public and anonymous callers get empty lists,
a record out of scope is a 404, an action visible but not allowed a 403.

Do not add ``from __future__ import annotations`` (django-ninja reads these annotations).
"""

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from aquifer.core.crud import page
from aquifer.core.exports import export_response
from aquifer.core.filters import filter_errors, openapi_parameters
from aquifer.core.roles import Action
from aquifer.core.scoping import can, require, visible_to
from aquifer.core.tables import export_columns
from aquifer.monitoring import alarms as alarm_service
from aquifer.monitoring import arrival, board, health
from aquifer.monitoring.filters import AlarmFilterSet
from aquifer.monitoring.models import (
    Alarm,
    DeviceHealthDaily,
    DeviceState,
    MeterChange,
    ReadingFinding,
    ReviewState,
)
from aquifer.monitoring.review import ReviewError, review_finding
from aquifer.monitoring.sweeps import device_health_state
from aquifer.monitoring.tables import AlarmTable
from aquifer.registry.models import Device

router = Router(tags=["monitoring"])

#: ninja's Query(...) default, typed once (mypy: Query is generic).
_QUERY: Any = Query(...)  # type: ignore[type-arg]


def _iso(t: Any) -> str | None:
    return t.isoformat() if t else None


class AlarmOut(Schema):
    id: int
    kind: str
    key: str
    state: str
    severity: str
    title: str
    detail: str
    township_id: int | None
    device_id: int | None
    well_id: int | None
    opened_at: str
    last_seen: str
    count: int
    due_at: str | None
    escalated_at: str | None
    acknowledged_at: str | None
    closed_at: str | None
    note: str
    data: dict[str, Any]

    @staticmethod
    def of(a: Alarm) -> dict[str, Any]:
        return {
            "id": a.pk,
            "kind": a.kind,
            "key": a.key,
            "state": a.state,
            "severity": a.severity,
            "title": a.display_title,  # in the request's language (monitoring.messages)
            "detail": a.display_detail,
            "township_id": a.township_id,
            "device_id": a.device_id,
            "well_id": a.well_id,
            "opened_at": a.opened_at.isoformat(),
            "last_seen": a.last_seen.isoformat(),
            "count": a.count,
            "due_at": _iso(a.due_at),
            "escalated_at": _iso(a.escalated_at),
            "acknowledged_at": _iso(a.acknowledged_at),
            "closed_at": _iso(a.closed_at),
            "note": a.note,
            "data": a.data,
        }


class AlarmPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[AlarmOut]


def _limits(limit: int, offset: int) -> None:
    if not 1 <= limit <= 500:
        raise HttpError(422, _("limit 应在 1 至 500 之间。"))
    if offset < 0:
        raise HttpError(422, _("offset 不能为负。"))


_ALARM_FILTERS: dict[str, Any] = {"parameters": openapi_parameters(AlarmFilterSet)}


def _alarms(request: HttpRequest) -> Any:
    """The alarms the caller may see, newest first, filtered as the alarm board (its
    FilterSet); an invalid filter value is a 422 naming it."""
    qs = visible_to(request.user, Action.VIEW, Alarm).order_by("-opened_at", "-id")
    filters = AlarmFilterSet(request.GET, queryset=qs, request=request)
    if not filters.is_valid():
        raise filter_errors(filters)
    return filters.qs


@router.get(
    "/alarms/",
    response=AlarmPage,
    operation_id="monitoring_alarm_list",
    openapi_extra=_ALARM_FILTERS,
)
def alarm_list(request: HttpRequest, limit: int = 50, offset: int = 0) -> dict[str, Any]:
    _limits(limit, offset)
    return page(_alarms(request), limit, offset, AlarmOut.of)


@router.get(
    "/alarms/export",
    operation_id="monitoring_alarm_export",
    response={200: None},
    openapi_extra=_ALARM_FILTERS,
)
def alarm_export(request: HttpRequest, format: Literal["xlsx", "csv"] = "xlsx") -> HttpResponse:
    """Excel (or CSV) of the filtered alarms, with the alarm board's columns
    (monitoring/tables.py)."""
    qs = _alarms(request).annotate(township_name=F("township__name"))
    return export_response(qs, export_columns(AlarmTable, Alarm), format, "alarms")


@router.get("/alarms/{pk}", response=AlarmOut, operation_id="monitoring_alarm_read")
def alarm_read(request: HttpRequest, pk: int) -> dict[str, Any]:
    return AlarmOut.of(get_object_or_404(visible_to(request.user, Action.VIEW, Alarm), pk=pk))


class AlarmActionIn(Schema):
    note: str = ""


def _act(request: HttpRequest, pk: int, action: str, note: str) -> Any:
    alarm = get_object_or_404(visible_to(request.user, Action.VIEW, Alarm), pk=pk)
    require(request.user, Action.CHANGE, alarm)
    try:
        if action == "acknowledge":
            alarm_service.acknowledge(alarm, request.user, note)
        elif action == "resolve":
            alarm_service.resolve(alarm, request.user, note)
        else:
            alarm_service.close_false(alarm, request.user, note)
    except alarm_service.AlarmError:
        if action != "acknowledge" and not note.strip():
            return _field_error("note", _("请填写处理说明。"))
        raise HttpError(409, _("该告警当前状态不允许此操作。")) from None
    return AlarmOut.of(alarm)


def _field_error(field: str, message: str) -> JsonResponse:
    return JsonResponse(
        {"detail": _("请求数据有误。"), "errors": [{"field": field, "message": message}]},
        status=422,
        json_dumps_params={"ensure_ascii": False},
    )


@router.post(
    "/alarms/{pk}/acknowledge", response=AlarmOut, operation_id="monitoring_alarm_acknowledge"
)
def alarm_acknowledge(request: HttpRequest, pk: int, body: AlarmActionIn) -> Any:
    return _respond(request, pk, "acknowledge", body.note)


@router.post("/alarms/{pk}/resolve", response=AlarmOut, operation_id="monitoring_alarm_resolve")
def alarm_resolve(request: HttpRequest, pk: int, body: AlarmActionIn) -> Any:
    return _respond(request, pk, "resolve", body.note)


@router.post("/alarms/{pk}/close", response=AlarmOut, operation_id="monitoring_alarm_close")
def alarm_close(request: HttpRequest, pk: int, body: AlarmActionIn) -> Any:
    return _respond(request, pk, "close", body.note)


def _respond(request: HttpRequest, pk: int, action: str, note: str) -> Any:
    return _act(request, pk, action, note)


class AlarmBulkIn(Schema):
    ids: list[int] = Field(default_factory=list, description="the alarms (at most 1000)")
    action: str = Field("", description="acknowledge | resolve")
    reason: str = Field("", description="one reason for all, required")


class AlarmBulkRefusal(Schema):
    id: int
    code: str
    message: str


class AlarmBulkRefused(Schema):
    """403/409: the alarms refused (none when the gate or the CSRF check refused the call)."""

    detail: str
    refused: list[AlarmBulkRefusal] = []


class AlarmBulkOut(Schema):
    action: str
    count: int
    items: list[AlarmOut]


@router.post(
    "/monitoring/alarms/bulk",
    response={200: AlarmBulkOut, 403: AlarmBulkRefused, 409: AlarmBulkRefused},
    operation_id="monitoring_alarm_bulk",
)
def alarm_bulk(request: HttpRequest, body: AlarmBulkIn) -> Any:
    """Acknowledge or resolve many alarms with one reason, all or nothing (board.apply).

    422 names the field (``action``, ``reason``, ``ids`` — also for ids the caller cannot
    see); an alarm the caller may not act on (403) or whose state does not allow the action
    (409) is listed under ``refused`` and nothing is changed."""
    try:
        done = board.apply(request.user, body.action, body.reason, body.ids)
    except board.BulkInvalid as e:
        raise ValidationError(e.errors) from None
    except board.BulkRefused as e:
        return JsonResponse(
            {
                "detail": _("所选告警中有不能处理的，均未处理。"),
                "refused": [{"id": r.id, "code": r.code, "message": r.message} for r in e.refusals],
            },
            status=403 if e.forbidden else 409,
            json_dumps_params={"ensure_ascii": False},
        )
    return {"action": body.action, "count": len(done), "items": [AlarmOut.of(a) for a in done]}


# --- findings -------------------------------------------------------------------------------


class FindingOut(Schema):
    id: int
    reading_id: int
    device_id: int
    element: str
    observed_at: str
    value: float | None
    check: str
    flag: int
    severity: str
    message: str
    review: str
    reason: str
    reviewed_at: str | None


def _finding(f: ReadingFinding) -> dict[str, Any]:
    return {
        "id": f.pk,
        "reading_id": f.reading_id,
        "device_id": f.device_id,
        "element": f.element,
        "observed_at": f.observed_at.isoformat(),
        "value": f.value,
        "check": f.check_kind,
        "flag": f.flag,
        "severity": f.severity,
        "message": f.message,
        "review": f.review,
        "reason": f.reason,
        "reviewed_at": _iso(f.reviewed_at),
    }


class FindingPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[FindingOut]


class FindingFilter(Schema):
    device_id: int | None = None
    element: str | None = None
    review: ReviewState | None = None
    limit: int = 50
    offset: int = 0


@router.get("/monitoring/findings/", response=FindingPage, operation_id="monitoring_finding_list")
def finding_list(request: HttpRequest, filters: FindingFilter = _QUERY) -> dict[str, Any]:
    _limits(filters.limit, filters.offset)
    qs = visible_to(request.user, Action.VIEW, ReadingFinding)
    if filters.device_id is not None:
        qs = qs.filter(device_id=filters.device_id)
    if filters.element:
        qs = qs.filter(element=filters.element)
    if filters.review:
        qs = qs.filter(review=filters.review)
    return page(qs.order_by("-observed_at", "-id"), filters.limit, filters.offset, _finding)


class FindingReviewIn(Schema):
    decision: Literal["confirm", "override"]
    reason: str


@router.post(
    "/monitoring/findings/{pk}/review",
    response=FindingOut,
    operation_id="monitoring_finding_review",
)
def finding_review(request: HttpRequest, pk: int, body: FindingReviewIn) -> Any:
    finding = get_object_or_404(visible_to(request.user, Action.VIEW, ReadingFinding), pk=pk)
    require(request.user, Action.CHANGE, finding)
    try:
        review_finding(
            finding, request.user, confirm=body.decision == "confirm", reason=body.reason
        )
    except ReviewError:
        return JsonResponse(
            {
                "detail": _("请求数据有误。"),
                "errors": [{"field": "reason", "message": _("请填写复核理由。")}],
            },
            status=422,
            json_dumps_params={"ensure_ascii": False},
        )
    return _finding(finding)


# --- health ---------------------------------------------------------------------------------


class HealthOut(Schema):
    day: str
    key: int | None
    devices: int
    online: int
    expected: int
    received: int
    online_rate: float | None
    completeness: float | None


class HealthFilter(Schema):
    level: Literal["county", "township", "device"] = "county"
    start: dt.date | None = None
    end: dt.date | None = None
    township_id: int | None = None


@router.get("/monitoring/health/", response=list[HealthOut], operation_id="monitoring_health")
def health_figures(request: HttpRequest, filters: HealthFilter = _QUERY) -> Any:
    end = filters.end or timezone.localdate() - dt.timedelta(days=1)
    start = filters.start or end - dt.timedelta(days=29)
    if start > end:
        return JsonResponse(
            {
                "detail": _("请求数据有误。"),
                "errors": [{"field": "start", "message": _("开始日期不能晚于结束日期。")}],
            },
            status=422,
            json_dumps_params={"ensure_ascii": False},
        )
    if (end - start).days > 366:
        return JsonResponse(
            {
                "detail": _("请求数据有误。"),
                "errors": [{"field": "end", "message": _("时段不能超过366天。")}],
            },
            status=422,
            json_dumps_params={"ensure_ascii": False},
        )
    qs = visible_to(request.user, Action.VIEW, DeviceHealthDaily)
    if filters.township_id is not None:
        qs = qs.filter(township_id=filters.township_id)
    return [f.as_dict() for f in health.figures(qs, filters.level, start, end)]


class ArrivalOut(Schema):
    key: int | None = Field(..., description="device or township id; null: the county")
    devices: int
    expected: int
    received: int
    rate: float | None


@router.get(
    "/monitoring/arrival/",
    response=list[ArrivalOut],
    operation_id="monitoring_arrival",
    summary="Data arrival rate (到报率): received / expected reports by device, township, county",
)
def arrival_rates(request: HttpRequest, filters: HealthFilter = _QUERY) -> Any:
    end = filters.end or timezone.localdate() - dt.timedelta(days=1)
    start = filters.start or end - dt.timedelta(days=29)
    if start > end or (end - start).days > 366:
        field = "start" if start > end else "end"
        message = _("开始日期不能晚于结束日期。") if start > end else _("时段不能超过366天。")
        return JsonResponse(
            {"detail": _("请求数据有误。"), "errors": [{"field": field, "message": message}]},
            status=422,
            json_dumps_params={"ensure_ascii": False},
        )
    devices = visible_to(request.user, Action.VIEW, Device)
    if filters.township_id is not None:
        devices = devices.filter(well__township_id=filters.township_id)
    return [a.as_dict() for a in arrival.arrival_rates(devices, start, end, filters.level)]


@router.get(
    "/monitoring/device-health.geojson",
    operation_id="monitoring_device_health_geojson",
    summary="Devices the user may see, coloured by online state",
)
def device_health_geojson(request: HttpRequest) -> JsonResponse:
    now = timezone.now()
    devices = (
        visible_to(request.user, Action.VIEW, Device)
        .filter(active=True, well__isnull=False)
        .values_list(
            "pk",
            "station_address",
            "reporting_interval_min",
            "well__code",
            "well__lon",
            "well__lat",
        )
    )
    last = dict(
        visible_to(request.user, Action.VIEW, DeviceState).values_list(
            "device_id", "last_observed_at"
        )
    )
    features = []
    for pk, station, interval, code, lon, lat in devices.iterator(2000):
        seen = last.get(pk)
        features.append(
            {
                "type": "Feature",
                "id": pk,
                "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
                "properties": {
                    "station": station,
                    "well": code,
                    "state": device_health_state(seen, interval, now),
                    "last": timezone.localtime(seen).strftime("%Y-%m-%d %H:%M") if seen else None,
                    "url": f"/devices/{pk}/",
                },
            }
        )
    return JsonResponse(
        {"type": "FeatureCollection", "features": features},
        json_dumps_params={"ensure_ascii": False, "separators": (",", ":")},
    )


# --- alarm history, meter changes -----------------------------------------------------------


class AlarmEventOut(Schema):
    at: str
    action: str
    username: str
    note: str


@router.get(
    "/alarms/{pk}/events", response=list[AlarmEventOut], operation_id="monitoring_alarm_events"
)
def alarm_events(request: HttpRequest, pk: int) -> list[dict[str, Any]]:
    alarm = get_object_or_404(visible_to(request.user, Action.VIEW, Alarm), pk=pk)
    return [
        {"at": e.at.isoformat(), "action": e.action, "username": e.username, "note": e.note}
        for e in alarm.events.all()
    ]


class MeterChangeIn(Schema):
    device_id: int
    element: str = "cumulative_volume"
    changed_at: dt.datetime
    old_final: float
    new_initial: float
    old_serial: str = ""
    new_serial: str = ""
    note: str = ""


class MeterChangeOut(MeterChangeIn):
    id: int


def _meter_change(m: MeterChange) -> dict[str, Any]:
    return {
        "id": m.pk,
        "device_id": m.device_id,
        "element": m.element,
        "changed_at": m.changed_at,
        "old_final": m.old_final,
        "new_initial": m.new_initial,
        "old_serial": m.old_serial,
        "new_serial": m.new_serial,
        "note": m.note,
    }


@router.get(
    "/monitoring/meter-changes/",
    response=list[MeterChangeOut],
    operation_id="monitoring_meter_change_list",
)
def meter_change_list(request: HttpRequest, device_id: int | None = None) -> list[dict[str, Any]]:
    qs = visible_to(request.user, Action.VIEW, MeterChange)
    if device_id is not None:
        qs = qs.filter(device_id=device_id)
    return [_meter_change(m) for m in qs[:500]]


@router.post(
    "/monitoring/meter-changes/",
    response={201: MeterChangeOut},
    operation_id="monitoring_meter_change_create",
)
def meter_change_create(request: HttpRequest, body: MeterChangeIn) -> Any:
    if not can(request.user, Action.ADD, MeterChange):
        raise PermissionDenied(_("您的角色无权登记换表。"))
    device = visible_to(request.user, Action.CHANGE, Device).filter(pk=body.device_id).first()
    if device is None:
        return _field_error("device_id", _("没有这台设备。"))
    change = MeterChange(device=device, **body.dict(exclude={"device_id"}))
    if timezone.is_naive(change.changed_at):
        change.changed_at = timezone.make_aware(change.changed_at)
    change.full_clean()  # ValidationError → 422 naming the field
    require(request.user, Action.ADD, change)
    change.save()
    return Status(201, _meter_change(change))
