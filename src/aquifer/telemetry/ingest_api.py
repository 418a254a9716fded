"""HTTP ingest: ``POST /api/ingest/readings`` for devices that speak HTTP.

Authentication is the device's, not a person's: ``Authorization: Device <station>:<token>``,
where ``station`` is the registered client id (``Device.station_address``, protocol HTTP) and
``token`` its secret (no ``:`` in it). No session, no CSRF (device clients have neither).
An unknown station or a wrong token is a 401 and is kept in the quarantine (a device that is
not registered may be an illegal well); an inactive device or one registered for another
protocol is a 403.

The body is either JSON (``Content-Type: application/json``), the MQTT payload's shape::

    {"readings": [{"element": "depth_to_water",
                   "observed_at": "2026-11-25T10:00:00+08:00", "value": 12.34}, …]}

or CSV (``text/csv``, or a ``multipart/form-data`` upload of one file) with a header row
naming the columns ``element,observed_at,value``. Validation is the MQTT path's
(:func:`aquifer.telemetry.mapping.check_reading`) and all-or-nothing: any bad row gives a 422
listing every error, ``{"detail": …, "errors": [{"field": "readings[3].value", "message": …}]}``
(CSV rows are ``line[N]``, N the line number in the file, the header being line 1), and
nothing is stored. Otherwise the rows are stored idempotently
(:func:`aquifer.telemetry.store.ingest`, committed before the response) and the answer is
``{"stored": new rows, "duplicates": rows already stored}``: resending a batch is safe.

This module must not use ``from __future__ import annotations``: django-ninja reads the
annotations of the endpoint functions at run time.
"""

import csv
import io
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.security import APIKeyHeader

from aquifer.core.addresses import client_ip
from aquifer.core.jsoninput import BodyRejected, load_json
from aquifer.telemetry.devices import AuthResult, DeviceEntry, default_cache
from aquifer.telemetry.mapping import MappedReading, RowError, check_rows, parse_readings

__all__ = ["CSV_COLUMNS", "MAX_ROWS", "DeviceAuth", "router"]

router = Router(tags=["ingest"])

#: At most this many readings per request.
MAX_ROWS = 10_000
#: The columns a CSV upload must have.
CSV_COLUMNS = ("element", "observed_at", "value")


class DeviceAuth(APIKeyHeader):
    """``Authorization: Device <station>:<token>`` — a device of protocol HTTP."""

    param_name = "Authorization"
    openapi_description = "Device <station>:<token> (the device's registered id and secret)"

    def authenticate(self, request: HttpRequest, key: str | None) -> DeviceEntry:
        scheme, _, credentials = (key or "").strip().partition(" ")
        station, sep, token = credentials.strip().rpartition(":")
        if scheme.lower() != "device" or not sep or not station or not token:
            raise HttpError(401, "Authorization: Device <station>:<token> 缺失或格式不对。")
        result: AuthResult = default_cache().authenticate("HTTP", station, token)
        if result.ok and result.device is not None:
            return result.device
        _quarantine(request, result, station)
        if result.why in ("unknown", "secret", "no_secret"):
            raise HttpError(401, f"设备认证失败 (device authentication failed): {station}")
        raise HttpError(403, result.reason)


def _quarantine(request: HttpRequest, result: AuthResult, station: str) -> None:
    from aquifer.telemetry.store import quarantine

    quarantine(
        result.kind,
        result.reason,
        request.body[:65536],
        protocol="HTTP",
        remote_addr=client_ip(request),
        station=station,
    )


class IngestOut(Schema):
    stored: int
    duplicates: int


def _invalid(detail: str, errors: list[RowError]) -> HttpResponse:
    return JsonResponse({"detail": detail, "errors": [e.to_dict() for e in errors]}, status=422)


def _csv_readings(text: str) -> tuple[list[MappedReading], list[RowError]]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    names = [h.strip().lower() for h in header or []]
    missing = [c for c in CSV_COLUMNS if c not in names]
    if missing:
        message = f"the header row must name the columns {','.join(CSV_COLUMNS)}"
        return [], [RowError("csv", f"{message}; missing: {', '.join(missing)}")]
    at = {c: names.index(c) for c in CSV_COLUMNS}
    rows: list[tuple[str, dict[str, Any]]] = []
    for record in reader:
        if not any(cell.strip() for cell in record):
            continue
        if len(rows) >= MAX_ROWS:
            return [], [RowError("csv", f"more than {MAX_ROWS} rows: split the file")]
        values = {c: record[i].strip() if i < len(record) else None for c, i in at.items()}
        rows.append((f"line[{reader.line_num}]", values))
    if not rows:
        return [], [RowError("csv", "no readings after the header row")]
    return check_rows(rows, now=timezone.now(), numeric_text=True)


def _body_text(raw: bytes, field: str) -> tuple[str | None, list[RowError]]:
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        return None, [RowError(field, f"not UTF-8 text (byte {exc.start})")]


@router.post(
    "/ingest/readings",
    auth=DeviceAuth(),
    response={200: IngestOut},
    summary="Readings from a device (JSON or CSV)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "example": {
                        "readings": [
                            {
                                "element": "depth_to_water",
                                "observed_at": "2026-11-25T10:00:00+08:00",
                                "value": 12.34,
                            }
                        ]
                    }
                },
                "text/csv": {
                    "example": "element,observed_at,value\n"
                    "depth_to_water,2026-11-25T10:00:00+08:00,12.34\n"
                },
            },
        }
    },
)
def ingest_readings(request: HttpRequest) -> Any:
    """Store a batch of readings of the authenticated device (idempotent)."""
    from aquifer.telemetry.store import ReadingRow, ingest

    device: DeviceEntry = request.auth  # type: ignore[attr-defined]
    content_type = (request.content_type or "").lower()
    if content_type == "multipart/form-data":
        files = [f for name in request.FILES for f in request.FILES.getlist(name)]
        if len(files) != 1:
            return _invalid("请上传一个 CSV 文件。", [RowError("file", "upload exactly one file")])
        text, errors = _body_text(files[0].read(), "file")
        readings, more = _csv_readings(text) if text is not None else ([], [])
        errors += more
    elif content_type in ("text/csv", "application/csv", "text/plain"):
        text, errors = _body_text(request.body, "csv")
        readings, more = _csv_readings(text) if text is not None else ([], [])
        errors += more
    elif content_type in ("application/json", ""):
        try:
            body = load_json(request.body)
        except BodyRejected as exc:
            errors = [RowError(e["field"], e["message"]) for e in exc.errors]
            return _invalid(exc.detail, errors or [RowError("__all__", exc.detail)])
        readings, errors = parse_readings(body, now=timezone.now(), limit=MAX_ROWS)
    else:
        raise HttpError(415, f"不支持的内容类型 {content_type}：application/json 或 text/csv。")
    if errors:
        return _invalid(f"{len(errors)} 处数据有误，未保存任何读数。", errors)
    rows = [ReadingRow(device.id, r.element, r.observed_at, r.value) for r in readings]
    stored = ingest(rows)
    return {"stored": stored, "duplicates": len(rows) - stored}
