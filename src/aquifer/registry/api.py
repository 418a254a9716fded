"""The registry's REST API: townships, zones, water users, wells, monitoring wells, devices.

Each entity is a :class:`aquifer.core.crud.Resource`: its schemas here, what its list is
filtered by in ``registry/filters.py`` and what its exports hold in ``registry/tables.py`` (both
shared with the list pages). Map layers are served as GeoJSON.
Do not add ``from __future__ import annotations`` (django-ninja reads these annotations).
"""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, JsonResponse
from ninja import Field, Query, Router, Schema
from pydantic import ConfigDict

from aquifer.core.crud import Resource, register
from aquifer.core.geometry import GeometryError
from aquifer.core.roles import Action
from aquifer.core.scoping import visible_to
from aquifer.registry.choices import (
    AquiferLayer,
    DeviceKind,
    MonitoringNetwork,
    Protocol,
    TownshipKind,
    UseType,
    WellPurpose,
    WellStatus,
    ZoneKind,
)
from aquifer.registry.filters import (
    DeviceFilterSet,
    MonitoringWellFilterSet,
    TownshipFilterSet,
    WaterUserFilterSet,
    WellFilterSet,
    ZoneFilterSet,
)
from aquifer.registry.models import Device, MonitoringWell, Township, WaterUser, Well, Zone
from aquifer.registry.tables import (
    DeviceTable,
    MonitoringWellTable,
    TownshipTable,
    WaterUserTable,
    WellTable,
    ZoneTable,
)

router = Router()


class In(Schema):
    model_config = ConfigDict(extra="forbid")


def _label(choices: Any, value: Any) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


# --- Townships --------------------------------------------------------------------------------


class TownshipOut(Schema):
    id: int
    code: str
    name: str
    name_en: str
    kind: str
    is_current: bool
    successor_id: int | None
    valid_until: dt.date | None
    change_note: str
    boundary_is_approximate: bool
    seat_lon: float | None
    seat_lat: float | None


class TownshipIn(In):
    code: str = Field(..., min_length=9, max_length=9, pattern=r"^\d{9}$")
    name: str = Field(..., min_length=1, max_length=50)
    name_en: str = ""
    kind: TownshipKind
    is_current: bool = True
    successor_id: int | None = None
    valid_until: dt.date | None = None
    change_note: str = ""
    boundary: dict[str, Any] | None = None
    boundary_is_approximate: bool = True
    seat_lon: float | None = Field(None, ge=-180, le=180)
    seat_lat: float | None = Field(None, ge=-90, le=90)


class TownshipPatch(In):
    code: str | None = Field(None, pattern=r"^\d{9}$")
    name: str | None = Field(None, min_length=1, max_length=50)
    name_en: str | None = None
    kind: TownshipKind | None = None
    is_current: bool | None = None
    successor_id: int | None = None
    valid_until: dt.date | None = None
    change_note: str | None = None
    boundary: dict[str, Any] | None = None
    boundary_is_approximate: bool | None = None
    seat_lon: float | None = Field(None, ge=-180, le=180)
    seat_lat: float | None = Field(None, ge=-90, le=90)


def township_out(t: Township) -> dict[str, Any]:
    return {f: getattr(t, f) for f in TownshipOut.model_fields}


register(
    router,
    Resource(
        model=Township,
        path="townships",
        out=TownshipOut,
        create=TownshipIn,
        update=TownshipPatch,
        filterset=TownshipFilterSet,
        table=TownshipTable,
        to_out=township_out,
        tag="townships",
        geojson=lambda t: t.boundary,
    ),
)


# --- Zones ------------------------------------------------------------------------------------


class ZoneOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    kind_label: str
    layer: str
    geometry: dict[str, Any]
    area_km2: float
    allowable_extraction_m3: int
    designation_document: str
    designated_on: dt.date | None
    supervising_township_id: int | None
    notes: str


class ZoneIn(In):
    code: str = Field(..., min_length=1, max_length=40)
    name: str = Field(..., min_length=1, max_length=100)
    kind: ZoneKind
    layer: AquiferLayer
    geometry: dict[str, Any]
    allowable_extraction_m3: int = Field(..., ge=0)
    designation_document: str = Field(..., min_length=1, max_length=200)
    designated_on: dt.date | None = None
    supervising_township_id: int | None = None
    notes: str = ""


