"""REST API of the closure programme: entries (list, export, read, enrol, advance, inspect),
candidates, progress, balance, per-township counts, coverage areas (GeoJSON, import).

Every queryset comes from ``visible_to``; an entry out of sight is a 404, an action the role
may not take a 403, a bad input a 422 naming the field. Writes go through
``closure.services``.

Do not add ``from __future__ import annotations`` (django-ninja reads these annotations).
"""

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile

from aquifer.closure import meteo, recovery, reports, services
from aquifer.closure.candidates import candidates
from aquifer.closure.filters import ClosureFilterSet
from aquifer.closure.models import ClosureEntry, Inspection
from aquifer.closure.tables import ClosureTable
from aquifer.core.api import AttachmentOut, attachment_out
from aquifer.core.attachments import attachments_of
from aquifer.core.crud import page
from aquifer.core.exports import export_response
from aquifer.core.filters import filter_errors, openapi_parameters
from aquifer.core.roles import Action
from aquifer.core.scoping import allowed, visible_record, visible_to
from aquifer.core.tables import export_columns
from aquifer.registry.models import CoverageArea, MonitoringWell, SupplyWork, Township, Well
from aquifer.registry.supply import import_geojson

router = Router(tags=["closure"])


def _signed_in(request: HttpRequest, capability: str = "closure.view") -> Any:
    if not request.user.is_authenticated:
        raise HttpError(401, _("需要登录或 API 令牌。"))
    if not allowed(request.user, capability):
        raise PermissionDenied(_("您的角色无权使用关井压采。"))
    return request.user


class ClosureInspectionOut(Schema):
    id: int
    inspected_at: str
    lon: float
    lat: float
    distance_m: float
    findings: str
    signed_by: str
    telemetry_m3: float | None
    files: list[AttachmentOut]


def _inspection_out(i: Any) -> dict[str, Any]:
    return {
        "id": i.pk,
        "inspected_at": i.inspected_at.isoformat(),
        "lon": i.lon,
        "lat": i.lat,
        "distance_m": i.distance_m,
        "findings": i.findings,
        "signed_by": i.signed_by,
        "telemetry_m3": i.telemetry_m3,
        "files": [attachment_out(a) for a in attachments_of(i)],
    }


class EntryOut(Schema):
    id: int
    well_id: int
    well: str
    township_id: int
    reasons: list[str]
    deadline: str
    method: str
    status: str
    replacement_work_id: int | None
    replacement_area_id: int | None
    connection: str
    baseline_m3: float
    baseline_basis: str
    notified_on: str | None
    closed_at: str | None
    verified_on: str | None

    @staticmethod
    def of(e: ClosureEntry) -> dict[str, Any]:
        return {
            "id": e.pk,
            "well_id": e.well_id,
            "well": e.well.code,
            "township_id": e.township_id,
            "reasons": list(e.reasons or []),
            "deadline": e.deadline.isoformat(),
            "method": e.method,
            "status": e.status,
            "replacement_work_id": e.replacement_work_id,
            "replacement_area_id": e.replacement_area_id,
            "connection": e.connection,
            "baseline_m3": e.baseline_m3,
            "baseline_basis": e.baseline_basis,
            "notified_on": e.notified_on.isoformat() if e.notified_on else None,
            "closed_at": e.closed_at.isoformat() if e.closed_at else None,
            "verified_on": e.verified_on.isoformat() if e.verified_on else None,
        }


class EntryDetail(EntryOut):
    inspections: list[ClosureInspectionOut]
    metered: bool
    meter_advance_m3: float | None
    max_flow_m3h: float | None


class EntryPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[EntryOut]


class EnrolIn(Schema):
    well_id: int
    deadline: dt.date
    method: Literal["seal", "backfill"]
    township_id: int | None = None
    replacement_area_id: int | None = None
    replacement_work_id: int | None = None
    connection: str = Field("", max_length=200)
    notes: str = Field("", max_length=4000)


class AdvanceIn(Schema):
    to: Literal["notified", "closed", "verified"]
    note: str = Field("", max_length=4000)


