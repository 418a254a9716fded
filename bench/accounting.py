"""Annual withdrawal accounting: 3,000 wells from a year of 15-minute cumulative readings.

    .venv/bin/python bench/accounting.py [--quick] [--wells N] [--db sqlite|postgres] [--seed S]

Prints one JSON object. Sets up its own database (``bench/ingest.py``'s ``bench_database``: a
temporary SQLite file, or a fresh PostgreSQL database created and dropped).

What is stored (a year of 15-minute readings for 3,000 meters is 105 million rows — too many to
insert for a benchmark — so the bench builds what accounting reads):

* 3,000 wells (``--quick``: 300) in 5 townships, each with one flow meter (bulk inserts: no
  location derivation, no audit);
* for each meter, one ``ReadingDaily`` row of ``cumulative_volume`` per local day from
  2024-12-31 to 2026-01-01 (367 days), written directly as ingest would have merged it from 96
  readings at 00:00, 00:15, … 23:45 (n = 96, first/last with their times, min/max). Daily
  volumes follow a seasonal pattern (irrigation peak in spring and summer) around a per-well
  mean of 20–200 m³/day;
* a realistic share of trouble that forces the slower paths:
  - 5 % of meters have one gap of 3–20 days (no rollup rows; some straddle a month boundary,
    whose split is then estimated);
  - 1 % have a registered meter replacement (``monitoring.MeterChange`` at 12:00: the new meter
    starts at 0): that day is not monotonic, so accounting reads its 96 raw readings, which the
    bench stores in ``Reading``;
  - 0.5 % have one reading running backwards on one day (raw readings stored for that day).

Timed: ``aquifer.accounting.service.refresh(2025)`` — every well's 12 months computed from the
rollups (and raw readings where needed) and stored as ``WithdrawalMonth`` rows (36,000) — the
"annual accounting" figure; then ``totals("township", 2025)`` answered from the stored rows.
Checked: each well's annual total against the volume the generator put in (``max_rel_error``;
a gap's volume is the exact register difference, so it is 0 up to rounding), and the metered /
estimated split.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from ingest import bench_database

TZ = ZoneInfo("Asia/Shanghai")
YEAR = 2025
STEP = dt.timedelta(minutes=15)
DAY = dt.timedelta(days=1)


def build(n_wells: int, seed: int) -> dict[str, Any]:
    """Wells, meters, daily rollups, raw days, replacements. Returns the expected totals."""
    from django.db import connection, transaction

    from aquifer.monitoring.models import MeterChange
    from aquifer.registry.models import Device, Township, Well
    from aquifer.telemetry.models import Reading, ReadingDaily

    rng = np.random.default_rng(seed)
    towns = list(Township.objects.filter(is_current=True).order_by("code")[:5])
    with transaction.atomic():
        Well.objects.bulk_create(
            [
                Well(
                    code=f"BW-{i:05d}", lon=112.4 + (i % 60) * 0.002, lat=35.45 + (i // 60) * 0.002,
                    depth_m=120, layer="shallow", purpose="agricultural", status="active",
                    township=towns[i % len(towns)],
                )
                for i in range(n_wells)
            ],
            batch_size=1000,
        )  # fmt: skip
        wells = list(Well.objects.order_by("pk").values_list("pk", flat=True))
        Device.objects.bulk_create(
            [
                Device(kind="flow_meter", protocol="MQTT", station_address=f"bm-{i:05d}", well_id=w)
                for i, w in enumerate(wells)
            ],
            batch_size=1000,
        )
    devices = list(Device.objects.order_by("pk").values_list("pk", flat=True))
    days = [dt.datetime(YEAR - 1, 12, 31, tzinfo=TZ) + DAY * k for k in range(367)]
    doy = np.arange(367)
    season = 1.0 + 0.6 * np.sin(2 * np.pi * (doy - 60) / 365)  # spring/summer peak
    mean = rng.uniform(20, 200, len(devices))
    n = len(devices)
    gap_dev = set(rng.choice(n, max(1, n // 20), replace=False).tolist())
    repl_dev = set(rng.choice(n, max(1, n // 100), replace=False).tolist()) - gap_dev
    glitch_dev = set(rng.choice(n, max(1, n // 200), replace=False).tolist()) - gap_dev - repl_dev
    adapt = connection.ops.adapt_datetimefield_value
    sql = (
        f"INSERT INTO {ReadingDaily._meta.db_table} (device_id, element, bucket, n, min, max,"
        " sum, first, last, first_at, last_at) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)"
    )
    expected: dict[int, float] = {}
    raw: list[Reading] = []
    changes: list[MeterChange] = []
    daily_rows = 0
    raw_days = 0
    gap_days = 0
    frac = np.arange(96) / 96.0
    with transaction.atomic(), connection.cursor() as cursor:
        for j, dev in enumerate(devices):
            vol = mean[j] * season * rng.uniform(0.8, 1.2, 367)
            start = np.concatenate([[rng.uniform(0, 1e5)], vol[:-1]]).cumsum()
            # the year's volume: register at 2026-01-01 00:00 minus at 2025-01-01 00:00
            expected[well_of(dev)] = float(start[366] - start[1])
            skip: set[int] = set()
            if j in gap_dev:
                g0 = int(rng.integers(2, 340))
                glen = int(rng.integers(3, 21))
                skip = set(range(g0, g0 + glen))
                gap_days += glen
            special: dict[int, str] = {}
            if j in repl_dev:
                special[int(rng.integers(10, 355))] = "replace"
            if j in glitch_dev:
                special[int(rng.integers(10, 355))] = "glitch"
            offset = 0.0  # after a replacement the new meter reads register - offset
            rows = []
            for k, day in enumerate(days):
                if k in skip:
                    continue
                values = start[k] + vol[k] * frac - offset
                kind = special.get(k)
                if kind == "replace":
                    at = day + dt.timedelta(hours=12)
                    old_final = float(start[k] + vol[k] * 0.5 - offset)
                    offset = float(start[k] + vol[k] * 0.5)
                    values = np.where(frac >= 0.5, start[k] + vol[k] * frac - offset, values)
                    changes.append(
                        MeterChange(device_id=dev, changed_at=at, old_final=old_final,
                                    new_initial=0.0, note="bench")
                    )  # fmt: skip
                elif kind == "glitch":
                    values = values.copy()
                    values[40] -= 50.0
                if kind:
                    raw_days += 1
                    raw += [
                        Reading(device_id=dev, element="cumulative_volume",
                                observed_at=day + STEP * i, value=float(values[i]))
                        for i in range(96)
                    ]  # fmt: skip
                rows.append(
                    (dev, "cumulative_volume", adapt(day), 96, float(values.min()),
                     float(values.max()), float(values.sum()), float(values[0]),
                     float(values[-1]), adapt(day), adapt(day + STEP * 95))
                )  # fmt: skip
            cursor.executemany(sql, rows)
            daily_rows += len(rows)
        Reading.objects.bulk_create(raw, batch_size=5000)
        MeterChange.objects.bulk_create(changes)
        # The daily rollups above are what merging these readings would have made: every
        # reading is merged (the watermark past the last), so refresh() finds nothing to do.
        from aquifer.telemetry.models import RollupWatermark

        last = Reading.objects.order_by("-id").values_list("id", flat=True).first() or 0
        RollupWatermark.objects.update_or_create(
            pk=1, defaults={"reading_id": last, "window_end": last, "next_device": 0}
        )
    return {
        "expected": expected,
        "daily_rows": daily_rows,
        "raw_readings": len(raw),
        "raw_days": raw_days,
        "meters_with_gaps": len(gap_dev),
        "gap_days": gap_days,
        "replacements": len(changes),
        "backwards_days": len(glitch_dev),
    }


_WELL_OF: dict[int, int] = {}


def well_of(device_id: int) -> int:
    if not _WELL_OF:
        from aquifer.registry.models import Device

        _WELL_OF.update(Device.objects.values_list("pk", "well_id"))
    return _WELL_OF[device_id]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--wells", type=int)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    n_wells = args.wells or (300 if args.quick else 3000)

    with bench_database(args.db) as info:
        from django.db import connection

        from aquifer.accounting import service
        from aquifer.accounting.models import WithdrawalMonth

        t = time.perf_counter()
        setup = build(n_wells, args.seed)
        setup_s = time.perf_counter() - t
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        expected = setup.pop("expected")

        t = time.perf_counter()
        stored = service.refresh(YEAR)
        annual_s = time.perf_counter() - t

        t = time.perf_counter()
        towns = service.totals("township", YEAR)
        totals_s = time.perf_counter() - t

        got = service.well_volumes(YEAR)
        errors = [abs(got[w].total_m3 - e) / e for w, e in expected.items() if e > 0]
        metered = sum(v.metered_m3 for v in got.values())
        estimated = sum(v.estimated_m3 for v in got.values())
        county = sum(v.total_m3 for v in towns.values())
        result = {
            "benchmark": "accounting",
            **info,
            "quick": args.quick,
            "wells": n_wells,
            "year": YEAR,
            "represents_readings": n_wells * 96 * 365,
            **setup,
            "setup_s": round(setup_s, 2),
            "annual_accounting_s": round(annual_s, 2),
            "well_months_stored": stored,
            "stored_rows": WithdrawalMonth.objects.count(),
            "township_totals_s": round(totals_s, 3),
            "max_rel_error": float(max(errors)) if errors else None,
            "metered_m3": round(metered),
            "estimated_m3": round(estimated),
            "county_m3": round(county),
            "expected_m3": round(sum(expected.values())),
            "python": platform.python_version(),
            "cpu_count": os.cpu_count(),
        }
        print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
