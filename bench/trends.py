"""Trend test and recovery status for many wells: 3,000 wells × 10 years of daily means.

    .venv/bin/python bench/trends.py [--quick] [--wells N] [--years Y]
                                     [--job N] [--job-years Y] [--db sqlite|postgres]

Prints one JSON object. Synthetic depth-to-water series (seeded): a per-well linear trend
between −0.5 and +0.5 m/a, an annual cycle, noise and 5 % missing days. Measured (wall time):
``aquifer.analysis.trends`` as the system uses it — daily means to monthly means, then the
Mann-Kendall / seasonal test with Sen's slope over the whole series, the same over the recent
window, the same-month change and the status, for every well (``assess_many``). Baseline, in
the same run, on the same monthly series: pymannkendall's ``original_test`` + ``sens_slope``
per well (the brief's reference; it does less than ours — one test, no window, no status).
``agree`` checks that our plain Mann-Kendall equals pymannkendall's on every baseline well.

``--job N`` adds the stored path (key ``job``): a fresh database (``bench/ingest.py``'s
``bench_database``) with N monitoring wells, each with a level logger that reported one depth
a day for ``--job-years`` years (default 10) through ``telemetry.store.ingest``, then the
daily job ``analysis.levels.compute_trends`` — daily rollups read, monthly means, tests,
statuses, one ``WellTrend`` per well and one ``ZoneTrend`` per zone stored — timed once.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import pymannkendall as mk

from aquifer.analysis.trends import assess_many, mann_kendall_many


def daily_depths(wells: int, years: int, seed: int = 651) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    days = np.arange(int(years * 365.25))
    t = days / 365.25
    slope = rng.uniform(-0.5, 0.5, (wells, 1))
    x = 25 + slope * t + 1.5 * np.sin(2 * np.pi * t + rng.uniform(0, 6, (wells, 1)))
    x += rng.normal(0, 0.2, x.shape)
    x[rng.random(x.shape) < 0.05] = np.nan
    month = ((np.datetime64("2015-01-01") + days).astype("datetime64[M]")).astype(int)
    return x, month - month[0]


def to_monthly(daily: np.ndarray, month: np.ndarray) -> np.ndarray:
    """Monthly means of a (wells, days) block on a shared day axis, NaN ignored."""
    n = int(month[-1]) + 1
    ok = ~np.isnan(daily)
    sums = np.zeros((daily.shape[0], n))
    counts = np.zeros((daily.shape[0], n))
    np.add.at(sums.T, month, np.where(ok, daily, 0.0).T)
    np.add.at(counts.T, month, ok.T.astype(float))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / counts, np.nan)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--wells", type=int)
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--job", type=int, default=0, help="monitoring wells for the stored job")
    ap.add_argument("--job-years", type=int, default=10)
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    args = ap.parse_args()
    wells = args.wells or (300 if args.quick else 3000)
    daily, month = daily_depths(wells, args.years)

    t0 = time.perf_counter()
    monthly = to_monthly(daily, month)
    t1 = time.perf_counter()
    results = assess_many(monthly, "depth")
    t2 = time.perf_counter()

    base = monthly
    t3 = time.perf_counter()
    ref = [(mk.original_test(row), mk.sens_slope(row)) for row in base]
    t4 = time.perf_counter()

    ours = mann_kendall_many(base)
    agree = all(
        abs(ours.p[i] - r.p) <= 1e-9 and ours.s[i] == r.s and abs(ours.slope[i] - s.slope) <= 1e-9
        for i, (r, s) in enumerate(ref)
    )
    t5 = time.perf_counter()
    mann_kendall_many(base)
    t6 = time.perf_counter()
    statuses = {
        s: sum(1 for r in results if r.status == s) for s in sorted({r.status for r in results})
    }
    print(
        json.dumps(
            {
                "benchmark": "trends",
                "wells": wells,
                "years": args.years,
                "days_per_well": daily.shape[1],
                "months_per_well": monthly.shape[1],
                "seconds": round(t2 - t0, 3),
                "monthly_means_seconds": round(t1 - t0, 3),
                "assess_seconds": round(t2 - t1, 3),
                "baseline": "pymannkendall original_test + sens_slope per well, monthly series",
                "baseline_seconds": round(t4 - t3, 3),
                "speedup_vs_baseline": round((t4 - t3) / (t2 - t0), 1),
                "same_test_seconds": round(t6 - t5, 4),
                "same_test_speedup": round((t4 - t3) / (t6 - t5), 1),
                "agree": agree,
                "statuses": statuses,
                **({"job": job_bench(args.job, args.job_years, args.db)} if args.job else {}),
                "python": platform.python_version(),
            }
        )
    )


def job_bench(n: int, years: int, db: str) -> dict[str, object]:
    """The daily trend job over ``n`` monitoring wells with ``years`` of daily readings."""
    from datetime import UTC, datetime, timedelta

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from ingest import bench_database, make_devices

    with bench_database(db) as info:
        from aquifer.analysis import levels
        from aquifer.registry.models import Device, MonitoringWell
        from aquifer.telemetry.store import ReadingRow, ingest, refresh_rollups

        device_ids = make_devices(n, prefix="trend")
        MonitoringWell.objects.bulk_create(
            MonitoringWell(well_id=w)
            for w in Device.objects.filter(pk__in=device_ids).values_list("well_id", flat=True)
        )
        daily, _month = daily_depths(n, years, seed=7)
        t0 = datetime(2026, 6, 30, 4, tzinfo=UTC) - timedelta(days=daily.shape[1])
        load = time.perf_counter()
        rows = []
        for d, series in zip(device_ids, daily, strict=True):
            rows += [
                ReadingRow(d, "depth_to_water", t0 + timedelta(days=k), float(v))
                for k, v in enumerate(series)
                if v == v
            ]
            if len(rows) >= 50_000:
                ingest(rows)
                rows = []
        ingest(rows)
        refresh_rollups()  # as the gateway's writer and the rollup job would have
        load_s = time.perf_counter() - load
        start = time.perf_counter()
        counts = levels.compute_trends(datetime(2026, 6, 30).date())
        job_s = time.perf_counter() - start
        return {
            "db": info["db"],
            "wells": counts["wells"],
            "years": years,
            "load_seconds": round(load_s, 2),
            "seconds": round(job_s, 3),
            "wells_per_second": round(counts["wells"] / job_s, 1),
        }


if __name__ == "__main__":
    main()
