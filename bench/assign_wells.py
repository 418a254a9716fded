"""Zone and township assignment of wells: the STRtree index against a naive loop.

Assigns 100,000 random wells (seeded) in Yangcheng County to 200 zone polygons and to the 15
townships, exactly as ``aquifer.registry.spatial`` does: zones ranked by ``ZONE_PRECEDENCE``
and grouped by aquifer layer, townships with ``nearest=True``. Then assigns a subsample the
naive way (for each well, loop over the polygons with shapely ``contains``) and checks that
both give the same answers.

Zones: per layer, Voronoi cells of 80 random seeds clipped to the county (kinds
not_overexploited / balanced / overexploited: a partition of the county) and 20 disjoint
circles of 1–4 km (prohibited / restricted) overlapping the cells, so the rank decides.

    python bench/assign_wells.py [--quick] [--wells N] [--seed S]

Prints one JSON object. No database: pure functions over the shipped county outline.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPoint, Point, Polygon

from aquifer.core.geometry import PointIndex, Region
from aquifer.registry.choices import ZONE_PRECEDENCE, ZoneKind
from aquifer.registry.reference import (
    approximate_boundaries,
    county_from_file,
    township_data,
)

LAYERS = ("shallow", "deep")
CELL_KINDS = (ZoneKind.NOT_OVEREXPLOITED, ZoneKind.BALANCED, ZoneKind.OVEREXPLOITED)
CIRCLE_KINDS = (ZoneKind.PROHIBITED, ZoneKind.RESTRICTED)


def make_zones(county: Any, n_zones: int, rng: np.random.Generator) -> list[Region]:
    """``n_zones`` zone regions over the county, half per layer (see the module docstring)."""
    per_layer = n_zones // len(LAYERS)
    n_circles = per_layer // 5
    n_cells = per_layer - n_circles
    minx, miny, maxx, maxy = county.bounds
    regions: list[Region] = []
    for layer in LAYERS:
        seeds = random_points(county, n_cells, rng)
        cells = shapely.voronoi_polygons(
            MultiPoint(list(zip(*seeds, strict=True))), extend_to=county.envelope.buffer(0.1)
        )
        layer_cells = []
        for cell in cells.geoms:
            clipped = cell.intersection(county)
            if not clipped.is_empty:
                layer_cells.append(clipped)
        for cell in layer_cells[:n_cells]:
            kind = CELL_KINDS[int(rng.integers(len(CELL_KINDS)))]
            regions.append(Region(len(regions) + 1, cell, ZONE_PRECEDENCE[kind], layer))
        circles: list[Polygon] = []
        while len(circles) < n_circles:
            lon, lat = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            radius = rng.uniform(0.01, 0.04)
            circle = Point(lon, lat).buffer(radius, 16).intersection(county)
            if circle.is_empty or circle.area < 1e-5:
                continue
            if any(circle.intersects(c) for c in circles):  # same rank must not overlap
                continue
            circles.append(circle)
            kind = CIRCLE_KINDS[int(rng.integers(len(CIRCLE_KINDS)))]
            regions.append(Region(len(regions) + 1, circle, ZONE_PRECEDENCE[kind], layer))
    return regions


def random_points(county: Any, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` uniform random points inside the county outline."""
    minx, miny, maxx, maxy = county.bounds
    lons: list[np.ndarray] = []
    lats: list[np.ndarray] = []
    have = 0
    while have < n:
        x = rng.uniform(minx, maxx, 2 * n)
        y = rng.uniform(miny, maxy, 2 * n)
        inside = shapely.contains_xy(county, x, y)
        lons.append(x[inside])
        lats.append(y[inside])
        have += int(inside.sum())
    return np.concatenate(lons)[:n], np.concatenate(lats)[:n]