class InspectIn(Schema):
    inspected_at: dt.datetime
    lon: float = Field(..., ge=-180, le=180)
    lat: float = Field(..., ge=-90, le=90)
    findings: str = Field("", max_length=4000)
    signed_by: str = Field("", max_length=100)


class CandidateOut(Schema):
    well_id: int
    well: str
    township_id: int
    zone_id: int | None
    reasons: list[str]
    volume_m3: float
    basis: str
    coverage_area_id: int | None
    lon: float
    lat: float


class ProgressOut(Schema):
    id: int | None
    name: str
    wells: int
    closed: int
    before_m3: float
    removed_m3: float
    target_m3: float | None
    percent: float | None


class ProgressReportOut(Schema):
    year: int
    county: ProgressOut
    townships: list[ProgressOut]
    zones: list[ProgressOut]


class BalanceOut(Schema):
    id: int
    name: str
    allowable_m3: float | None
    permitted_m3: float
    metered_m3: float
    estimated_m3: float
    recharge_m3: float | None
    over_m3: float | None
    is_over: bool
    reduction_target_m3: float | None
    removed_m3: float


class BalanceReportOut(Schema):
    year: int
    townships: list[BalanceOut]
    zones: list[BalanceOut]


class TownshipCountOut(Schema):
    township_id: int
    planned: int
    closed: int
    verified: int


class CoverageImportIn(Schema):
    work_id: int
    geojson: dict[str, Any]
    served_on: dt.date | None = None


class CoverageOut(Schema):
    id: int
    work_id: int
    name: str
    served_on: str | None
    capacity_m3_per_day: int | None
    area_km2: float


def _entries(request: HttpRequest) -> Any:
    return visible_to(request.user, Action.VIEW, ClosureEntry).select_related(
        "well", "township", "replacement_work"
    )


def _entry(request: HttpRequest, pk: int) -> ClosureEntry:
    e: ClosureEntry | None = _entries(request).filter(pk=pk).first()
    if e is None:
        raise Http404
    return e


def _filtered(request: HttpRequest) -> Any:
    filters = ClosureFilterSet(request.GET, queryset=_entries(request), request=request)
    if not filters.is_valid():
        raise filter_errors(filters)
    return filters.qs


_FILTERS: dict[str, Any] = {"parameters": openapi_parameters(ClosureFilterSet)}


@router.get(
    "/closure/entries/", response=EntryPage, operation_id="closure_entries", openapi_extra=_FILTERS
)
def entries(
    request: HttpRequest,
    limit: int = Query(50, ge=1, le=500),  # type: ignore[type-arg]
    offset: int = Query(0, ge=0),  # type: ignore[type-arg]
) -> Any:
    """Programme wells the caller may see (a township officer: their township's)."""
    _signed_in(request, "closure.use")
    return page(_filtered(request), limit, offset, EntryOut.of)


@router.get(
    "/closure/entries/export",
    operation_id="closure_entries_export",
    response={200: None},
    openapi_extra=_FILTERS,
)
def entries_export(request: HttpRequest, format: Literal["xlsx", "csv"] = "xlsx") -> HttpResponse:
    """Excel (or CSV) of the filtered programme, with the list's columns."""
    _signed_in(request, "closure.use")
    return export_response(
        _filtered(request), export_columns(ClosureTable, ClosureEntry), format, "closure"
    )


@router.get("/closure/entries/{pk}", response=EntryDetail, operation_id="closure_entry")
def entry(request: HttpRequest, pk: int) -> Any:
    _signed_in(request, "closure.use")
    e = _entry(request, pk)
    t = services.telemetry_since_closure(e)
    return {
        **EntryOut.of(e),
        "inspections": [_inspection_out(i) for i in e.inspections.all()],
        "metered": t.metered,
        "meter_advance_m3": t.meter_advance_m3,
        "max_flow_m3h": t.max_flow_m3h,
    }


@router.post(
    "/closure/entries/",
    response={201: EntryOut},
    operation_id="closure_enrol",
    summary="Put a well into the closure programme",
)
def enrol(request: HttpRequest, payload: EnrolIn) -> Any:
    user = _signed_in(request, "closure.manage")
    well = visible_record(user, Well, payload.well_id, "well_id")
    e = services.enrol(
        user,
        well,
        deadline=payload.deadline,
        method=payload.method,
        township=visible_record(user, Township, payload.township_id, "township_id"),
        replacement_area=visible_record(
            user, CoverageArea, payload.replacement_area_id, "replacement_area_id"
        ),
        replacement_work=visible_record(
            user, SupplyWork, payload.replacement_work_id, "replacement_work_id"
        ),
        connection=payload.connection,
        notes=payload.notes,
    )
    return Status(201, EntryOut.of(e))


