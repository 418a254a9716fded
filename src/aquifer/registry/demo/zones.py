"""The demo zones of both aquifer layers (illustrative, except the scenic area's)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry import MultiPolygon, Polygon, mapping
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from aquifer.core.geometry import area_km2, parse_polygon
from aquifer.registry.choices import AquiferLayer, ZoneKind
from aquifer.registry.demo.county import (
    BAISANG,
    BEILIU,
    CIYING,
    DINGDIAN,
    DONGFENG,
    DONGYE,
    FENGCHENG,
    HEBEI,
    HENGHE,
    HUANGCHENG_XIANGFU,
    MANGHE,
    NOTICE,
    QINCHI,
    RUNCHENG,
    SITOU,
    XIHE,
    YANLI,
)
from aquifer.registry.demo.tally import _Tally
from aquifer.registry.models import Township, Zone
from aquifer.registry.spatial import county_geometry

__all__ = ["ZoneSpec", "build_zones", "zone_specs"]

_GEOD = Geod(ellps="WGS84")
_MAX_PART_LOSS = 0.01


def _circle(lon: float, lat: float, radius_m: float, n: int = 64) -> Polygon:
    """A geodesic circle of ``radius_m`` metres around a point, as a lon/lat polygon."""
    azimuths = np.linspace(0.0, 360.0, n, endpoint=False)
    lons, lats, _back = _GEOD.fwd(np.full(n, lon), np.full(n, lat), azimuths, np.full(n, radius_m))
    return Polygon(zip(lons, lats, strict=True))


def _as_polygon(geom: BaseGeometry) -> Polygon:
    """The single polygon of ``geom`` (dropping slivers), snapped to a 1e-6 degree grid."""
    geom = shapely.set_precision(shapely.make_valid(geom), 1e-6)
    parts = [g for g in getattr(geom, "geoms", [geom]) if isinstance(g, Polygon | MultiPolygon)]
    polys = [p for g in parts for p in getattr(g, "geoms", [g])]
    if not polys:
        raise ValueError("empty demo zone")
    biggest = max(polys, key=lambda p: p.area)
    if geom.area - biggest.area > _MAX_PART_LOSS * geom.area:
        raise ValueError("demo zone falls apart into several polygons")
    # Union of township cells can leave hairline holes along shared edges: drop them.
    holes = [r for r in biggest.interiors if Polygon(r).area > 1e-6 * biggest.area]
    return orient(Polygon(biggest.exterior, holes))


def _geojson(geom: BaseGeometry) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(json.dumps(mapping(geom)))
    return data


@dataclass(frozen=True)
class ZoneSpec:
    """A demo zone before it is stored."""

    code: str
    name: str
    kind: ZoneKind
    layer: AquiferLayer
    geometry: dict[str, Any]
    allowable_extraction_m3: int
    supervising_township: str | None
    notes: str


# Illustrative exploitable moduli, m³ per km² per year (10⁴ m³ = 1 万m³).
_MODULUS = {
    AquiferLayer.SHALLOW: {
        ZoneKind.NOT_OVEREXPLOITED: 8e4,
        ZoneKind.BALANCED: 6e4,
        ZoneKind.OVEREXPLOITED: 4e4,
        ZoneKind.RESTRICTED: 3e4,
        ZoneKind.PROHIBITED: 0.0,
    },
    AquiferLayer.DEEP: {
        ZoneKind.NOT_OVEREXPLOITED: 3e4,
        ZoneKind.BALANCED: 2e4,
        ZoneKind.OVEREXPLOITED: 1.5e4,
        ZoneKind.RESTRICTED: 1e4,
        ZoneKind.PROHIBITED: 0.0,
    },
}

_ILLUSTRATIVE = (
    "演示数据：示意分区，并非正式划定的范围。阳城县未见已划定的超采区（晋城市两处岩溶水超采区均"
    "不在阳城）。Demo data: an illustrative zone, not a designated one."
)


def zone_specs(county: BaseGeometry, townships: dict[str, BaseGeometry]) -> list[ZoneSpec]:
    """The demo zones of both aquifer layers, clipped to the county outline.

    ``townships`` maps each current township's code to its boundary. Shallow zones cover the
    whole county; deep ones leave the north-west (次营, 河北, 董封) without a zone.
    """
    seat_fc = (112.417, 35.486)

    def union(*codes: str) -> BaseGeometry:
        return shapely.union_all([townships[c] for c in codes], grid_size=1e-6)

    over_s = townships[RUNCHENG].intersection(_circle(112.530, 35.468, 5000))
    shapes: list[tuple[str, str, ZoneKind, AquiferLayer, BaseGeometry, str | None, str]] = [
        (
            "140522-JC-S01",
            "皇城相府景区浅层地下水禁采区",
            ZoneKind.PROHIBITED,
            AquiferLayer.SHALLOW,
            _circle(*HUANGCHENG_XIANGFU, 2000),
            BEILIU,
            "阳水字〔2022〕100号：严禁在皇城相府景区地下水禁采区开采地下水，北留镇人民政府加强"
            "监督管理。实际边界未查到，演示以景区为中心约2公里的示意范围。",
        ),
        (
            "140522-JC-D01",
            "皇城相府景区深层地下水禁采区",
            ZoneKind.PROHIBITED,
            AquiferLayer.DEEP,
            _circle(*HUANGCHENG_XIANGFU, 1600),
            BEILIU,
            "阳水字〔2022〕100号：皇城相府景区地下水禁采区。实际边界未查到，演示以景区为中心约"
            "1.6公里的示意范围。",
        ),
        (
            "140522-XC-S01",
            "县城张峰供水覆盖区浅层限采区",
            ZoneKind.RESTRICTED,
            AquiferLayer.SHALLOW,
            union(FENGCHENG, XIHE).intersection(_circle(*seat_fc, 6000)),
            FENGCHENG,
            "“张峰引水覆盖到哪里，地下水井关停到哪里”：2024年关井压采主要在凤城镇、西河乡。"
            + _ILLUSTRATIVE,
        ),
        (
            "140522-XC-D01",
            "县城深层地下水限采区",
            ZoneKind.RESTRICTED,
            AquiferLayer.DEEP,
            townships[FENGCHENG].intersection(_circle(*seat_fc, 4000)),
            FENGCHENG,
            "深层地下水作为应急和战略储备水源（阳水字〔2022〕100号）。" + _ILLUSTRATIVE,
        ),
        (
            "140522-CC-S01",
            "润城浅层超采区（示意）",
            ZoneKind.OVEREXPLOITED,
            AquiferLayer.SHALLOW,
            over_s,
            RUNCHENG,
            _ILLUSTRATIVE,
        ),
        (
            "140522-CC-D01",
            "北留—润城深层超采区（示意）",
            ZoneKind.OVEREXPLOITED,
            AquiferLayer.DEEP,
            union(BEILIU, RUNCHENG),
            None,
            "煤矿疏干排水区（示意）。" + _ILLUSTRATIVE,
        ),
        (
            "140522-PH-S01",
            "北部浅层采补平衡区",
            ZoneKind.BALANCED,
            AquiferLayer.SHALLOW,
            union(FENGCHENG, XIHE, BEILIU, RUNCHENG, QINCHI, CIYING, DINGDIAN).difference(over_s),
            None,
            "采补平衡区不得再增加新的开采量。" + _ILLUSTRATIVE,
        ),
        (
            "140522-PH-D01",
            "中部深层采补平衡区",
            ZoneKind.BALANCED,
            AquiferLayer.DEEP,
            union(FENGCHENG, XIHE, QINCHI, BAISANG, DINGDIAN),
            None,
            "采补平衡区不得再增加新的开采量。" + _ILLUSTRATIVE,
        ),
        (
            "140522-WC-S01",
            "南部浅层未超采区",
            ZoneKind.NOT_OVEREXPLOITED,
            AquiferLayer.SHALLOW,
            union(HENGHE, HEBEI, MANGHE, DONGYE, YANLI, BAISANG, SITOU, DONGFENG),
            None,
            "未超采区合理开发、科学调控。" + _ILLUSTRATIVE,
        ),
        (
            "140522-WC-D01",
            "南部深层未超采区",
            ZoneKind.NOT_OVEREXPLOITED,
            AquiferLayer.DEEP,
            union(MANGHE, DONGYE, YANLI, SITOU, HENGHE),
            None,
            "未超采区合理开发、科学调控。" + _ILLUSTRATIVE,
        ),
    ]
    specs = []
    for code, name, kind, layer, geom, supervisor, notes in shapes:
        polygon = _as_polygon(geom.intersection(county))
        allowable = round(area_km2(polygon) * _MODULUS[layer][kind], -3)
        specs.append(
            ZoneSpec(code, name, kind, layer, _geojson(polygon), int(allowable), supervisor, notes)
        )
    return specs


def build_zones(tally: _Tally | None = None) -> list[Any]:
    """Create or update the demo zones; return them in spec order."""

    tally = tally or _Tally()
    by_code = {t.code: t for t in Township.objects.current().exclude(boundary=None)}
    missing = {FENGCHENG, BEILIU, XIHE} - set(by_code)
    if missing:
        raise RuntimeError(
            f"townships {sorted(missing)} are missing: run `aquifer migrate` first "
            "(a data migration loads them)"
        )
    geoms = {c: parse_polygon(t.boundary) for c, t in by_code.items()}
    existing = {z.code: z for z in Zone.objects.all()}
    zones = []
    for spec in zone_specs(county_geometry(), geoms):
        values = {
            "name": spec.name,
            "kind": str(spec.kind),
            "layer": str(spec.layer),
            "geometry": spec.geometry,
            "allowable_extraction_m3": spec.allowable_extraction_m3,
            "designation_document": NOTICE,
            "supervising_township_id": (
                by_code[spec.supervising_township].pk if spec.supervising_township else None
            ),
            "notes": spec.notes,
        }
        zones.append(
            tally.upsert(
                Zone,
                existing.get(spec.code),
                {"code": spec.code},
                values,
                before_save=lambda z: z.full_clean(),
            )
        )
    return zones
