"""Where the public supply network reaches: coverage areas as a point index, GeoJSON import.

:func:`served_index` answers "which served coverage area holds this point on this date" for
many points at once (shapely STRtree, as zones and townships are assigned); the permit rules'
wiring and the closure candidates both use it. :func:`import_geojson` reads a FeatureCollection
(or one Feature / bare polygon) into coverage areas of one supply work, all or nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from aquifer.core.geometry import GeometryError, PointIndex, Region, parse_polygon
from aquifer.registry.models import CoverageArea, SupplyWork

__all__ = ["CoverageIndex", "import_geojson", "served_index"]


@dataclass
class CoverageIndex:
    """Served coverage areas on a date, by id, with an index of their polygons."""

    on: dt.date
    areas: dict[int, CoverageArea]
    index: PointIndex

    def area_at(self, lon: float, lat: float) -> CoverageArea | None:
        pk = self.index.assign_one(lon, lat)
        return self.areas.get(pk) if pk is not None else None

    def assign(self, lon: Sequence[float], lat: Sequence[float]) -> list[CoverageArea | None]:
        return [self.areas[pk] if pk is not None else None for pk in self.index.assign(lon, lat)]


def served_index(on: dt.date, include_planned: bool = False) -> CoverageIndex:
    """The coverage areas served on ``on`` (with ``include_planned``, also those not yet
    served); overlapping areas resolve to the one served first."""
    qs = CoverageArea.objects.select_related("work")
    if not include_planned:
        qs = qs.filter(served_on__isnull=False, served_on__lte=on)
    areas: dict[int, CoverageArea] = {}
    regions: list[Region] = []
    for a in qs.order_by("served_on", "pk"):
        try:
            geom = parse_polygon(a.geometry)
        except GeometryError:
            continue
        areas[a.pk] = a
        rank = a.served_on.toordinal() if a.served_on else 10**7
        regions.append(Region(id=a.pk, geometry=geom, rank=rank))
    return CoverageIndex(on=on, areas=areas, index=PointIndex(regions))


def _features(data: Any) -> list[dict[str, Any]]:
    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        feats = data.get("features")
        if not isinstance(feats, list) or not feats:
            raise ValidationError({"geojson": _("FeatureCollection 中没有要素。")})
        return feats
    if isinstance(data, dict) and data.get("type") == "Feature":
        return [data]
    if isinstance(data, dict) and data.get("type") in ("Polygon", "MultiPolygon"):
        return [{"type": "Feature", "geometry": data, "properties": {}}]
    raise ValidationError({"geojson": _("应为 GeoJSON FeatureCollection、Feature 或多边形。")})


def _date(value: Any, where: str) -> dt.date | None:
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError as exc:
        raise ValidationError(
            {
                "geojson": _("%(where)s：通水日期 %(v)s 不是 YYYY-MM-DD。")
                % {"where": where, "v": value}
            }
        ) from exc


def import_geojson(
    work: SupplyWork, data: Any, served_on: dt.date | None = None
) -> list[CoverageArea]:
    """Create one coverage area of ``work`` per feature (properties ``name``, ``served_on``,
    ``capacity_m3_per_day`` read when present; ``served_on`` is the default date). Every
    feature is checked before any is saved; a bad one is a ValidationError naming it."""
    if isinstance(data, bytes | str):
        try:
            data = json.loads(data)
        except ValueError as exc:
            raise ValidationError({"geojson": _("不是有效的 JSON：%(e)s") % {"e": exc}}) from exc
    areas: list[CoverageArea] = []
    for i, feat in enumerate(_features(data)):
        where = _("第 %(n)d 个要素") % {"n": i + 1}
        props = feat.get("properties") or {} if isinstance(feat, dict) else {}
        geometry = feat.get("geometry") if isinstance(feat, dict) else None
        try:
            parse_polygon(geometry)
        except GeometryError as exc:
            raise ValidationError({"geojson": f"{where}: {exc}"}) from exc
        capacity = props.get("capacity_m3_per_day")
        if capacity is not None and (
            not isinstance(capacity, int | float) or isinstance(capacity, bool) or capacity < 0
        ):
            raise ValidationError(
                {"geojson": _("%(where)s：供水能力应为非负数。") % {"where": where}}
            )
        areas.append(
            CoverageArea(
                work=work,
                name=str(props.get("name") or f"{work.name} {i + 1}")[:100],
                geometry=geometry,
                capacity_m3_per_day=int(capacity) if capacity is not None else None,
                served_on=_date(props.get("served_on"), where) or served_on,
            )
        )
    with transaction.atomic():
        for a in areas:
            a.save()
    return areas
