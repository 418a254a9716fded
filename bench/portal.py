"""The public portal's home and a well's page with 600 and 3,000 public monitoring wells.

Sets up a temporary SQLite database (migrations, the demo zones), then for each size adds
monitoring wells spread over the county (bulk insert) with two years of monthly soundings, a
stored trend each and a quality sample for every fifth, refreshes the portal's snapshot
(``portal.snapshot.refresh``, timed) and requests ``/portal/`` and ``/portal/wells/<code>/``
as an anonymous visitor through ``django.test.Client`` — the whole Django stack (middleware,
session, policy gate, templates, translation), no network. "Cold" is the first request of a
page after the snapshot was refreshed (a new client); "warm" the next ones. Target: p95 under
200 ms at 3,000 wells, warm, for both pages.

    python bench/portal.py [--quick] [--requests R]

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from _common import machine

TARGET_P95_MS = 200.0
SIZES = (600, 3000)


def setup(tmp: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
    os.environ["AQUIFER_DATA_DIR"] = str(tmp)
    os.environ["DJANGO_SETTINGS_MODULE"] = "aquifer.config.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    from django.db import transaction

    from aquifer.core.audit import audit_context
    from aquifer.registry.demo import build_zones

    with transaction.atomic(), audit_context(source="bench"):
        build_zones()


def add_wells(start: int, stop: int, rng: np.random.Generator, months: int = 24) -> None:
    """Monitoring wells ``start``..``stop-1`` with soundings, a trend, some samples."""
    import shapely
    from django.db import transaction
    from django.utils import timezone

    from aquifer.analysis.models import LevelMeasurement, QualitySample, WellTrend
    from aquifer.registry.models import MonitoringWell, Well
    from aquifer.registry.spatial import county_geometry, spatial_index

    n = stop - start
    county = county_geometry()
    minx, miny, maxx, maxy = county.bounds
    lon, lat = np.empty(0), np.empty(0)
    while len(lon) < n:
        x, y = rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)
        inside = shapely.contains_xy(county, x, y)
        lon, lat = np.concatenate([lon, x[inside]]), np.concatenate([lat, y[inside]])
    lon, lat = np.round(lon[:n], 6), np.round(lat[:n], 6)
    index = spatial_index()
    townships = index.townships.assign(lon, lat, nearest=True)
    zones = index.zones.assign(lon, lat, ["shallow"] * n)
    now = timezone.now()
    today = timezone.localdate()
    with transaction.atomic():
        wells = Well.objects.bulk_create(
            [
                Well(
                    code=f"M-{start + i:05d}", lon=float(lon[i]), lat=float(lat[i]),
                    input_x=float(lon[i]), input_y=float(lat[i]), depth_m=150,
                    layer="shallow", purpose="monitoring", status="active",
                    township_id=townships[i], zone_id=zones[i],
                )
                for i in range(n)
            ],
            batch_size=500,
        )  # fmt: skip
        mws = MonitoringWell.objects.bulk_create(
            [MonitoringWell(well=w, monitors_quality=(k % 5 == 0)) for k, w in enumerate(wells)],
            batch_size=500,
        )
        base = rng.uniform(5, 60, n)
        LevelMeasurement.objects.bulk_create(
            [
                LevelMeasurement(
                    monitoring_well=mw, element="depth_to_water",
                    measured_at=now - dt.timedelta(days=30 * k),
                    value=float(base[i] + 0.05 * k + rng.normal(0, 0.2)),
                )
                for i, mw in enumerate(mws)
                for k in range(months)
            ],
            batch_size=2000,
        )  # fmt: skip
        statuses = rng.choice(["rising", "stabilised", "falling", "not enough data"], n)
        WellTrend.objects.bulk_create(
            [
                WellTrend(
                    monitoring_well=mw, computed_on=today, element="depth_to_water",
                    test="seasonal", trend="decreasing", window_trend="decreasing",
                    status=str(statuses[i]), same_month_change=float(rng.normal(0, 0.5)),
                    level_slope_per_year=float(rng.normal(0, 0.5)), months=24,
                )
                for i, mw in enumerate(mws)
            ],
            batch_size=500,
        )  # fmt: skip
        QualitySample.objects.bulk_create(
            [
                QualitySample(
                    sample_id=f"S-{w.code}", well=w, sampled_at=now - dt.timedelta(days=20),
                    lab="bench", klass=int(rng.integers(1, 6)), deciding=["硝酸盐"],
                )
                for k, w in enumerate(wells)
                if k % 5 == 0
            ],
            batch_size=500,
        )  # fmt: skip


def timed(client: Any, url: str) -> float:
    t0 = time.perf_counter()
    r = client.get(url)
    ms = (time.perf_counter() - t0) * 1000
    if r.status_code != 200:
        raise SystemExit(f"{url} answered {r.status_code}")
    return ms


def measure(n: int, requests: int, rng: random.Random) -> dict[str, Any]:
    from django.test import Client

    codes = [f"M-{i:05d}" for i in range(n)]
    out: dict[str, Any] = {}
    for page, url_of in (
        ("home", lambda: "/portal/"),
        ("well", lambda: f"/portal/wells/{rng.choice(codes)}/"),
    ):
        cold = timed(Client(), url_of())
        client = Client()
        times = [timed(client, url_of()) for _ in range(requests)]
        out[page] = {
            "cold_ms": round(cold, 1),
            "median_ms": round(statistics.median(times), 1),
            "p95_ms": round(float(np.percentile(times, 95)), 1),
        }
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="10 requests per page and size, half a year of soundings",
    )
    parser.add_argument("--requests", type=int, help="warm requests per page (default 60)")
    parser.add_argument("--seed", type=int, default=140522)
    args = parser.parse_args(argv)
    requests = args.requests or (10 if args.quick else 60)
    wall0 = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="aquifer-bench-"))
    try:
        setup(tmp)
        from aquifer.portal import snapshot

        rng = np.random.default_rng(args.seed)
        pick = random.Random(args.seed)
        result: dict[str, Any] = {"benchmark": "portal", "quick": args.quick,
                                  "requests_per_page": requests, "sizes": {}}  # fmt: skip
        made = 0
        for n in SIZES:
            add_wells(made, n, rng, months=6 if args.quick else 24)
            made = n
            t0 = time.perf_counter()
            stored = snapshot.refresh()
            refresh_s = time.perf_counter() - t0
            figures = measure(n, requests, pick)
            result["sizes"][str(n)] = {
                "wells": stored,
                "snapshot_refresh_seconds": round(refresh_s, 2),
                **figures,
            }
        at = result["sizes"][str(SIZES[-1])]
        worst = max(at["home"]["p95_ms"], at["well"]["p95_ms"])
        result["target"] = f"p95 < {TARGET_P95_MS:.0f} ms at {SIZES[-1]} wells (warm)"
        result["meets_target"] = worst < TARGET_P95_MS
        result.update(machine(wall0))
        return result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    print(json.dumps(main(), ensure_ascii=False))
