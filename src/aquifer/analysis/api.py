"""REST API of the analysis app: trends, forecasts, zone maps, the balance, quality samples.

Do not add ``from __future__ import annotations`` (django-ninja reads these annotations).
Zone-level results are public; well-level ones follow the well's scope (out of scope: 404).
"""

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from ninja.errors import HttpError

from aquifer.analysis import balance as bal
from aquifer.analysis import levels, samples, soundings
from aquifer.analysis.filters import QualitySampleFilterSet
from aquifer.analysis.models import LevelMeasurement, QualitySample
from aquifer.core.filters import filter_errors, openapi_parameters
from aquifer.core.roles import Action
from aquifer.core.scoping import allowed, can, visible_to
from aquifer.registry.models import MonitoringWell, Well, Zone

router = Router(tags=["analysis"])


class TrendOut(Schema):
    monitoring_well: int
    well_code: str
    computed_on: dt.date | None
    element: str | None
    sources: str | None
    test: str | None
    trend: str
    p: float | None
    tau: float | None
    z: float | None
    slope_per_year: float | None
    level_slope_per_year: float | None
    same_month_change: float | None
    months: int
    status: str


def _trend_out(mw: Any, t: Any) -> dict[str, Any]:
    if t is None:
        return {
            "monitoring_well": mw.pk, "well_code": mw.well.code, "computed_on": None,
            "element": None, "sources": None, "test": None, "trend": "not enough data",
            "p": None, "tau": None, "z": None, "slope_per_year": None,
            "level_slope_per_year": None, "same_month_change": None, "months": 0,
            "status": "not enough data",
        }  # fmt: skip
    return {
        "monitoring_well": mw.pk,
        "well_code": mw.well.code,
        "computed_on": t.computed_on,
        "element": t.element,
        "sources": t.sources,
        "test": t.test,
        "trend": t.trend,
        "p": t.p,
        "tau": t.tau,
        "z": t.z,
        "slope_per_year": t.slope_per_year,
        "level_slope_per_year": t.level_slope_per_year,
        "same_month_change": t.same_month_change,
        "months": t.months,
        "status": t.status,
    }


def _visible_mw(request: HttpRequest, pk: int) -> Any:
    mw = (
        visible_to(request.user, Action.VIEW, MonitoringWell)
        .select_related("well")
        .filter(pk=pk)
        .first()
    )
    if mw is None:
        raise Http404
    return mw


@router.get(
    "/analysis/trends/wells",
    response=list[TrendOut],
    operation_id="analysis_well_trends",
    summary="Newest level trend and recovery status of each monitoring well in scope",
)
def well_trends(request: HttpRequest) -> Any:
    latest = levels.latest_well_trends()
    wells = visible_to(request.user, Action.VIEW, MonitoringWell).select_related("well")
    return [_trend_out(mw, latest.get(mw.pk)) for mw in wells]


@router.get(
    "/analysis/trends/wells/{int:pk}",
    response=TrendOut,
    operation_id="analysis_well_trend",
    summary="A monitoring well's newest level trend",
)
def well_trend(request: HttpRequest, pk: int) -> Any:
    mw = _visible_mw(request, pk)
    return _trend_out(mw, levels.latest_well_trends().get(mw.pk))


class ZoneTrendOut(Schema):
    zone: int
    code: str
    name: str
    computed_on: dt.date | None
    status: str
    wells: int
    wells_assessed: int
    rising: int
    stabilised: int
    falling: int
    level_slope_per_year: float | None
    same_month_change: float | None