@router.post(
    "/closure/entries/{pk}/advance",
    response=EntryOut,
    operation_id="closure_advance",
    summary="Move a programme well one step: notified, closed, verified",
)
def advance(request: HttpRequest, pk: int, payload: AdvanceIn) -> Any:
    user = _signed_in(request)
    return EntryOut.of(services.advance(user, _entry(request, pk), payload.to, note=payload.note))


@router.post(
    "/closure/entries/{pk}/inspections",
    response={201: ClosureInspectionOut},
    operation_id="closure_inspect",
    summary="Record an inspection on site of a closed well",
)
def inspect(request: HttpRequest, pk: int, payload: InspectIn) -> Any:
    user = _signed_in(request)
    i = services.inspect(
        user,
        _entry(request, pk),
        inspected_at=payload.inspected_at,
        lon=payload.lon,
        lat=payload.lat,
        findings=payload.findings,
        signed_by=payload.signed_by,
    )
    return Status(201, _inspection_out(i))


@router.post(
    "/closure/inspections/{pk}/files",
    response={201: ClosureInspectionOut},
    operation_id="closure_inspection_file",
    summary="Attach a photo or a signature file (JPEG, PNG, WebP or PDF) to an inspection",
)
def inspection_file(
    request: HttpRequest,
    pk: int,
    label: Form[Literal["photo", "signature"]],
    file: File[UploadedFile],
) -> Any:
    """The file's type is sniffed from its bytes; it is kept unchanged with its SHA-256."""
    user = _signed_in(request)
    i = visible_to(user, Action.VIEW, Inspection).select_related("entry").filter(pk=pk).first()
    if i is None:
        raise Http404
    services.attach_file(user, i, file, label)
    return Status(201, _inspection_out(i))


@router.get("/closure/candidates", response=list[CandidateOut], operation_id="closure_candidates")
def candidate_list(request: HttpRequest, on: dt.date | None = None) -> Any:
    """Wells that should close, with their reasons (codes: covered, prohibited,
    overexploited, no_permit) and their volume before."""
    _signed_in(request, "closure.manage")
    day = on or timezone.localdate()
    return [
        {
            "well_id": c.well.pk,
            "well": c.well.code,
            "township_id": c.well.township_id,
            "zone_id": c.well.zone_id,
            "reasons": list(c.reasons),
            "volume_m3": c.volume.m3,
            "basis": c.volume.basis,
            "coverage_area_id": c.coverage_area.pk if c.coverage_area else None,
            "lon": c.well.lon,
            "lat": c.well.lat,
        }
        for c in candidates(day)
    ]


def _year(year: int | None) -> int:
    return year or timezone.localdate().year


def _progress_out(p: reports.Progress) -> dict[str, Any]:
    return {
        "id": p.key.pk if p.key is not None else None,
        "name": str(p.key) if p.key is not None else _("全县"),
        "wells": p.wells,
        "closed": p.closed,
        "before_m3": round(p.before_m3, 1),
        "removed_m3": round(p.removed_m3, 1),
        "target_m3": p.target_m3,
        "percent": p.percent,
    }


@router.get("/closure/progress", response=ProgressReportOut, operation_id="closure_progress")
def progress(request: HttpRequest, year: int | None = Query(None, ge=2000, le=2100)) -> Any:  # type: ignore[type-arg]
    """Extraction removed per township, zone and county against the year's targets (the
    caller's township only, for a township officer)."""
    _signed_in(request)
    rep = reports.progress(_year(year), _entries(request))
    return {
        "year": rep.year,
        "county": _progress_out(rep.county),
        "townships": [_progress_out(p) for p in rep.townships],
        "zones": [_progress_out(p) for p in rep.zones],
    }