class ZonePatch(In):
    code: str | None = Field(None, min_length=1, max_length=40)
    name: str | None = Field(None, min_length=1, max_length=100)
    kind: ZoneKind | None = None
    layer: AquiferLayer | None = None
    geometry: dict[str, Any] | None = None
    allowable_extraction_m3: int | None = Field(None, ge=0)
    designation_document: str | None = Field(None, min_length=1, max_length=200)
    designated_on: dt.date | None = None
    supervising_township_id: int | None = None
    notes: str | None = None


def zone_out(z: Zone) -> dict[str, Any]:
    data = {f: getattr(z, f) for f in ZoneOut.model_fields if f != "kind_label"}
    data["kind_label"] = _label(ZoneKind, z.kind)
    return data


register(
    router,
    Resource(
        model=Zone,
        path="zones",
        out=ZoneOut,
        create=ZoneIn,
        update=ZonePatch,
        filterset=ZoneFilterSet,
        table=ZoneTable,
        to_out=zone_out,
        tag="zones",
        geojson=lambda z: z.geometry,
    ),
)


# --- Water users ------------------------------------------------------------------------------


class WaterUserOut(Schema):
    id: int
    name: str
    uscc: str
    use_type: str
    use_type_label: str
    contact_person: str
    phone: str
    address: str
    township_id: int
    township_name: str


class WaterUserIn(In):
    name: str = Field(..., min_length=1, max_length=100)
    uscc: str = Field("", max_length=18)
    use_type: UseType
    contact_person: str = Field("", max_length=50)
    phone: str = Field("", max_length=30)
    address: str = Field("", max_length=200)
    township_id: int


class WaterUserPatch(In):
    name: str | None = Field(None, min_length=1, max_length=100)
    uscc: str | None = Field(None, max_length=18)
    use_type: UseType | None = None
    contact_person: str | None = Field(None, max_length=50)
    phone: str | None = Field(None, max_length=30)
    address: str | None = Field(None, max_length=200)
    township_id: int | None = None


def water_user_out(u: WaterUser) -> dict[str, Any]:
    data = {
        f: getattr(u, f)
        for f in WaterUserOut.model_fields
        if f not in ("use_type_label", "township_name")
    }
    data["use_type_label"] = _label(UseType, u.use_type)
    data["township_name"] = u.township.name
    return data


register(
    router,
    Resource(
        model=WaterUser,
        path="water-users",
        out=WaterUserOut,
        create=WaterUserIn,
        update=WaterUserPatch,
        filterset=WaterUserFilterSet,
        table=WaterUserTable,
        to_out=water_user_out,
        select_related=("township",),
        tag="water users",
    ),
)


# --- Wells ------------------------------------------------------------------------------------


class WellOut(Schema):
    id: int
    code: str
    name: str
    lon: float
    lat: float
    input_crs: int
    input_x: float | None
    input_y: float | None
    depth_m: float
    layer: str
    purpose: str
    status: str
    status_label: str
    owner_id: int | None
    owner_name: str | None
    township_id: int
    township_name: str
    zone_id: int | None
    zone_name: str | None
    zone_kind: str | None
    drilled_on: dt.date | None
    notes: str


class WellIn(In):
    code: str = Field(..., min_length=1, max_length=40)
    name: str = Field("", max_length=100)
    x: float = Field(..., description="longitude, or easting in metres for a projected system")
    y: float = Field(..., description="latitude, or northing in metres for a projected system")
    crs: int = Field(
        4326,
        description="EPSG code: 4326 WGS84, 4490 CGCS2000, 4525/4526/4546/4547 "
        "CGCS2000 Gauss-Kruger",
    )
    depth_m: Decimal = Field(..., gt=0, max_digits=7, decimal_places=2)
    layer: AquiferLayer
    purpose: WellPurpose
    status: WellStatus = WellStatus.ACTIVE
    owner_id: int | None = None
    drilled_on: dt.date | None = None
    notes: str = ""


class WellPatch(In):
    code: str | None = Field(None, min_length=1, max_length=40)
    name: str | None = Field(None, max_length=100)
    x: float | None = None
    y: float | None = None
    crs: int | None = None
    depth_m: Decimal | None = Field(None, gt=0, max_digits=7, decimal_places=2)
    layer: AquiferLayer | None = None
    purpose: WellPurpose | None = None
    status: WellStatus | None = None
    owner_id: int | None = None
    drilled_on: dt.date | None = None
    notes: str | None = None


