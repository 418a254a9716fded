"""The county's geography: its boundary, and which township and zone each well lies in.

The indexes are built from the database once and rebuilt when a township or zone changes
(detected by the newest ``updated_at`` and the row count, so every process sees a change).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any

import shapely
from django.conf import settings
from django.db import models
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry

from aquifer.core import audit
from aquifer.core.geometry import (
    GeometryError,
    PointIndex,
    Region,
    metres_to_degrees,
    parse_polygon,
)
from aquifer.registry.choices import ZONE_PRECEDENCE

__all__ = [
    "county_geometry",
    "locate",
    "outside_county",
    "pinned_index",
    "placement_changed",
    "rederive_wells",
    "spatial_index",
]

DATA_DIR = Path(__file__).resolve().parent / "data"


@cache
def county_geometry() -> BaseGeometry:
    """The county outline (WGS84), from AQUIFER['COUNTY_BOUNDARY_FILE'] or the shipped file."""
    path = settings.AQUIFER.get("COUNTY_BOUNDARY_FILE") or (
        DATA_DIR / f"county_{settings.AQUIFER['COUNTY_CODE']}.geojson"
    )
    geom = shape(json.loads(Path(path).read_text(encoding="utf-8")))
    shapely.prepare(geom)
    return geom


def _tolerance_deg() -> float:
    c = county_geometry().centroid
    return metres_to_degrees(float(settings.AQUIFER["COUNTY_BOUNDARY_TOLERANCE_M"]), c.y)


def _deg_to_m(deg: float) -> float:
    return deg * 111_320.0


def outside_county(geom: BaseGeometry) -> float | None:
    """How far (metres) ``geom`` reaches beyond the county, if beyond the tolerance; else None."""
    county = county_geometry()
    if county.contains(geom):
        return None
    excess = geom.difference(county)
    if excess.is_empty:
        return None
    far = max(
        county.distance(shapely.Point(x, y))
        for part in getattr(excess, "geoms", [excess])
        for x, y in _coords(part)
    )
    return _deg_to_m(far) if far > _tolerance_deg() else None


def _coords(geom: BaseGeometry) -> list[tuple[float, float]]:
    if isinstance(geom, Polygon):
        return list(geom.exterior.coords)
    if isinstance(geom, MultiPolygon):
        return [c for p in geom.geoms for c in p.exterior.coords]
    return list(shapely.get_coordinates(geom))


class SpatialIndex:
    def __init__(self, townships: PointIndex, zones: PointIndex) -> None:
        self.townships = townships
        self.zones = zones


_lock = threading.Lock()
_cached: tuple[Any, SpatialIndex] | None = None


def _version() -> tuple[Any, ...]:
    """What the index was built from: newest change and row count of townships and zones."""
    from aquifer.registry.models import Township, Zone

    t = Township.objects.aggregate(m=models.Max("updated_at"), n=models.Count("id"))
    z = Zone.objects.aggregate(m=models.Max("updated_at"), n=models.Count("id"))
    return (t["m"], t["n"], z["m"], z["n"])


def build_index() -> SpatialIndex:
    from aquifer.registry.models import Township, Zone

    townships = []
    for t in Township.objects.current().exclude(boundary=None):
        try:
            townships.append(Region(t.pk, parse_polygon(t.boundary)))
        except GeometryError:
            continue
    zones = []
    for z in Zone.objects.all():
        try:
            zones.append(Region(z.pk, parse_polygon(z.geometry), ZONE_PRECEDENCE[z.kind], z.layer))
        except (GeometryError, KeyError):
            continue
    return SpatialIndex(PointIndex(townships), PointIndex(zones))


_pinned: ContextVar[SpatialIndex | None] = ContextVar("aquifer_pinned_index", default=None)


@contextmanager
def pinned_index() -> Iterator[SpatialIndex]:
    """Use one index for a whole batch (an import of thousands of wells) instead of checking
    for zone and township changes on every well. Zone and township saves inside the block
    are not seen by it."""
    index = spatial_index()
    token = _pinned.set(index)
    try:
        yield index
    finally:
        _pinned.reset(token)


def spatial_index() -> SpatialIndex:
    global _cached
    pinned = _pinned.get()
    if pinned is not None:
        return pinned
    version = _version()
    with _lock:
        if _cached is None or _cached[0] != version:
            _cached = (version, build_index())
        return _cached[1]


def in_county(lon: float, lat: float) -> bool:
    county = county_geometry()
    pt = shapely.Point(lon, lat)
    return bool(county.intersects(pt) or county.distance(pt) <= _tolerance_deg())


def locate(lon: float, lat: float, layer: str) -> tuple[int, int | None]:
    """(township id, zone id) of a well at ``lon, lat`` drawing on ``layer``.

    Raises :class:`GeometryError` when the point is outside the county.
    """
    if not in_county(lon, lat):
        raise GeometryError(f"({lon:.6f}, {lat:.6f}) 不在县域内 (outside the county)")
    index = spatial_index()
    township = index.townships.assign_one(lon, lat, nearest=True)
    if township is None:
        raise GeometryError("no township boundaries are registered")
    zone = index.zones.assign_one(lon, lat, group=layer)
    return township, zone


def placement_changed(instance: models.Model, fields: tuple[str, ...]) -> bool:
    """Whether saving ``instance`` changes any of ``fields`` — the ones that decide which wells
    lie in it — compared with what is stored. A record not stored yet has changed."""
    if instance.pk is None:
        return True
    stored = type(instance)._base_manager.filter(pk=instance.pk).values_list(*fields).first()
    return stored is None or tuple(getattr(instance, f) for f in fields) != tuple(stored)


def rederive_wells(reason: str = "") -> int:
    """Recompute every well's township and zone; audit and save those that changed."""
    from aquifer.registry.models import Well

    wells = list(Well.objects.all())
    if not wells:
        return 0
    index = spatial_index()
    lon = [w.lon for w in wells]
    lat = [w.lat for w in wells]
    townships = index.townships.assign(lon, lat, nearest=True)
    zones = index.zones.assign(lon, lat, [w.layer for w in wells])
    changed = []
    for w, t, z in zip(wells, townships, zones, strict=True):
        if t is None:
            continue
        if (w.township_id, w.zone_id) != (t, z):
            before = audit.serialize(w)
            w.township_id, w.zone_id = t, z
            changed.append((w, before))
    if changed:
        Well.objects.bulk_update([w for w, _ in changed], ["township", "zone"], batch_size=500)
        for w, before in changed:
            audit.record("update", w, before, audit.serialize(w), reason=reason or "re-derived")
    return len(changed)