@router.get(
    "/analysis/trends/zones",
    response=list[ZoneTrendOut],
    operation_id="analysis_zone_trends",
    summary="Newest recovery status of each zone (public)",
)
def zone_trends(request: HttpRequest) -> Any:
    latest = levels.latest_zone_trends()
    out = []
    for z in visible_to(request.user, Action.VIEW, Zone):
        t = latest.get(z.pk)
        out.append(
            {
                "zone": z.pk, "code": z.code, "name": z.name,
                "computed_on": t.computed_on if t else None,
                "status": t.status if t else "not enough data",
                "wells": t.wells if t else 0, "wells_assessed": t.wells_assessed if t else 0,
                "rising": t.rising if t else 0, "stabilised": t.stabilised if t else 0,
                "falling": t.falling if t else 0,
                "level_slope_per_year": t.level_slope_per_year if t else None,
                "same_month_change": t.same_month_change if t else None,
            }
        )  # fmt: skip
    return out


def zone_quality_classes(zone_ids: list[int]) -> dict[int, int]:
    """Per zone: the worst class among the newest classified sample of each of its wells."""
    newest: dict[int, tuple[dt.datetime, int, int]] = {}
    rows = (
        QualitySample.objects.filter(well__zone_id__in=zone_ids)
        .exclude(klass=None)
        .values_list("well_id", "well__zone_id", "sampled_at", "klass")
    )
    for well_id, zone_id, at, klass in rows:
        if klass is None:
            continue
        cur = newest.get(well_id)
        if cur is None or at > cur[0]:
            newest[well_id] = (at, zone_id, klass)
    out: dict[int, int] = {}
    for _at, zone_id, klass in newest.values():
        out[zone_id] = max(out.get(zone_id, 0), klass)
    return out


@router.get(
    "/analysis/zones.geojson",
    operation_id="analysis_zones_geojson",
    url_name="analysis_zones_geojson",
    summary="Zones with recovery status and quality class (public)",
)
def zones_geojson(request: HttpRequest) -> JsonResponse:
    from aquifer.analysis.quality import CLASS_LABELS

    zones = list(visible_to(request.user, Action.VIEW, Zone))
    latest = levels.latest_zone_trends()
    classes = zone_quality_classes([z.pk for z in zones])
    features = []
    for z in zones:
        t = latest.get(z.pk)
        k = classes.get(z.pk)
        features.append(
            {
                "type": "Feature",
                "id": z.pk,
                "geometry": z.geometry,
                "properties": {
                    "code": z.code,
                    "name": z.name,
                    "layer": z.layer,
                    "status": t.status if t else "not enough data",
                    "status_label": _status_label(t.status if t else "not enough data"),
                    "quality_class": CLASS_LABELS.get(k) if k else None,
                    "computed_on": t.computed_on.isoformat() if t else None,
                },
            }
        )
    return JsonResponse(
        {"type": "FeatureCollection", "features": features},
        json_dumps_params={"ensure_ascii": False},
    )


def _status_label(s: str) -> str:
    from aquifer.analysis.models import RecoveryStatus

    try:
        return str(RecoveryStatus(s).label)
    except ValueError:
        return s


class ForecastOut(Schema):
    monitoring_well: int
    computed_on: dt.date
    data_until: dt.date | None
    element: str
    method: str
    enough_data: bool
    message: str
    rmse: float | None
    nse: float | None
    evp: float | None
    baseline_rmse: float | None
    holdout_months: int
    months: list[str]
    values: list[float]
    lower: list[float]
    upper: list[float]


@router.get(
    "/analysis/forecasts/wells/{int:pk}",
    response=ForecastOut,
    operation_id="analysis_well_forecast",
    summary="A monitoring well's level forecast (computed on demand, cached per day)",
)
def well_forecast(request: HttpRequest, pk: int) -> Any:
    mw = _visible_mw(request, pk)
    f = levels.compute_forecast(mw)
    return {
        "monitoring_well": mw.pk,
        "computed_on": f.computed_on,
        "data_until": f.data_until,
        "element": f.element,
        "method": f.method,
        "enough_data": f.enough_data,
        "message": f.message,
        "rmse": f.rmse,
        "nse": f.nse,
        "evp": f.evp,
        "baseline_rmse": f.baseline_rmse,
        "holdout_months": f.holdout_months,
        "months": f.points.get("months", []),
        "values": f.points.get("values", []),
        "lower": f.points.get("lower", []),
        "upper": f.points.get("upper", []),
    }