def naive_assign(
    zones: list[Region],
    townships: list[Region],
    lon: np.ndarray,
    lat: np.ndarray,
    layers: list[str],
) -> tuple[list[int | None], list[int | None]]:
    """For each well, loop over the polygons (ranked) with shapely ``contains``."""
    ranked = sorted(zones, key=lambda r: r.rank)
    zone_ids: list[int | None] = []
    township_ids: list[int | None] = []
    for x, y, layer in zip(lon, lat, layers, strict=True):
        pt = Point(x, y)
        zone = None
        for region in ranked:
            if region.group == layer and region.geometry.contains(pt):
                zone = region.id
                break
        zone_ids.append(zone)
        town = None
        for region in townships:
            if region.geometry.contains(pt):
                town = region.id
                break
        if town is None:
            town = min(townships, key=lambda r: r.geometry.distance(pt)).id
        township_ids.append(town)
    return zone_ids, township_ids


def unprepared(regions: list[Region]) -> list[Region]:
    """Copies of the regions whose geometries are not prepared (PointIndex prepares its own)."""
    return [
        Region(r.id, shapely.from_wkb(shapely.to_wkb(r.geometry)), r.rank, r.group) for r in regions
    ]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="10,000 wells, 2,000 for the baseline")
    parser.add_argument("--wells", type=int, help="number of wells (default 100,000)")
    parser.add_argument("--zones", type=int, default=200, help="number of zones (default 200)")
    parser.add_argument("--baseline", type=int, help="wells in the naive subsample")
    parser.add_argument("--seed", type=int, default=140522)
    args = parser.parse_args(argv)
    n_wells = args.wells or (10_000 if args.quick else 100_000)
    n_base = min(n_wells, args.baseline or (2_000 if args.quick else 10_000))

    rng = np.random.default_rng(args.seed)
    county = county_from_file()
    seats = {t["code"]: tuple(t["seat"]) for t in township_data()["current"]}
    boundaries = approximate_boundaries(county, seats)
    township_regions = [
        Region(i + 1, shapely.geometry.shape(boundaries[code]))
        for i, code in enumerate(sorted(boundaries))
    ]
    zone_regions = make_zones(county, args.zones, rng)
    naive_zones, naive_townships = unprepared(zone_regions), unprepared(township_regions)

    lon, lat = random_points(county, n_wells, rng)
    layers = [LAYERS[int(v)] for v in rng.integers(0, 2, n_wells)]

    t0 = time.perf_counter()
    zone_index = PointIndex(zone_regions)
    township_index = PointIndex(township_regions)
    t1 = time.perf_counter()
    zones = zone_index.assign(lon, lat, layers)
    townships = township_index.assign(lon, lat, nearest=True)
    t2 = time.perf_counter()

    sample = np.sort(rng.choice(n_wells, n_base, replace=False))
    t3 = time.perf_counter()
    base_zones, base_townships = naive_assign(
        naive_zones, naive_townships, lon[sample], lat[sample], [layers[i] for i in sample]
    )
    t4 = time.perf_counter()
    agree = base_zones == [zones[i] for i in sample] and base_townships == [
        townships[i] for i in sample
    ]

    rate = n_wells / (t2 - t1)
    base_rate = n_base / (t4 - t3)
    result = {
        "benchmark": "assign_wells",
        "quick": args.quick,
        "n_wells": n_wells,
        "n_zones": len(zone_regions),
        "n_townships": len(township_regions),
        "zone_vertices": int(sum(shapely.get_num_coordinates(r.geometry) for r in zone_regions)),
        "index_build_ms": round((t1 - t0) * 1000, 1),
        "assign_seconds": round(t2 - t1, 3),
        "wells_per_second": round(rate),
        "wells_with_zone": sum(z is not None for z in zones),
        "baseline_n_wells": n_base,
        "baseline_seconds": round(t4 - t3, 3),
        "baseline_wells_per_second": round(base_rate),
        "speedup": round(rate / base_rate, 1),
        "agree": bool(agree),
        "python": platform.python_version(),
        "shapely": shapely.__version__,
        "geos": shapely.geos_version_string,
    }
    return result


if __name__ == "__main__":
    print(json.dumps(main()))
