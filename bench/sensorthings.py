"""SensorThings API: the latest observation of 3,000 datastreams, and ten years of one
datastream paged at ``$top=1000``.

Sets up its own database (a temporary SQLite file, or with ``--db postgres`` a fresh
PostgreSQL database; ``bench/ingest.py``): 3,000 wells with a level logger each, one depth
reading per logger (3,000 datastreams, their LatestReading rows written by ingest), and one
more logger with ten years of 15-minute depths (350,400 readings; ``--quick``: one year and
1,000 datastreams).

Measured through ``django.test.Client`` as the bureau (the whole stack):

- ``latest``: ``GET /sta/v1.1/Datastreams?$top=3000&$expand=Observations($top=1;$orderby=
  phenomenonTime desc)`` — every datastream with its newest observation, answered from the
  LatestReading table; ``--requests`` times (default 30; quick 10).
- ``series_pages``: the long datastream's observations in time order, page by page as a
  client follows ``@iot.nextLink`` (``$top=1000``): every page of the series once.

Median and p95 ms of each (wall time; ``cpu_median_ms`` is this process's CPU time per
request, which a loaded machine does not inflate); target p95 < 100 ms for both.

    python bench/sensorthings.py [--quick] [--db sqlite|postgres] [--requests R]
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, parser, wells_with_devices
from chart_query import readings
from ingest import bench_database

TARGET_MS = 100.0


def _p95(xs: list[float]) -> float:
    return round(float(np.percentile(xs, 95)), 2)


def main() -> None:
    p = parser(__doc__, quick="one year, 1,000 datastreams")
    p.add_argument("--requests", type=int)
    args = p.parse_args()
    wall0 = time.perf_counter()
    n_streams = 1000 if args.quick else 3000
    days = 365 if args.quick else 3650
    n_requests = args.requests or (10 if args.quick else 30)

    with bench_database(args.db) as info:
        from django.db import connection
        from django.test import Client

        from aquifer.core.models import User
        from aquifer.core.roles import Role
        from aquifer.registry.models import Township
        from aquifer.telemetry.models import LatestReading
        from aquifer.telemetry.store import ingest, ingest_tuples

        towns = list(Township.objects.filter(is_current=True)[:5])
        _wells, devices = wells_with_devices(
            n_streams + 1, towns, origin=(112.30, 35.40), step=(0.002, 0.002),
            purpose="monitoring", device_prefix="sta", kind="level_logger",
        )  # fmt: skip
        t = datetime(2026, 1, 1, tzinfo=UTC)
        rows = [(d.pk, "depth_to_water", t, 10.0 + i % 50, 0) for i, d in enumerate(devices[:-1])]
        for i in range(0, len(rows), 5000):
            ingest_tuples(rows[i : i + 5000])
        long_device = devices[-1].pk
        series = readings(long_device, days)
        t0 = time.perf_counter()
        for i in range(0, len(series), 5000):
            ingest(series[i : i + 5000])
        load_s = time.perf_counter() - t0
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        stream = LatestReading.objects.get(device_id=long_device).pk

        user = User.objects.create_user("bench-bureau", password="x", role=Role.BUREAU)
        client = Client()
        client.force_login(user)

        latest_url = (
            f"/sta/v1.1/Datastreams?$top={n_streams + 1}"
            "&$expand=Observations($top=1;$orderby=phenomenonTime desc)"
        )
        for _ in range(2):
            assert client.get(latest_url).status_code == 200
        latest_ms, latest_cpu = [], []
        for _ in range(n_requests):
            t1, c1 = time.perf_counter(), time.process_time()
            response = client.get(latest_url)
            latest_ms.append((time.perf_counter() - t1) * 1000)
            latest_cpu.append((time.process_time() - c1) * 1000)
        body = response.json()
        assert len(body["value"]) == n_streams + 1
        assert all(len(s["Observations"]) == 1 for s in body["value"])

        url: str | None = (
            f"/sta/v1.1/Datastreams({stream})/Observations?$top=1000&$orderby=phenomenonTime"
        )
        page_ms, page_cpu = [], []
        seen = 0
        last = ""
        while url:
            t1, c1 = time.perf_counter(), time.process_time()
            response = client.get(url)
            page_ms.append((time.perf_counter() - t1) * 1000)
            page_cpu.append((time.process_time() - c1) * 1000)
            assert response.status_code == 200, response.content[:300]
            page: dict[str, Any] = response.json()
            times = [o["phenomenonTime"] for o in page["value"]]
            assert times == sorted(times) and (not times or times[0] > last)
            last = times[-1] if times else last
            seen += len(page["value"])
            nxt = page.get("@iot.nextLink")
            url = nxt.replace("http://testserver", "") if nxt else None
        assert seen == len(series), (seen, len(series))

        result = {
            "bench": "sensorthings",
            "quick": args.quick,
            **info,
            "datastreams": n_streams + 1,
            "series_readings": len(series),
            "load_rows_per_s": round(len(series) / load_s),
            "latest": {
                "requests": n_requests,
                "median_ms": round(statistics.median(latest_ms), 2),
                "p95_ms": _p95(latest_ms),
                "cpu_median_ms": round(statistics.median(latest_cpu), 2),
                "target_p95_ms": TARGET_MS,
                "meets_target": _p95(latest_ms) < TARGET_MS,
            },
            "series_pages": {
                "pages": len(page_ms),
                "median_ms": round(statistics.median(page_ms), 2),
                "p95_ms": _p95(page_ms),
                "max_ms": round(max(page_ms), 2),
                "cpu_median_ms": round(statistics.median(page_cpu), 2),
                "target_p95_ms": TARGET_MS,
                "meets_target": _p95(page_ms) < TARGET_MS,
            },
            **machine(wall0),
        }
        result["meets_target"] = (
            result["latest"]["meets_target"] and result["series_pages"]["meets_target"]
        )
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
