"""A well's chart: ten years of 15-minute readings served through the series API.

Sets up its own database (a temporary SQLite file, or with ``--db postgres`` a fresh
PostgreSQL database ``aquifer_bench_<pid>``, created and dropped; see ``bench/ingest.py``),
registers one well with one level logger and stores 10 × 365 days of 15-minute depths to
water (350,400 readings: a seasonal cycle, a slow decline, noise, pumping dips and one
spike) through ``telemetry.store.ingest`` in batches of 5,000, then merged into the rollups
(``store.refresh_rollups``, as the gateway's writer and the rollup job do). ``--quick``: one
year (35,040 readings).

Measured: ``GET /api/wells/<id>/series?element=depth_to_water&resolution=auto&max_points=1000``
through ``django.test.Client`` as the bureau (the whole stack: middleware, session, scoping,
resolution choice, fetch, LTTB, JSON), after two warm-up requests; median and p95 over
``--requests`` (default 50; quick 20). Baseline in the same run: fetching the raw rows of the
series in Python (``values_list`` of time and value through the ORM), median of 5.

    python bench/chart_query.py [--quick] [--db sqlite|postgres] [--requests R]

Prints one JSON object (target: median < 100 ms).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import bench_database, make_devices

QUARTER_HOURS_PER_DAY = 96
SPIKE = 99.5


def readings(device_id: int, days: int, seed: int = 3) -> list[Any]:
    from aquifer.telemetry.store import ReadingRow

    rng = np.random.default_rng(seed)
    n = days * QUARTER_HOURS_PER_DAY
    t = np.arange(n)
    year = 365 * QUARTER_HOURS_PER_DAY
    depth = (
        30.0
        + 0.4 * t / year  # decline: 0.4 m a year
        + 1.5 * np.sin(2 * np.pi * t / year)  # seasonal
        + rng.normal(0, 0.02, n)
    )
    pumping = rng.random(n) < 0.002
    depth[pumping] += rng.uniform(2, 6, int(pumping.sum()))
    depth[n // 3] = SPIKE  # one sensor spike
    t0 = datetime(2014, 1, 1, tzinfo=UTC) - timedelta(hours=8)
    step = timedelta(minutes=15)
    return [
        ReadingRow(device_id, "depth_to_water", t0 + step * int(i), round(float(v), 3))
        for i, v in enumerate(depth)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--requests", type=int)
    parser.add_argument("--max-points", type=int, default=1000)
    args = parser.parse_args()
    days = 365 if args.quick else 3650
    n_requests = max(20, args.requests or (20 if args.quick else 50))

    with bench_database(args.db) as info:
        from django.db import connection
        from django.test import Client

        from aquifer.core.models import User
        from aquifer.core.roles import Role
        from aquifer.registry.models import Device
        from aquifer.telemetry.models import Reading, ReadingDaily, ReadingHourly
        from aquifer.telemetry.store import ingest, refresh_rollups

        (device_id,) = make_devices(1, prefix="chart")
        well_id = Device.objects.get(pk=device_id).well_id
        rows = readings(device_id, days)
        t0 = time.perf_counter()
        for i in range(0, len(rows), 5000):
            ingest(rows[i : i + 5000])
        refresh_rollups()  # as the gateway's writer and the rollup job would have
        load_s = time.perf_counter() - t0
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")

        user = User.objects.create_user("bench-bureau", password="x", role=Role.BUREAU)
        client = Client()
        client.force_login(user)
        url = f"/api/wells/{well_id}/series"
        params = {
            "element": "depth_to_water",
            "resolution": "auto",
            "max_points": args.max_points,
        }
        body: dict[str, Any] = {}
        size = 0
        for _ in range(2):
            response = client.get(url, params)
            assert response.status_code == 200, response.content[:500]
        times = []
        for _ in range(n_requests):
            t = time.perf_counter()
            response = client.get(url, params)
            times.append((time.perf_counter() - t) * 1000)
            size = len(response.content)
        body = response.json()
        points = body["points"]

        qs = Reading.objects.filter(device_id=device_id, element="depth_to_water").order_by(
            "observed_at"
        )
        raw_ms = []
        for _ in range(5):
            t = time.perf_counter()
            fetched = list(qs.values_list("observed_at", "value"))
            raw_ms.append((time.perf_counter() - t) * 1000)
        assert len(fetched) == len(rows)

        median = statistics.median(times)
        result = {
            "benchmark": "chart_query",
            **info,
            "quick": args.quick,
            "readings": len(rows),
            "years": days / 365,
            "load_rows_per_s": round(len(rows) / load_s),
            "rollup_rows": {
                "hourly": ReadingHourly.objects.count(),
                "daily": ReadingDaily.objects.count(),
            },
            "requests": n_requests,
            "max_points": args.max_points,
            "resolution": body["resolution"],
            "source_points": body["source_points"],
            "points": len(points),
            "spike_kept": max(p[3] for p in points) == SPIKE,
            "bytes": size,
            "median_ms": round(median, 2),
            "p95_ms": round(float(np.percentile(times, 95)), 2),
            "min_ms": round(min(times), 2),
            "target_ms": 100,
            "meets_target": median < 100,
            "baseline_raw_fetch_ms": round(statistics.median(raw_ms), 2),
            "baseline_rows": len(fetched),
            "speedup": round(statistics.median(raw_ms) / median, 1),
            "python": platform.python_version(),
            "django": __import__("django").get_version(),
            "numpy": np.__version__,
            "cpus": os.cpu_count(),
        }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