class ZoneBalanceOut(Schema):
    zone: int
    code: str
    name: str
    kind: str
    layer: str
    year: int
    allowable_m3: float
    metered_m3: float | None
    estimated_m3: float | None
    total_m3: float | None
    coefficient: float | None
    level_slope_per_year: float | None
    status: str
    grade_k: str | None
    grade_decline: str | None
    grade: str


@router.get(
    "/analysis/balance/zones",
    response=list[ZoneBalanceOut],
    operation_id="analysis_zone_balance",
    summary="Annual extraction balance and overexploitation grade per zone (public)",
)
def zone_balance(
    request: HttpRequest,
    year: int | None = Query(None, ge=1990, le=2100),  # type: ignore[type-arg]
) -> Any:
    year = year or timezone.localdate().year
    out = []
    for r in bal.zone_rows(request.user, year):
        b = r.balance
        out.append(
            {
                "zone": r.zone.pk, "code": r.zone.code, "name": r.zone.name,
                "kind": r.zone.kind, "layer": r.zone.layer, "year": year,
                "allowable_m3": float(r.zone.allowable_extraction_m3),
                "metered_m3": b.metered_m3 if b else None,
                "estimated_m3": b.estimated_m3 if b else None,
                "total_m3": b.total_m3 if b else None,
                "coefficient": b.coefficient if b else None,
                "level_slope_per_year": r.level_slope, "status": r.status,
                "grade_k": b.grade_k if b else None,
                "grade_decline": b.grade_decline if b else None,
                "grade": b.grade if b else "not enough data",
            }
        )  # fmt: skip
    return out


# --- Quality samples --------------------------------------------------------------------------


class IndicatorIn(Schema):
    indicator: str
    value: float | str | None = None
    unit: str = ""
    detection_limit: float | None = None
    below_detection: bool = False


class SampleIn(Schema):
    sample_id: str
    well: int
    sampled_at: dt.datetime
    lab: str
    indicators: list[IndicatorIn]


class ResultOut(Schema):
    indicator: str
    value: float | None
    value_text: str
    unit: str
    detection_limit: float | None
    below_detection: bool
    std_value: float | None
    std_unit: str
    klass: str
    notes: list[str]


class SampleOut(Schema):
    id: int
    sample_id: str
    well: int
    well_code: str
    sampled_at: dt.datetime
    lab: str
    klass: str | None
    deciding: list[str]
    notes: list[str]
    illustrative: bool
    results: list[ResultOut]


def _sample_out(s: QualitySample) -> dict[str, Any]:
    return {
        "id": s.pk,
        "sample_id": s.sample_id,
        "well": s.well_id,
        "well_code": s.well.code,
        "sampled_at": s.sampled_at,
        "lab": s.lab,
        "klass": s.label if s.klass else None,
        "deciding": s.deciding,
        "notes": s.notes,
        "illustrative": s.illustrative,
        "results": [
            {
                "indicator": r.indicator,
                "value": r.value,
                "value_text": r.value_text,
                "unit": r.unit,
                "detection_limit": r.detection_limit,
                "below_detection": r.below_detection,
                "std_value": r.std_value,
                "std_unit": r.std_unit,
                "klass": r.label,
                "notes": r.notes,
            }
            for r in s.results.all()
        ],
    }


class SamplePage(Schema):
    count: int
    results: list[SampleOut]


def _not_public(request: HttpRequest) -> None:
    if not allowed(request.user, "analysis.wells"):
        if not request.user.is_authenticated:
            raise HttpError(401, "authentication required")
        raise PermissionDenied


def _may_add(request: HttpRequest, model: Any) -> None:
    """401 for the anonymous, 403 for the public or a role that may not add ``model``."""
    _not_public(request)
    if not can(request.user, Action.ADD, model):
        raise PermissionDenied