def apply_well(well: Any, data: dict[str, Any], user: Any) -> None:
    from django.core.exceptions import ValidationError

    x, y, crs = data.pop("x", None), data.pop("y", None), data.pop("crs", None)
    for key, value in data.items():
        setattr(well, key, value)
    if x is None and y is None and crs is None:
        return
    if x is None or y is None:
        raise ValidationError({"x": "x 和 y 必须同时给出 (give x and y together)"})
    try:
        well.set_location(x, y, crs or 4326)
    except GeometryError as exc:
        raise ValidationError({"crs" if "EPSG" in str(exc) else "x": str(exc)}) from exc
    try:
        well.derive_location()
    except GeometryError as exc:
        raise ValidationError({"x": str(exc)}) from exc


def well_out(w: Well) -> dict[str, Any]:
    return {
        "id": w.pk,
        "code": w.code,
        "name": w.name,
        "lon": w.lon,
        "lat": w.lat,
        "input_crs": w.input_crs,
        "input_x": w.input_x,
        "input_y": w.input_y,
        "depth_m": float(w.depth_m),
        "layer": w.layer,
        "purpose": w.purpose,
        "status": w.status,
        "status_label": _label(WellStatus, w.status),
        "owner_id": w.owner_id,
        "owner_name": w.owner.name if w.owner else None,
        "township_id": w.township_id,
        "township_name": w.township.name,
        "zone_id": w.zone_id,
        "zone_name": w.zone.name if w.zone else None,
        "zone_kind": w.zone.kind if w.zone else None,
        "drilled_on": w.drilled_on,
        "notes": w.notes,
    }


def point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]}


register(
    router,
    Resource(
        model=Well,
        path="wells",
        out=WellOut,
        create=WellIn,
        update=WellPatch,
        filterset=WellFilterSet,
        table=WellTable,
        to_out=well_out,
        apply=apply_well,
        select_related=("owner", "township", "zone"),
        tag="wells",
        geojson=lambda w: point(w.lon, w.lat),
    ),
)


# --- Monitoring wells -------------------------------------------------------------------------


class MonitoringWellOut(Schema):
    id: int
    well_id: int
    well_code: str
    monitors_level: bool
    monitors_quality: bool
    network: str
    warning_depth_m: float | None
    established_on: dt.date | None


class MonitoringWellIn(In):
    well_id: int
    monitors_level: bool = True
    monitors_quality: bool = False
    network: MonitoringNetwork = MonitoringNetwork.COUNTY
    warning_depth_m: Decimal | None = Field(None, gt=0, max_digits=7, decimal_places=2)
    established_on: dt.date | None = None


class MonitoringWellPatch(In):
    monitors_level: bool | None = None
    monitors_quality: bool | None = None
    network: MonitoringNetwork | None = None
    warning_depth_m: Decimal | None = Field(None, gt=0, max_digits=7, decimal_places=2)
    established_on: dt.date | None = None


def monitoring_well_out(m: MonitoringWell) -> dict[str, Any]:
    return {
        "id": m.pk,
        "well_id": m.well_id,
        "well_code": m.well.code,
        "monitors_level": m.monitors_level,
        "monitors_quality": m.monitors_quality,
        "network": m.network,
        "warning_depth_m": float(m.warning_depth_m) if m.warning_depth_m is not None else None,
        "established_on": m.established_on,
    }


register(
    router,
    Resource(
        model=MonitoringWell,
        path="monitoring-wells",
        out=MonitoringWellOut,
        create=MonitoringWellIn,
        update=MonitoringWellPatch,
        filterset=MonitoringWellFilterSet,
        table=MonitoringWellTable,
        to_out=monitoring_well_out,
        select_related=("well",),
        tag="monitoring wells",
        geojson=lambda m: point(m.well.lon, m.well.lat),
    ),
)


# --- Devices ----------------------------------------------------------------------------------


class DeviceOut(Schema):
    id: int
    kind: str
    protocol: str
    station_address: str
    has_secret: bool
    well_id: int | None
    well_code: str | None
    reporting_interval_min: int
    manufacturer: str
    model_name: str
    serial_number: str
    installed_on: dt.date | None
    active: bool


class DeviceIn(In):
    kind: DeviceKind
    protocol: Protocol
    station_address: str = Field(..., min_length=1, max_length=64)
    secret: str | None = Field(
        None, min_length=4, max_length=128, description="write-only; stored as a salted hash"
    )
    well_id: int | None = None
    reporting_interval_min: int = Field(60, ge=1, le=1440)
    manufacturer: str = ""
    model_name: str = ""
    serial_number: str = ""
    installed_on: dt.date | None = None
    active: bool = True


