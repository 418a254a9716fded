"""The quality-check sweep (``monitoring.sweeps.check_sweep``) over a county's day of readings.

Sets up its own database (a temporary SQLite file, or ``--db postgres``: see bench/ingest.py),
3,000 devices (``--quick``: 300), each with one day of 5-minute depth-to-water readings
(288 per device: 864,000 readings), written by a plain insert (the sweep is measured, not the
ingest). 1 % of the series carry a spike, 1 % a range error, 1 % a stuck run.

Measured:

- ``full_s``: the sweep over every reading (from watermark 0; as many batches of
  ``SWEEP_BATCH`` as it takes) — reading rows, the checks, flags, findings, device states,
  suspicious-reading alarms, the watermark;
- ``incremental_s``: then the next 5 minutes of readings (one per device) swept with the
  stored context of each series (one indexed query per series) — the steady state of the
  every-minute job.

    python bench/monitoring_sweep.py [--quick] [--db sqlite|postgres] [--devices N]

Prints one JSON object.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import head, wells_with_devices
from _common import parser as bench_parser
from ingest import baseline_insert, bench_database

STEP = timedelta(minutes=5)
PER_DAY = 288


def make_devices(n: int, kind: str = "level_logger", interval: int = 5) -> list[int]:
    """``n`` devices on ``n`` wells in 凤城镇, created in bulk (township set directly)."""
    from aquifer.registry.models import Township

    town = Township.objects.get(code="140522100")
    _wells, devices = wells_with_devices(
        n, [town], origin=(112.417, 35.486), step=(0.0004, 0.0004), purpose="monitoring",
        device_prefix="bench", kind=kind, reporting_interval_min=interval,
    )  # fmt: skip
    return [d.pk for d in devices]


def make_day(device_ids: list[int], start: datetime, steps: int = PER_DAY) -> list[Any]:
    """``steps`` 5-minute depths per device from ``start`` (time-major, as they arrive): a
    slow random walk; 1 % of the devices with a spike, 1 % with an out-of-range value, 1 %
    stuck for 15 hours. The walk is the same for any ``steps`` (seeded), so a later call
    with more steps continues the series."""
    from aquifer.telemetry.store import ReadingRow

    n = len(device_ids)
    base = np.random.default_rng(7).uniform(5, 60, n)
    steps_rng, noise_rng = np.random.default_rng(8), np.random.default_rng(9)
    walk = np.cumsum(steps_rng.normal(0, 0.002, (steps, n)).T, axis=1) + base[:, None]
    walk += noise_rng.normal(0, 0.003, (steps, n)).T
    for j in range(0, n, 100):  # 1 % spikes, range errors, stuck runs
        walk[j, 100] += 8.0
        if j + 1 < n:
            walk[j + 1, 150] = 2000.0
        if j + 2 < n:
            walk[j + 2, 20:200] = walk[j + 2, 20]
    times = [start + STEP * k for k in range(steps)]
    return [
        ReadingRow(d, "depth_to_water", times[k], round(float(walk[i, k]), 3))
        for k in range(steps)
        for i, d in enumerate(device_ids)
    ]


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--devices", type=int)
    args = parser.parse_args()
    n = args.devices or (300 if args.quick else 3000)

    with bench_database(args.db) as info:
        from aquifer.core.audit import audit_context
        from aquifer.monitoring import conf
        from aquifer.monitoring.models import Alarm, ReadingFinding
        from aquifer.monitoring.sweeps import check_sweep
        from aquifer.telemetry.models import Reading

        device_ids = make_devices(n)
        start = datetime(2026, 3, 1, tzinfo=UTC)
        rows = make_day(device_ids, start)
        t0 = time.perf_counter()
        for k in range(0, len(rows), 20_000):
            baseline_insert(rows[k : k + 20_000])
        setup_s = time.perf_counter() - t0
        now = start + timedelta(days=1)

        with audit_context(source="bench"):
            t0 = time.perf_counter()
            runs = 0
            totals = {"readings": 0, "flagged": 0, "findings": 0, "alarms_raised": 0}
            while True:
                stats = check_sweep(now=now)
                if not stats.readings:
                    break
                runs += 1
                for key in totals:
                    totals[key] += stats.as_dict()[key]
            full_s = time.perf_counter() - t0

            nxt = make_day(device_ids, start, PER_DAY + 1)[-len(device_ids) :]
            baseline_insert(nxt)
            t0 = time.perf_counter()
            inc = check_sweep(now=now + STEP)
            incremental_s = time.perf_counter() - t0

        result = {
            **head("monitoring_sweep", args.quick, info),
            "devices": n,
            "readings": len(rows),
            "sweep_batch": conf.get("SWEEP_BATCH"),
            "batches": runs,
            "setup_insert_s": round(setup_s, 2),
            "full_s": round(full_s, 2),
            "readings_per_s": round(len(rows) / full_s),
            "flagged": totals["flagged"],
            "findings": ReadingFinding.objects.count(),
            "alarms": Alarm.objects.count(),
            "flagged_rows_in_db": Reading.objects.filter(flags__gt=0).count(),
            "incremental_readings": inc.readings,
            "incremental_s": round(incremental_s, 3),
        }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