def _balance_out(r: reports.BalanceRow) -> dict[str, Any]:
    return {
        "id": r.key.pk,
        "name": str(r.key),
        "allowable_m3": r.allowable_m3,
        "permitted_m3": r.permitted_m3,
        "metered_m3": round(r.metered_m3, 1),
        "estimated_m3": round(r.estimated_m3, 1),
        "recharge_m3": r.recharge_m3,
        "over_m3": r.over_m3,
        "is_over": r.is_over,
        "reduction_target_m3": r.reduction_target_m3,
        "removed_m3": round(r.removed_m3, 1),
    }


@router.get("/closure/balance", response=BalanceReportOut, operation_id="closure_balance")
def balance(request: HttpRequest, year: int | None = Query(None, ge=2000, le=2100)) -> Any:  # type: ignore[type-arg]
    """Allowable, permitted, metered, estimated and recharge per township and zone."""
    _signed_in(request)
    towns, zones = reports.balance(_year(year))
    return {
        "year": _year(year),
        "townships": [_balance_out(r) for r in towns],
        "zones": [_balance_out(r) for r in zones],
    }


@router.get(
    "/closure/townships", response=list[TownshipCountOut], operation_id="closure_by_township"
)
def by_township(request: HttpRequest, year: int | None = Query(None, ge=2000, le=2100)) -> Any:  # type: ignore[type-arg]
    """Programme wells planned (deadline), closed and verified in the year, per township."""
    _signed_in(request)
    seen = set(visible_to(request.user, Action.VIEW, Township).values_list("pk", flat=True))
    counts = reports.closures_by_township(_year(year))
    return [{"township_id": t, **c} for t, c in sorted(counts.items()) if t in seen]


@router.get("/closure/coverage", operation_id="closure_coverage", response={200: None})
def coverage(request: HttpRequest) -> Any:
    """The coverage areas as a GeoJSON FeatureCollection."""
    _signed_in(request)
    return JsonResponse(coverage_geojson(request.user))


def coverage_geojson(user: Any) -> dict[str, Any]:
    feats = []
    for a in visible_to(user, Action.VIEW, CoverageArea).select_related("work"):
        feats.append(
            {
                "type": "Feature",
                "geometry": a.geometry.get("geometry", a.geometry)
                if a.geometry.get("type") == "Feature"
                else a.geometry,
                "properties": {
                    "id": a.pk,
                    "name": a.name,
                    "work": a.work.name,
                    "served_on": a.served_on.isoformat() if a.served_on else None,
                    "capacity_m3_per_day": a.capacity_m3_per_day,
                    "illustrative": a.work.is_illustrative,
                },
            }
        )
    return {"type": "FeatureCollection", "features": feats}


@router.post(
    "/closure/coverage/import",
    response={201: list[CoverageOut]},
    operation_id="closure_coverage_import",
    summary="Import coverage areas of a supply work from GeoJSON",
)
def coverage_import(request: HttpRequest, payload: CoverageImportIn) -> Any:
    user = _signed_in(request, "closure.manage")
    work = visible_record(user, SupplyWork, payload.work_id, "work_id")
    areas = import_geojson(work, payload.geojson, payload.served_on)
    return Status(
        201,
        [
            {
                "id": a.pk,
                "work_id": a.work_id,
                "name": a.name,
                "served_on": a.served_on.isoformat() if a.served_on else None,
                "capacity_m3_per_day": a.capacity_m3_per_day,
                "area_km2": a.area_km2,
            }
            for a in areas
        ],
    )


class RecoveryWellOut(Schema):
    monitoring_well_id: int
    well: str
    layer: str
    value_is: str
    current_m: float | None
    last_year_m: float | None
    baseline_m: float | None
    change_year_m: float | None
    class_year: str | None
    change_baseline_m: float | None
    class_baseline: str | None
    mann_kendall_status: str


class RecoveryGroupOut(Schema):
    id: int
    name: str
    layer: str
    wells: int
    change_year_m: float | None
    class_year: str | None
    change_baseline_m: float | None
    class_baseline: str | None


class RecoveryOut(Schema):
    month: str
    baseline_year: int
    wells: list[RecoveryWellOut]
    townships: list[RecoveryGroupOut]
    zones: list[RecoveryGroupOut]


