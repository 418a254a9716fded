"""Geometry without GDAL: GeoJSON validation, coordinate systems and point-in-zone assignment.

Pure functions over plain data (no Django). Coordinates are longitude/latitude in WGS84
(EPSG:4326); CGCS2000 (EPSG:4490) and its 3-degree Gauss–Krüger projections are accepted on
input and converted with pyproj. The two geographic systems differ by centimetres, far below
what a well's position is surveyed to, but the conversion is still made through PROJ.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import shapely
from pyproj import Geod, Transformer
from shapely.geometry import MultiPolygon, Point, Polygon, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

__all__ = [
    "ACCEPTED_CRS",
    "GeometryError",
    "PointIndex",
    "area_km2",
    "parse_polygon",
    "to_wgs84",
]

#: EPSG codes accepted for well coordinates, with what they are.
ACCEPTED_CRS: dict[int, str] = {
    4326: "WGS 84 (经纬度)",
    4490: "CGCS2000 (经纬度)",
    4546: "CGCS2000 / 3-degree Gauss-Kruger CM 111E",
    4547: "CGCS2000 / 3-degree Gauss-Kruger CM 114E",
    4525: "CGCS2000 / 3-degree Gauss-Kruger zone 37",
    4526: "CGCS2000 / 3-degree Gauss-Kruger zone 38",
}

_GEOD = Geod(ellps="WGS84")


class GeometryError(ValueError):
    """A geometry that cannot be used, with a message a person can act on."""


@cache
def _transformer(epsg: int) -> Transformer:
    return Transformer.from_crs(f"EPSG:{epsg}", "EPSG:4326", always_xy=True)


def to_wgs84(x: float, y: float, epsg: int = 4326) -> tuple[float, float]:
    """Convert a coordinate pair to WGS84 longitude, latitude.

    For geographic systems ``x`` is the longitude and ``y`` the latitude; for Gauss–Krüger
    projections ``x`` is the easting and ``y`` the northing, in metres.
    """
    if epsg not in ACCEPTED_CRS:
        raise GeometryError(
            f"unsupported coordinate system EPSG:{epsg}; accepted: "
            + ", ".join(f"EPSG:{c}" for c in ACCEPTED_CRS)
        )
    if not (np.isfinite(x) and np.isfinite(y)):
        raise GeometryError("coordinates must be finite numbers")
    if epsg == 4326:
        lon, lat = float(x), float(y)
    else:
        lon, lat = _transformer(epsg).transform(float(x), float(y))
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0) or not np.isfinite(lon + lat):
        raise GeometryError(f"({x}, {y}) in EPSG:{epsg} is not a position on Earth")
    return float(lon), float(lat)


def _check_ring(ring: Any, where: str) -> None:
    if not isinstance(ring, list) or len(ring) < 4:
        raise GeometryError(
            f"{where}: a ring needs at least 4 positions (closed), got "
            f"{len(ring) if isinstance(ring, list) else type(ring).__name__}"
        )
    for i, pos in enumerate(ring):
        if (
            not isinstance(pos, list | tuple)
            or len(pos) < 2
            or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in pos[:2])
        ):
            raise GeometryError(f"{where}[{i}]: a position is [longitude, latitude]")
        if not (-180 <= pos[0] <= 180 and -90 <= pos[1] <= 90):
            raise GeometryError(f"{where}[{i}]: {pos[:2]} is not a longitude, latitude pair")
    if list(ring[0][:2]) != list(ring[-1][:2]):
        raise GeometryError(
            f"{where}: ring is not closed (first position {ring[0][:2]} "
            f"differs from last {ring[-1][:2]})"
        )


def parse_polygon(geojson: Any) -> Polygon | MultiPolygon:
    """Validate a GeoJSON Polygon or MultiPolygon (a bare geometry or a Feature).

    Checks the structure, that every ring is closed, and that the polygon is valid in the
    OGC sense (no self-intersection); raises :class:`GeometryError` naming what is wrong.
    """
    if isinstance(geojson, dict) and geojson.get("type") == "Feature":
        geojson = geojson.get("geometry")
    if not isinstance(geojson, dict):
        raise GeometryError("geometry must be a GeoJSON object")
    kind = geojson.get("type")
    coords = geojson.get("coordinates")
    if kind not in ("Polygon", "MultiPolygon"):
        raise GeometryError(f"type must be Polygon or MultiPolygon, got {kind!r}")
    if not isinstance(coords, list) or not coords:
        raise GeometryError("coordinates must be a non-empty list")
    polygons = coords if kind == "MultiPolygon" else [coords]
    for p, rings in enumerate(polygons):
        if not isinstance(rings, list) or not rings:
            raise GeometryError(f"coordinates[{p}]: a polygon needs at least one ring")
        for r, ring in enumerate(rings):
            where = f"coordinates[{p}][{r}]" if kind == "MultiPolygon" else f"coordinates[{r}]"
            _check_ring(ring, where)
    geom = shape(geojson)
    if not geom.is_valid:
        raise GeometryError(f"invalid polygon: {explain_validity(geom)}")
    if geom.is_empty or geom.area == 0:
        raise GeometryError("polygon has no area")
    assert isinstance(geom, Polygon | MultiPolygon)
    return geom


def area_km2(geom: BaseGeometry) -> float:
    """Geodesic area on the WGS84 ellipsoid, in square kilometres."""
    area, _perimeter = _GEOD.geometry_area_perimeter(geom)
    return abs(float(area)) / 1e6


def metres_to_degrees(metres: float, latitude: float) -> float:
    """A conservative conversion of a ground distance to degrees (the larger of lon and lat)."""
    return float(metres / (111_320.0 * max(np.cos(np.radians(latitude)), 0.1)))


@dataclass(frozen=True)
class Region:
    """A polygon with the id of the record it stands for and a rank (lower wins overlaps)."""

    id: int
    geometry: BaseGeometry
    rank: int = 0
    group: str = ""


class PointIndex:
    """Assigns points to the regions that contain them, with a shapely STRtree.

    Where regions overlap the one with the lowest ``rank`` wins (a prohibited zone inside an
    overexploited one). ``group`` restricts a point to regions of the same group (a shallow
    well to shallow-aquifer zones). Points outside every region get ``None``, or the nearest
    region when ``nearest=True`` (for township outlines that only approximate the real ones).
    """

    def __init__(self, regions: Iterable[Region]) -> None:
        self.regions: list[Region] = list(regions)
        geoms = [r.geometry for r in self.regions]
        for g in geoms:
            shapely.prepare(g)
        self.tree = shapely.STRtree(geoms)
        self._ranks = np.array([r.rank for r in self.regions], dtype=np.int64)
        self._ids = np.array([r.id for r in self.regions], dtype=np.int64)
        self._groups = np.array([r.group for r in self.regions], dtype=object)

    def assign(
        self,
        lon: Sequence[float] | np.ndarray,
        lat: Sequence[float] | np.ndarray,
        groups: Sequence[str] | None = None,
        nearest: bool = False,
    ) -> list[int | None]:
        n = len(lon)
        result: list[int | None] = [None] * n
        if n == 0 or not self.regions:
            return result
        points = shapely.points(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
        pt_idx, reg_idx = self.tree.query(points, predicate="intersects")
        if groups is not None:
            g = np.asarray(groups, dtype=object)
            keep = g[pt_idx] == self._groups[reg_idx]
            pt_idx, reg_idx = pt_idx[keep], reg_idx[keep]
        if len(pt_idx):
            # Sort by point, then rank, then id: the first hit per point wins, and equal
            # ranks (two prohibited zones overlapping) resolve the same way every time.
            order = np.lexsort((self._ids[reg_idx], self._ranks[reg_idx], pt_idx))
            pt_sorted, reg_sorted = pt_idx[order], reg_idx[order]
            first = np.ones(len(pt_sorted), dtype=bool)
            first[1:] = pt_sorted[1:] != pt_sorted[:-1]
            for p, r in zip(pt_sorted[first], reg_sorted[first], strict=True):
                result[int(p)] = int(self._ids[r])
        if nearest:
            missing = [i for i, v in enumerate(result) if v is None]
            if missing:
                near = self.tree.nearest(points[missing])
                for i, r in zip(missing, near, strict=True):
                    result[i] = int(self._ids[int(r)])
        return result

    def assign_one(
        self, lon: float, lat: float, group: str | None = None, nearest: bool = False
    ) -> int | None:
        return self.assign([lon], [lat], None if group is None else [group], nearest)[0]


def contains(geom: BaseGeometry, lon: float, lat: float, tolerance_deg: float = 0.0) -> bool:
    """Whether ``geom`` contains the point, allowing ``tolerance_deg`` of slack."""
    pt = Point(lon, lat)
    if tolerance_deg:
        return bool(geom.distance(pt) <= tolerance_deg)
    return bool(geom.intersects(pt))
