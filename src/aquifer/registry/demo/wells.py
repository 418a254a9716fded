"""The demo wells, each drawn from its own random stream, with their monitoring records
and devices."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from aquifer.registry.choices import (
    AquiferLayer,
    DeviceKind,
    MonitoringNetwork,
    Protocol,
    UseType,
    WellPurpose,
    WellStatus,
    ZoneKind,
)
from aquifer.registry.demo.county import (
    BEILIU,
    COUNTY_CODE,
    FENGCHENG,
    HUANGCHENG_XIANGFU,
    RUNCHENG,
    XIHE,
)
from aquifer.registry.demo.identifiers import demo_device_secret
from aquifer.registry.demo.tally import _Tally
from aquifer.registry.models import Device, MonitoringWell, Well
from aquifer.registry.spatial import spatial_index

__all__ = ["build_devices", "build_wells"]

_SEAT_WEIGHT = {FENGCHENG: 3.0, XIHE: 2.0, BEILIU: 2.0, RUNCHENG: 1.5}
_PURPOSE_OF = {
    UseType.DOMESTIC: WellPurpose.DOMESTIC,
    UseType.AGRICULTURAL: WellPurpose.AGRICULTURAL,
    UseType.INDUSTRIAL: WellPurpose.INDUSTRIAL,
    UseType.ECOLOGICAL: WellPurpose.ECOLOGICAL,
    UseType.SERVICE: WellPurpose.SERVICE,
}
_DEEP_SHARE = {
    UseType.DOMESTIC: 0.35,
    UseType.AGRICULTURAL: 0.1,
    UseType.INDUSTRIAL: 0.5,
    UseType.ECOLOGICAL: 0.05,
    UseType.SERVICE: 0.3,
}


def _pick(rng: random.Random, weights: dict[Any, float]) -> Any:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _random_point(
    rng: random.Random, county: BaseGeometry, seats: dict[str, tuple[float, float]], kind: str
) -> tuple[float, float]:
    """A point inside the county: near Huangcheng, near a township seat, or anywhere."""
    minx, miny, maxx, maxy = county.bounds
    weights = {c: _SEAT_WEIGHT.get(c, 1.0) for c in seats}
    seat = seats[_pick(rng, weights)]
    for _ in range(1000):
        if kind == "huangcheng":
            lon = rng.gauss(HUANGCHENG_XIANGFU[0], 0.01)
            lat = rng.gauss(HUANGCHENG_XIANGFU[1], 0.008)
        elif kind == "seat":
            lon, lat = rng.gauss(seat[0], 0.035), rng.gauss(seat[1], 0.028)
        else:
            lon, lat = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        lon, lat = round(lon, 6), round(lat, 6)
        if county.contains(Point(lon, lat)):
            return lon, lat
    raise RuntimeError("could not place a demo well inside the county")  # pragma: no cover


def _status(rng: random.Random, zone_kind: str | None, campaign: bool) -> tuple[str, str]:
    """A well's status and a note saying why it is closed, if it is."""
    if zone_kind == ZoneKind.PROHIBITED:
        status = WellStatus.SEALED if rng.random() < 0.6 else WellStatus.CLOSED
        return status, "位于皇城相府景区地下水禁采区，已停止取水（只封不填）。"
    if campaign:
        status = _pick(
            rng,
            {
                WellStatus.ACTIVE: 0.45,
                WellStatus.STANDBY: 0.05,
                WellStatus.CLOSED: 0.2,
                WellStatus.SEALED: 0.3,
            },
        )
        if status in (WellStatus.CLOSED, WellStatus.SEALED):
            return status, "2024年关井压采：张峰水置换后关停（只封不填）。"
        return status, ""
    status = _pick(
        rng,
        {
            WellStatus.ACTIVE: 0.78,
            WellStatus.STANDBY: 0.08,
            WellStatus.CLOSED: 0.05,
            WellStatus.SEALED: 0.03,
            WellStatus.PLANNED: 0.06,
        },
    )
    return status, ""


def _date(rng: random.Random, first: int, last: int) -> dt.date:
    start = dt.date(first, 1, 1).toordinal()
    return dt.date.fromordinal(rng.randint(start, dt.date(last, 12, 31).toordinal()))


@dataclass
class _WellPlan:
    values: dict[str, Any]
    monitoring: dict[str, Any] | None
    devices: list[dict[str, Any]]


