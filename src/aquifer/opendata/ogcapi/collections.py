"""The feature collections of OGC API – Features, declared once each (docs/open-data.md).

A collection is one :class:`Collection`: its id and titles, the rows a caller may reach, the
geometry and properties of one row, and which properties the public gets. Adding one (a
supply coverage area, say) is one :func:`register` call in the app that owns the data's
layer or above — nothing else changes: the landing page, ``/collections``, paging, ``bbox``
and the policy gate follow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from shapely.geometry import box, shape

from aquifer.core.scoping import visible_to
from aquifer.opendata import access
from aquifer.registry.models import CoverageArea, Township, Zone

__all__ = ["COLLECTIONS", "Collection", "register"]


@dataclass(frozen=True)
class Collection:
    id: str
    title: str  # Chinese, as the bureau names it
    title_en: str
    rows: Callable[[Any], QuerySet[Any]]  # the caller → rows they may reach
    geometry: Callable[[Any], dict[str, Any] | None]  # a row → GeoJSON geometry (WGS84)
    properties: Callable[[Any], dict[str, Any]]  # a row → every property
    public: tuple[str, ...]  # the properties the public gets
    #: Rows inside a bbox, by database columns (points); None: tested on the geometry.
    bbox_rows: (
        Callable[[QuerySet[Any], tuple[float, float, float, float]], QuerySet[Any]] | None
    ) = None

    def in_bbox(self, row: Any, bbox: tuple[float, float, float, float]) -> bool:
        geom = self.geometry(row)
        return geom is not None and shape(geom).intersects(box(*bbox))


COLLECTIONS: dict[str, Collection] = {}


def register(collection: Collection) -> Collection:
    COLLECTIONS[collection.id] = collection
    return collection


def _point(lon: Any, lat: Any) -> dict[str, Any] | None:
    return None if lon is None or lat is None else {"type": "Point", "coordinates": [lon, lat]}


def _well_props(w: Any) -> dict[str, Any]:
    mw = getattr(w, "monitoring", None)
    return {
        "code": w.code,
        "name": w.name,
        "kind": "monitoring" if mw is not None else "withdrawal",
        "township": w.township.name if w.township_id else None,
        "layer": w.layer,
        "purpose": w.purpose,
        "status": w.status,
        "depth_m": float(w.depth_m) if w.depth_m is not None else None,
        "owner_id": w.owner_id,
        "zone": w.zone.code if w.zone_id else None,
    }


def _points(qs: QuerySet[Any], bbox: tuple[float, float, float, float]) -> QuerySet[Any]:
    return qs.filter(lon__gte=bbox[0], lat__gte=bbox[1], lon__lte=bbox[2], lat__lte=bbox[3])


register(
    Collection(
        "wells", "机井", "wells",
        lambda user: access.wells(user).select_related("township", "zone", "monitoring"),
        lambda w: _point(w.lon, w.lat),
        _well_props,
        ("code", "name", "kind", "township", "layer"),
        _points,
    )
)  # fmt: skip


def _monitoring_props(w: Any) -> dict[str, Any]:
    mw = w.monitoring
    return {
        **_well_props(w),
        "network": mw.network,
        "monitors_level": mw.monitors_level,
        "monitors_quality": mw.monitors_quality,
        "established_on": mw.established_on.isoformat() if mw.established_on else None,
    }


register(
    Collection(
        "monitoring-wells", "监测井", "monitoring wells",
        lambda user: access.wells(user).filter(monitoring__isnull=False)
        .select_related("township", "zone", "monitoring"),
        lambda w: _point(w.lon, w.lat),
        _monitoring_props,
        ("code", "name", "township", "layer", "network", "monitors_level", "monitors_quality"),
        _points,
    )
)  # fmt: skip

register(
    Collection(
        "zones", "地下水管理分区", "groundwater zones",
        lambda user: visible_to(user, "view", Zone),
        lambda z: z.geometry,
        lambda z: {"code": z.code, "name": z.name, "kind": z.kind, "layer": z.layer,
                   "area_km2": z.area_km2, "designation_document": z.designation_document},
        ("code", "name", "kind", "layer", "area_km2", "designation_document"),
    )
)  # fmt: skip

register(
    Collection(
        "townships", "乡镇", "townships",
        lambda user: visible_to(user, "view", Township).filter(is_current=True),
        lambda t: t.boundary,
        lambda t: {"code": t.code, "name": t.name, "name_en": t.name_en, "kind": t.kind,
                   "boundary_is_approximate": t.boundary_is_approximate},
        ("code", "name", "name_en", "kind", "boundary_is_approximate"),
    )
)  # fmt: skip
register(
    Collection(
        "supply-areas", "供水覆盖范围", "surface-water supply coverage areas",
        lambda user: visible_to(user, "view", CoverageArea).select_related("work"),
        lambda a: a.geometry,
        lambda a: {"name": a.name, "work": a.work.name, "work_kind": a.work.kind,
                   "area_km2": a.area_km2, "capacity_m3_per_day": a.capacity_m3_per_day,
                   "served_on": a.served_on.isoformat() if a.served_on else None,
                   "illustrative": a.work.is_illustrative},
        ("name", "work", "work_kind", "area_km2", "capacity_m3_per_day", "served_on",
         "illustrative"),
    )
)  # fmt: skip
