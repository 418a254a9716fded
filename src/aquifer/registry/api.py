"""The registry's REST API: townships, zones, water users, wells, monitoring wells, devices.

Each entity is a :class:`aquifer.core.crud.Resource`; map layers are served as GeoJSON.
Do not add ``from __future__ import annotations`` (django-ninja reads these annotations).
"""

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from django.http import HttpRequest, JsonResponse
from ninja import Field, FilterLookup, FilterSchema, Query, Router, Schema
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
from aquifer.registry.models import Device, MonitoringWell, Township, WaterUser, Well, Zone

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


class TownshipFilter(FilterSchema):
    q: Annotated[str | None, FilterLookup(["name__icontains", "code__startswith"])] = None
    is_current: bool | None = None
    kind: TownshipKind | None = None


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
        filters=TownshipFilter,
        to_out=township_out,
        tag="townships",
        export_columns=[
            ("code", "区划代码", lambda t: t.code),
            ("name", "名称", lambda t: t.name),
            ("kind", "类型", lambda t: t.get_kind_display()),
            ("is_current", "现行", lambda t: "是" if t.is_current else "否"),
            ("successor", "并入/更名为", lambda t: t.successor.name if t.successor else ""),
            ("change_note", "变更说明", lambda t: t.change_note),
        ],
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


class ZoneFilter(FilterSchema):
    q: Annotated[str | None, FilterLookup(["name__icontains", "code__icontains"])] = None
    kind: ZoneKind | None = None
    layer: AquiferLayer | None = None


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
        filters=ZoneFilter,
        to_out=zone_out,
        tag="zones",
        export_columns=[
            ("code", "编号", lambda z: z.code),
            ("name", "名称", lambda z: z.name),
            ("kind", "分区类型", lambda z: z.get_kind_display()),
            ("layer", "含水层", lambda z: z.get_layer_display()),
            ("area_km2", "面积(km²)", lambda z: z.area_km2),
            ("allowable_extraction_m3", "可开采量(m³/年)", lambda z: z.allowable_extraction_m3),
            ("designation_document", "划定文件", lambda z: z.designation_document),
        ],
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


class WaterUserFilter(FilterSchema):
    q: Annotated[str | None, FilterLookup(["name__icontains", "uscc__icontains"])] = None
    township_id: int | None = None
    use_type: UseType | None = None


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
        filters=WaterUserFilter,
        to_out=water_user_out,
        select_related=("township",),
        tag="water users",
        export_columns=[
            ("name", "名称", lambda u: u.name),
            ("uscc", "统一社会信用代码", lambda u: u.uscc),
            ("use_type", "用水类型", lambda u: u.get_use_type_display()),
            ("contact_person", "联系人", lambda u: u.contact_person),
            ("phone", "联系电话", lambda u: u.phone),
            ("address", "地址", lambda u: u.address),
            ("township", "乡镇", lambda u: u.township.name),
        ],
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


class WellFilter(FilterSchema):
    q: Annotated[str | None, FilterLookup(["code__icontains", "name__icontains"])] = None
    township_id: int | None = None
    zone_id: int | None = None
    owner_id: int | None = None
    status: WellStatus | None = None
    layer: AquiferLayer | None = None
    purpose: WellPurpose | None = None


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
        filters=WellFilter,
        to_out=well_out,
        apply=apply_well,
        select_related=("owner", "township", "zone"),
        tag="wells",
        export_columns=[
            ("code", "编号", lambda w: w.code),
            ("name", "名称", lambda w: w.name),
            ("lon", "经度", lambda w: w.lon),
            ("lat", "纬度", lambda w: w.lat),
            ("depth_m", "井深(m)", lambda w: float(w.depth_m)),
            ("layer", "含水层", lambda w: w.get_layer_display()),
            ("purpose", "用途", lambda w: w.get_purpose_display()),
            ("status", "状态", lambda w: w.get_status_display()),
            ("owner", "权属人", lambda w: w.owner.name if w.owner else ""),
            ("township", "乡镇", lambda w: w.township.name),
            ("zone", "分区", lambda w: w.zone.name if w.zone else ""),
        ],
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


class MonitoringWellFilter(FilterSchema):
    township_id: Annotated[int | None, FilterLookup("well__township_id")] = None
    network: MonitoringNetwork | None = None
    monitors_level: bool | None = None
    monitors_quality: bool | None = None


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
        filters=MonitoringWellFilter,
        to_out=monitoring_well_out,
        select_related=("well",),
        tag="monitoring wells",
        export_columns=[
            ("well", "井编号", lambda m: m.well.code),
            ("monitors_level", "水位监测", lambda m: "是" if m.monitors_level else "否"),
            ("monitors_quality", "水质监测", lambda m: "是" if m.monitors_quality else "否"),
            ("network", "监测网级别", lambda m: m.get_network_display()),
        ],
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


class DeviceFilter(FilterSchema):
    q: Annotated[
        str | None, FilterLookup(["station_address__icontains", "serial_number__icontains"])
    ] = None
    township_id: Annotated[int | None, FilterLookup("well__township_id")] = None
    well_id: int | None = None
    kind: DeviceKind | None = None
    protocol: Protocol | None = None
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
        filters=DeviceFilter,
        to_out=device_out,
        apply=apply_device,
        select_related=("well",),
        tag="devices",
        export_columns=[
            ("station_address", "测站地址", lambda d: d.station_address),
            ("kind", "设备类型", lambda d: d.get_kind_display()),
            ("protocol", "通信规约", lambda d: d.get_protocol_display()),
            ("well", "安装井", lambda d: d.well.code if d.well else ""),
            ("reporting_interval_min", "上报间隔(分钟)", lambda d: d.reporting_interval_min),
            ("manufacturer", "厂家", lambda d: d.manufacturer),
            ("serial_number", "出厂编号", lambda d: d.serial_number),
            ("active", "启用", lambda d: "是" if d.active else "否"),
        ],
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