def _owner_layer_purpose(
    rng: random.Random, is_monitoring: bool, township_id: int, users_by_town: dict[int, list[Any]]
) -> tuple[Any, AquiferLayer, WellPurpose]:
    """A well's owner (none for a monitoring well), aquifer layer and purpose."""
    if is_monitoring:
        layer = AquiferLayer.DEEP if rng.random() < 0.3 else AquiferLayer.SHALLOW
        return None, layer, WellPurpose.MONITORING
    candidates = users_by_town.get(township_id) or [u for us in users_by_town.values() for u in us]
    owner = rng.choice(candidates)
    use = UseType(owner.use_type)
    layer = AquiferLayer.DEEP if rng.random() < _DEEP_SHARE[use] else AquiferLayer.SHALLOW
    purpose = _PURPOSE_OF[use]
    if rng.random() < 0.04:
        purpose = WellPurpose.EMERGENCY
    return owner, layer, purpose


def _monitoring_plan(
    rng: random.Random, i: int, seed: int, depth: float, installed: dt.date
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A monitoring well's record and its devices (a level logger, a quality sonde)."""
    quality = i % 36 == 6
    level = not (quality and i % 72 == 6)
    monitoring = {
        "monitors_level": level,
        "monitors_quality": quality,
        "network": str(
            _pick(
                rng,
                {
                    MonitoringNetwork.NATIONAL: 0.1,
                    MonitoringNetwork.PROVINCIAL: 0.25,
                    MonitoringNetwork.COUNTY: 0.65,
                },
            )
        ),
        "warning_depth_m": Decimal(f"{depth * rng.uniform(0.35, 0.6):.1f}"),
        "established_on": _date(rng, 2005, 2022),
    }
    devices: list[dict[str, Any]] = []
    if level:
        protocol = Protocol.SL651 if rng.random() < 0.75 else Protocol.SZY206
        devices.append(
            {
                "kind": str(DeviceKind.LEVEL_LOGGER),
                "protocol": str(protocol),
                "station_address": f"{COUNTY_CODE}{i:04d}",
                "reporting_interval_min": 60,
                "model_name": "投入式压力水位计",
                "serial_number": f"WL{seed % 1000:03d}{i:05d}",
                "installed_on": installed,
                "active": True,
            }
        )
    if quality:
        protocol = Protocol.MQTT if rng.random() < 0.5 else Protocol.HTTP
        devices.append(
            {
                "kind": str(DeviceKind.QUALITY_SONDE),
                "protocol": str(protocol),
                "station_address": f"yc-wq-{i:04d}",
                "reporting_interval_min": 240,
                "model_name": "多参数水质仪",
                "serial_number": f"WQ{seed % 1000:03d}{i:05d}",
                "installed_on": installed,
                "active": True,
            }
        )
    return monitoring, devices


def _meter_plan(
    rng: random.Random, i: int, seed: int, status: str, installed: dt.date
) -> list[dict[str, Any]]:
    """A production well's flow meter, if it has one (most wells in use do)."""
    # Nearly every well in service is metered (the 2022 notice's campaign); the few that are
    # not are the metering gaps enforcement reports.
    metered = rng.random() < (0.96 if status in (WellStatus.ACTIVE, WellStatus.STANDBY) else 0.5)
    if not metered:
        return []
    protocol = _pick(
        rng,
        {
            Protocol.SL651: 0.55,
            Protocol.SZY206: 0.35,
            Protocol.MQTT: 0.06,
            Protocol.HTTP: 0.04,
        },
    )
    address = (
        f"{COUNTY_CODE}{i:04d}"
        if protocol in (Protocol.SL651, Protocol.SZY206)
        else f"yc-{str(protocol).lower()}-{i:04d}"
    )
    return [
        {
            "kind": str(DeviceKind.FLOW_METER),
            "protocol": str(protocol),
            "station_address": address,
            "reporting_interval_min": rng.choice((5, 15, 15, 30, 60)),
            "model_name": rng.choice(("电磁流量计 DN100", "超声波水表 DN80", "电磁流量计 DN150")),
            "serial_number": f"FM{seed % 1000:03d}{i:05d}",
            "installed_on": installed,
            "active": status in (WellStatus.ACTIVE, WellStatus.STANDBY),
        }
    ]


def _plan_well(
    i: int,
    seed: int,
    county: BaseGeometry,
    seats: dict[str, tuple[float, float]],
    index: Any,
    zone_kinds: dict[int, str],
    users_by_town: dict[int, list[Any]],
    towns_by_pk: dict[int, Any],
) -> _WellPlan:
    """Everything about well ``i``, drawn from its own random stream."""
    rng = random.Random(f"{seed}:well:{i}")
    is_monitoring = i % 12 == 6
    kind = "huangcheng" if i % 40 == 3 else ("seat" if rng.random() < 0.6 else "anywhere")
    lon, lat = _random_point(rng, county, seats, "anywhere" if is_monitoring else kind)
    township_id = index.townships.assign_one(lon, lat, nearest=True)
    town = towns_by_pk[township_id]
    owner, layer, purpose = _owner_layer_purpose(rng, is_monitoring, township_id, users_by_town)
    zone_id = index.zones.assign_one(lon, lat, group=str(layer))
    zone_kind = zone_kinds.get(zone_id) if zone_id is not None else None  # None: no zone
    campaign = (
        town.code in (FENGCHENG, XIHE)
        and owner is not None
        and owner.use_type in (UseType.DOMESTIC, UseType.AGRICULTURAL, UseType.SERVICE)
    )
    status: str
    if is_monitoring:
        status, note = WellStatus.ACTIVE, ""
    else:
        status, note = _status(rng, zone_kind, campaign)
    if purpose == WellPurpose.EMERGENCY and status == WellStatus.ACTIVE:
        status = WellStatus.STANDBY
    if layer == AquiferLayer.SHALLOW:
        depth = rng.uniform(30, 150)
        drilled = _date(rng, 1985, 2020)
    else:
        depth = rng.uniform(300, 900)
        drilled = _date(rng, 2000, 2022)
    layer_name = "浅层" if layer == AquiferLayer.SHALLOW else "深层"
    name = f"{town.name}{layer_name}监测井{i}" if is_monitoring else f"{town.name}{i}号井"
    values = {
        "name": name,
        "lon": lon,
        "lat": lat,
        "input_crs": 4326,
        "input_x": lon,
        "input_y": lat,
        "depth_m": Decimal(f"{depth:.1f}"),
        "layer": str(layer),
        "purpose": str(purpose),
        "status": str(status),
        "owner_id": owner.pk if owner else None,
        "drilled_on": None if status == WellStatus.PLANNED else drilled,
        "notes": ("演示数据（虚构）。" + note).strip(),
    }

    monitoring = None
    devices: list[dict[str, Any]] = []
    installed = _date(rng, 2019, 2024)
    if is_monitoring:
        monitoring, devices = _monitoring_plan(rng, i, seed, depth, installed)
    elif status != WellStatus.PLANNED:
        devices = _meter_plan(rng, i, seed, status, installed)
    return _WellPlan(values, monitoring, devices)


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def build_wells(
    tally: _Tally,
    wells: int,
    seed: int,
    county: BaseGeometry,
    towns: dict[str, Any],
    zones: list[Any],
    users: list[Any],
) -> tuple[list[Any], list[_WellPlan]]:
    """Create or update demo wells 1 to ``wells``; return them and their plans, in order."""
    users_by_town: dict[int, list[Any]] = defaultdict(list)
    for u in users:
        users_by_town[u.township_id].append(u)
    index = spatial_index()
    zone_kinds = {z.pk: z.kind for z in zones}
    seats = {
        c: (t.seat_lon, t.seat_lat)
        for c, t in towns.items()
        if t.seat_lon is not None and t.seat_lat is not None
    }
    towns_by_pk = {t.pk: t for t in towns.values()}
    plans = [
        _plan_well(i, seed, county, seats, index, zone_kinds, users_by_town, towns_by_pk)
        for i in range(1, wells + 1)
    ]
    codes = [f"{COUNTY_CODE}-W{i:04d}" for i in range(1, wells + 1)]
    existing_wells: dict[str, Any] = {}
    for chunk in _chunks(codes, 500):
        existing_wells.update({w.code: w for w in Well.objects.filter(code__in=chunk)})
    well_objs = []
    for code, plan in zip(codes, plans, strict=True):
        well_objs.append(tally.upsert(Well, existing_wells.get(code), {"code": code}, plan.values))
    return well_objs, plans


def _prepare_device(device: Any) -> None:
    device.full_clean()
    if not device.secret_hash:
        device.set_secret(demo_device_secret(device.protocol, device.station_address))


def build_devices(tally: _Tally, well_objs: list[Any], plans: list[_WellPlan]) -> None:
    """Create or update the monitoring records and devices of the wells' plans."""
    ids = [w.pk for w in well_objs]
    existing_mon: dict[int, Any] = {}
    existing_dev: dict[tuple[int | None, str], Any] = {}
    for chunk in _chunks(ids, 500):
        existing_mon.update(
            {m.well_id: m for m in MonitoringWell.objects.filter(well_id__in=chunk)}
        )
        existing_dev.update(
            {(d.well_id, d.kind): d for d in Device.objects.filter(well_id__in=chunk)}
        )
    for well, plan in zip(well_objs, plans, strict=True):
        if plan.monitoring is not None:
            tally.upsert(
                MonitoringWell, existing_mon.get(well.pk), {"well_id": well.pk}, plan.monitoring
            )
        for dev_spec in plan.devices:
            values = {k: v for k, v in dev_spec.items() if k != "kind"}
            tally.upsert(
                Device,
                existing_dev.get((well.pk, dev_spec["kind"])),
                {"well_id": well.pk, "kind": dev_spec["kind"]},
                values,
                before_save=_prepare_device,
            )
