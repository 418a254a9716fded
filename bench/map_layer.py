"""The county map's well layer: GET /api/map/wells.geojson with 3,000 wells.

Sets up a temporary SQLite database (migrations, the demo zones, 3,000 wells spread over the
county with their township and zone from the spatial index, inserted with ``bulk_create``),
then requests the real endpoint through ``django.test.Client``, logged in as the bureau (every
well) and as a township officer (凤城镇's wells only): median and p95 response time, response
size and feature count. The whole Django stack runs (middleware, session, scoping, JSON).

    python bench/map_layer.py [--quick] [--wells N] [--requests R]

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def setup(tmp: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
    os.environ["AQUIFER_DATA_DIR"] = str(tmp)
    os.environ["DJANGO_SETTINGS_MODULE"] = "aquifer.config.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def create_wells(n: int, seed: int) -> dict[str, Any]:
    """The demo zones and ``n`` wells with derived township and zone (bulk insert)."""
    import shapely
    from django.db import transaction

    from aquifer.core.audit import audit_context
    from aquifer.core.models import User
    from aquifer.core.roles import Role
    from aquifer.registry.demo import build_zones
    from aquifer.registry.models import Township, Well
    from aquifer.registry.spatial import county_geometry, spatial_index

    rng = np.random.default_rng(seed)
    county = county_geometry()
    with transaction.atomic(), audit_context(source="bench"):
        build_zones()
    minx, miny, maxx, maxy = county.bounds
    lon = np.empty(0)
    lat = np.empty(0)
    while len(lon) < n:
        x, y = rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)
        inside = shapely.contains_xy(county, x, y)
        lon, lat = np.concatenate([lon, x[inside]]), np.concatenate([lat, y[inside]])
    lon, lat = np.round(lon[:n], 6), np.round(lat[:n], 6)
    layers = np.where(rng.random(n) < 0.7, "shallow", "deep").tolist()
    statuses = rng.choice(
        ["active", "standby", "closed", "sealed", "planned"], n, p=[0.75, 0.08, 0.07, 0.05, 0.05]
    ).tolist()
    index = spatial_index()
    townships = index.townships.assign(lon, lat, nearest=True)
    zones = index.zones.assign(lon, lat, layers)
    wells = [
        Well(
            code=f"B-{i + 1:05d}",
            name=f"基准井{i + 1}",
            lon=float(lon[i]),
            lat=float(lat[i]),
            input_x=float(lon[i]),
            input_y=float(lat[i]),
            depth_m=100 if layers[i] == "shallow" else 500,
            layer=layers[i],
            purpose="agricultural",
            status=statuses[i],
            township_id=townships[i],
            zone_id=zones[i],
        )
        for i in range(n)
    ]
    Well.objects.bulk_create(wells, batch_size=500)
    fengcheng = Township.objects.get(code="140522100")
    bureau = User.objects.create_user("bench-bureau", role=Role.BUREAU)
    officer = User.objects.create_user("bench-fengcheng", role=Role.TOWNSHIP, township=fengcheng)
    return {"bureau": bureau, "township": officer}


def measure(user: Any, requests: int) -> dict[str, Any]:
    from django.test import Client

    client = Client()
    client.force_login(user)
    url = "/api/map/wells.geojson"
    for _ in range(2):  # warm up: URL resolver, templates, caches
        client.get(url)
    times = []
    response = None
    for _ in range(requests):
        t0 = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
    assert response is not None
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}: {response.content[:300]!r}")
    body = response.content
    return {
        "median_ms": round(statistics.median(times), 1),
        "p95_ms": round(percentile(times, 95), 1),
        "min_ms": round(min(times), 1),
        "bytes": len(body),
        "features": len(json.loads(body)["features"]),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 requests per role")
    parser.add_argument("--wells", type=int, default=3000, help="wells on the map (3,000)")
    parser.add_argument("--requests", type=int, help="requests per role (default 50)")
    parser.add_argument("--seed", type=int, default=140522)
    args = parser.parse_args(argv)
    requests = args.requests or (10 if args.quick else 50)

    tmp = Path(tempfile.mkdtemp(prefix="aquifer-bench-"))
    try:
        t0 = time.perf_counter()
        setup(tmp)
        users = create_wells(args.wells, args.seed)
        setup_s = time.perf_counter() - t0
        result: dict[str, Any] = {
            "benchmark": "map_layer",
            "quick": args.quick,
            "endpoint": "/api/map/wells.geojson",
            "n_wells": args.wells,
            "requests_per_role": requests,
            "setup_seconds": round(setup_s, 2),
        }
        for role, user in users.items():
            result[role] = measure(user, requests)
        import django

        result["database"] = "sqlite"
        result["python"] = platform.python_version()
        result["django"] = django.get_version()
        return result
    finally:
        from django.db import connections

        connections.close_all()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    print(json.dumps(main()))