@router.get(
    "/analysis/samples",
    response=SamplePage,
    operation_id="analysis_samples",
    summary="Quality samples in scope (newest first)",
    openapi_extra={"parameters": openapi_parameters(QualitySampleFilterSet)},
)
def sample_list(
    request: HttpRequest,
    limit: int = Query(50, ge=1, le=500),  # type: ignore[type-arg]
    offset: int = Query(0, ge=0),  # type: ignore[type-arg]
) -> Any:
    """Filtered as the sample list page (QualitySampleFilterSet); a bad filter is a 422."""
    _not_public(request)
    qs = visible_to(request.user, Action.VIEW, QualitySample).select_related("well")
    filters = QualitySampleFilterSet(request.GET, queryset=qs, request=request)
    if not filters.is_valid():
        raise filter_errors(filters)
    qs = filters.qs.prefetch_related("results")
    return {"count": qs.count(), "results": [_sample_out(s) for s in qs[offset : offset + limit]]}


@router.get(
    "/analysis/samples/{int:pk}",
    response=SampleOut,
    operation_id="analysis_sample",
    summary="One quality sample with its indicator classes",
)
def sample_read(request: HttpRequest, pk: int) -> Any:
    s = visible_to(request.user, Action.VIEW, QualitySample).filter(pk=pk).first()
    if s is None:
        raise Http404
    return _sample_out(s)


@router.post(
    "/analysis/samples",
    response={201: SampleOut},
    operation_id="analysis_sample_create",
    summary="Enter a lab sample; it is classified after GB/T 14848-2017 and may raise a warning",
)
def sample_create(request: HttpRequest, payload: SampleIn) -> Any:
    _may_add(request, QualitySample)
    well = visible_to(request.user, Action.VIEW, Well).filter(pk=payload.well).first()
    if well is None:
        raise ValidationError({"well": "no such well"})
    at = payload.sampled_at
    if timezone.is_naive(at):
        at = timezone.make_aware(at, timezone.get_current_timezone())
    data = samples.SampleInput(
        sample_id=payload.sample_id,
        well=well,
        sampled_at=at,
        lab=payload.lab,
        indicators=[samples.IndicatorInput(**i.dict()) for i in payload.indicators],
    )
    checked = samples.validate_sample(data, request.user)
    return Status(201, _sample_out(samples.store_sample(checked)))


__all__ = ["router"]


# --- Manual soundings -------------------------------------------------------------------------


class SoundingIn(Schema):
    monitoring_well: int
    element: str = "depth_to_water"
    measured_at: dt.datetime
    value: float
    note: str = ""


class SoundingOut(Schema):
    id: int
    monitoring_well: int
    element: str
    measured_at: dt.datetime
    value: float
    note: str


def _sounding_out(m: Any) -> dict[str, Any]:
    return {
        "id": m.pk,
        "monitoring_well": m.monitoring_well_id,
        "element": m.element,
        "measured_at": m.measured_at,
        "value": m.value,
        "note": m.note,
    }


@router.get(
    "/analysis/soundings",
    response=list[SoundingOut],
    operation_id="analysis_soundings",
    summary="Manual level soundings of a monitoring well in scope",
)
def sounding_list(request: HttpRequest, monitoring_well: int) -> Any:
    mw = _visible_mw(request, monitoring_well)
    qs = visible_to(request.user, Action.VIEW, LevelMeasurement).filter(monitoring_well=mw)
    return [_sounding_out(m) for m in qs.order_by("measured_at")]


@router.post(
    "/analysis/soundings",
    response={201: SoundingOut},
    operation_id="analysis_sounding_create",
    summary="Record a manual sounding (depth to water or water level, m) of a monitoring well",
)
def sounding_create(request: HttpRequest, payload: SoundingIn) -> Any:
    _may_add(request, LevelMeasurement)
    m = soundings.record(
        request.user,
        payload.monitoring_well,
        payload.element,
        payload.measured_at,
        payload.value,
        payload.note,
    )
    return Status(201, _sounding_out(m))
