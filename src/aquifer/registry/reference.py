"""Reference data shipped with Aquifer: the county's townships, current and historic."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import MultiPoint, Point, mapping

from aquifer.registry.spatial import DATA_DIR

__all__ = ["approximate_boundaries", "county_from_file", "load_townships", "township_data"]


def township_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA_DIR / "townships.json").read_text(encoding="utf-8"))
    return data


def approximate_boundaries(
    county: Any, seats: dict[str, tuple[float, float]]
) -> dict[str, dict[str, Any]]:
    """Voronoi cells of the township seats, clipped to the county: {code: GeoJSON geometry}."""
    codes = list(seats)
    cells = shapely.voronoi_polygons(
        MultiPoint([seats[c] for c in codes]), extend_to=county.envelope.buffer(0.1)
    )
    out: dict[str, dict[str, Any]] = {}
    for cell in cells.geoms:
        for code in codes:
            if cell.contains(Point(seats[code])):
                clipped = shapely.make_valid(cell.intersection(county))
                if clipped.geom_type == "GeometryCollection":
                    polys = [g for g in clipped.geoms if g.geom_type in ("Polygon", "MultiPolygon")]
                    clipped = shapely.union_all(polys)
                clipped = shapely.set_precision(clipped, 1e-6)
                out[code] = json.loads(json.dumps(mapping(clipped)))
                break
    return out


def load_townships(Township: Any, county: Any) -> None:
    """Create or refresh the shipped townships (used by a data migration; idempotent).

    ``Township`` may be the historical model of a migration: only plain ORM calls are used.
    """
    data = township_data()
    seats = {t["code"]: tuple(t["seat"]) for t in data["current"]}
    boundaries = approximate_boundaries(county, seats)
    for t in data["current"]:
        Township.objects.update_or_create(
            code=t["code"],
            defaults={
                "name": t["name"],
                "name_en": t["name_en"],
                "kind": t["kind"],
                "is_current": True,
                "successor": None,
                "seat_lon": t["seat"][0],
                "seat_lat": t["seat"][1],
                "boundary": boundaries.get(t["code"]),
                "boundary_is_approximate": True,
            },
        )
    for t in data["historic"]:
        successor = Township.objects.filter(code=t["successor"]).first() if t["successor"] else None
        Township.objects.update_or_create(
            code=t["code"],
            defaults={
                "name": t["name"],
                "name_en": t["name_en"],
                "kind": t["kind"],
                "is_current": False,
                "successor": successor,
                "change_note": t["note"],
                "boundary": None,
            },
        )


def county_from_file(path: Path | None = None) -> Any:
    from shapely.geometry import shape

    p = path or DATA_DIR / "county_140522.geojson"
    return shape(json.loads(p.read_text(encoding="utf-8")))