def _group_out(g: Any) -> dict[str, Any]:
    return {
        "id": g.key.pk,
        "name": str(g.key),
        "layer": g.layer,
        "wells": len(g.wells),
        "change_year_m": g.change_year,
        "class_year": g.class_year,
        "change_baseline_m": g.change_baseline,
        "class_baseline": g.class_baseline,
    }


@router.get("/closure/recovery", response=RecoveryOut, operation_id="closure_recovery")
def recovery_report(
    request: HttpRequest,
    year: int | None = Query(None, ge=2000, le=2100),  # type: ignore[type-arg]
    month: int | None = Query(None, ge=1, le=12),  # type: ignore[type-arg]
) -> Any:
    """Level change per monitoring well, township and zone (shallow and deep apart) against
    the same month of last year and of the baseline year, in the bulletin's classes
    (rise, slight_rise, slight_fall, fall; bounds unconfirmed), beside the Mann-Kendall
    status."""
    _signed_in(request)
    today = timezone.localdate()
    on = dt.date(year or today.year, month or today.month, 1)
    rep = recovery.report(on, visible_to(request.user, Action.VIEW, MonitoringWell))
    return {
        "month": on.strftime("%Y-%m"),
        "baseline_year": rep.baseline_year,
        "wells": [
            {
                "monitoring_well_id": r.mw.pk,
                "well": r.mw.well.code,
                "layer": r.mw.well.layer,
                "value_is": r.value_is,
                "current_m": r.current,
                "last_year_m": r.last_year,
                "baseline_m": r.baseline,
                "change_year_m": r.change_year,
                "class_year": r.class_year,
                "change_baseline_m": r.change_baseline,
                "class_baseline": r.class_baseline,
                "mann_kendall_status": r.mk_status,
            }
            for r in rep.wells
        ],
        "townships": [_group_out(g) for g in rep.townships],
        "zones": [_group_out(g) for g in rep.zones],
    }


class AttributionOut(Schema):
    enough_data: bool
    message: str
    observed_change_m: float | None
    weather_change_m: float | None
    pumping_change_m: float | None
    residual_m: float | None
    evp: float | None
    rsq: float | None
    rmse_m: float | None
    n_observations: int
    has_pumping: bool
    baseline: list[str] | None
    recent: list[str] | None
    chart: dict[str, list[Any]]


@router.get("/closure/attribution", response=AttributionOut, operation_id="closure_attribution")
def attribution(
    request: HttpRequest,
    monitoring_well_id: int,
    radius_m: float = Query(1000.0, ge=50, le=20_000),  # type: ignore[type-arg]
    station: str | None = None,
) -> Any:
    """The pastas model of one monitoring well: its level change since the programme began
    split into the weather's part and the pumping's part, with the fit statistics; when the
    data are too short, ``enough_data`` is false and ``message`` says why (a code)."""
    _signed_in(request)
    mw = visible_record(request.user, MonitoringWell, monitoring_well_id, "monitoring_well_id")
    a = meteo.attribute_well(mw, radius_m=radius_m, station=station)
    return {
        **{k: v for k, v in a.__dict__.items() if k not in ("baseline", "recent")},
        "baseline": list(a.baseline) if a.baseline else None,
        "recent": list(a.recent) if a.recent else None,
    }


class MeteoImportOut(Schema):
    series_id: int
    station: str
    kind: str
    added: int


@router.post(
    "/closure/meteo/import",
    response={201: MeteoImportOut},
    operation_id="closure_meteo_import",
    summary="Import a station's daily precipitation or evaporation (CSV or Excel body)",
)
def meteo_import(
    request: HttpRequest,
    station: str,
    kind: Literal["precipitation", "evaporation"],
    filename: str = "series.csv",
    source: str = "",
    replace: bool = False,
) -> Any:
    """The request body is the file (two columns: date, mm/day; a header row allowed)."""
    _signed_in(request, "closure.manage")
    series, added = meteo.import_series(
        station=station,
        kind=kind,
        content=request.body[:20_000_000],
        filename=filename,
        source=source,
        replace=replace,
    )
    return Status(
        201,
        {"series_id": series.pk, "station": series.station, "kind": series.kind, "added": added},
    )