class DevicePatch(In):
    kind: DeviceKind | None = None
    protocol: Protocol | None = None
    station_address: str | None = Field(None, min_length=1, max_length=64)
    secret: str | None = Field(None, min_length=4, max_length=128)
    well_id: int | None = None
    reporting_interval_min: int | None = Field(None, ge=1, le=1440)
    manufacturer: str | None = None
    model_name: str | None = None
    serial_number: str | None = None
    installed_on: dt.date | None = None
    active: bool | None = None


def apply_device(device: Any, data: dict[str, Any], user: Any) -> None:
    secret = data.pop("secret", None)
    for key, value in data.items():
        setattr(device, key, value)
    if secret:
        device.set_secret(secret)


def device_out(d: Device) -> dict[str, Any]:
    data = {
        f: getattr(d, f) for f in DeviceOut.model_fields if f not in ("has_secret", "well_code")
    }
    data["has_secret"] = bool(d.secret_hash)
    data["well_code"] = d.well.code if d.well else None
    return data


register(
    router,
    Resource(
        model=Device,
        path="devices",
        out=DeviceOut,
        create=DeviceIn,
        update=DevicePatch,
        filterset=DeviceFilterSet,
        table=DeviceTable,
        to_out=device_out,
        apply=apply_device,
        select_related=("well",),
        tag="devices",
        geojson=lambda d: point(d.well.lon, d.well.lat) if d.well else None,
    ),
)


# --- Map layers -------------------------------------------------------------------------------


class MapFilter(Schema):
    township_id: int | None = None
    status: WellStatus | None = None
    layer: AquiferLayer | None = None


@router.get(
    "/map/wells.geojson",
    tags=["map"],
    operation_id="map_wells",
    summary="Wells the user may see, as a GeoJSON FeatureCollection for the map",
)
def map_wells(request: HttpRequest, filters: MapFilter = Query(...)) -> JsonResponse:
    qs = visible_to(request.user, Action.VIEW, Well)
    for key in ("township_id", "status", "layer"):
        value = getattr(filters, key)
        if value is not None:
            qs = qs.filter(**{key: value})
    rows = qs.values_list(
        "id", "code", "name", "lon", "lat", "status", "layer", "township__name", "zone__kind"
    )
    features = [
        {
            "type": "Feature",
            "id": pk,
            "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
            "properties": {
                "code": code,
                "name": name,
                "status": status,
                "layer": layer,
                "township": township,
                "zone_kind": zone_kind,
                "url": f"/wells/{pk}/",
            },
        }
        for pk, code, name, lon, lat, status, layer, township, zone_kind in rows.iterator(2000)
    ]
    return JsonResponse(
        {"type": "FeatureCollection", "features": features},
        json_dumps_params={"ensure_ascii": False, "separators": (",", ":")},
    )


@router.get("/map/zones.geojson", tags=["map"], operation_id="map_zones")
def map_zones(request: HttpRequest, layer: AquiferLayer | None = None) -> JsonResponse:
    qs = visible_to(request.user, Action.VIEW, Zone)
    if layer:
        qs = qs.filter(layer=layer)
    features = [
        {
            "type": "Feature",
            "id": z.pk,
            "geometry": z.geometry,
            "properties": {
                "code": z.code,
                "name": z.name,
                "kind": z.kind,
                "kind_label": _label(ZoneKind, z.kind),
                "layer": z.layer,
                "url": f"/zones/{z.pk}/",
            },
        }
        for z in qs
    ]
    return JsonResponse(
        {"type": "FeatureCollection", "features": features},
        json_dumps_params={"ensure_ascii": False},
    )


@router.get("/map/townships.geojson", tags=["map"], operation_id="map_townships")
def map_townships(request: HttpRequest) -> JsonResponse:
    qs = visible_to(request.user, Action.VIEW, Township).current().exclude(boundary=None)
    features = [
        {
            "type": "Feature",
            "id": t.pk,
            "geometry": t.boundary,
            "properties": {
                "code": t.code,
                "name": t.name,
                "approximate": t.boundary_is_approximate,
            },
        }
        for t in qs
    ]
    return JsonResponse(
        {"type": "FeatureCollection", "features": features},
        json_dumps_params={"ensure_ascii": False},
    )
