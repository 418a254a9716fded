"""The home page (``/``, the morning view of each role) on a 3,000-well county: response times
and query counts.

Sets up its own database (see bench/ingest.py) with 3,000 wells with a device each
(``--quick``: 300) in the county's 15 townships, 10,000 open alarms (``--quick``: 1,000) of
every kind and severity, a week of daily device health, this month's and last year's same
month's stored withdrawal, a permit per five wells (a water user holding twenty), a
monitoring well with a stored trend per ten wells, and enforcement cases; then requests
``/`` through Django's test client (the whole stack) as the bureau, a township officer, an
inspector and a water user, ``--requests`` times each (30).

    python bench/morning.py [--quick] [--db sqlite|postgres] [--requests N]

Prints one JSON object: median and p95 milliseconds and the query count per role, and
``meets_target`` (p95 under 300 ms for every role, issue 20).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import head, machine, wells_with_devices
from _common import parser as bench_parser
from ingest import bench_database

TARGET_P95_MS = 300.0


def make_county(n_wells: int, n_alarms: int) -> dict[str, Any]:
    from django.db import transaction
    from django.utils import timezone

    from aquifer.accounting.models import WithdrawalMonth
    from aquifer.analysis.models import WellTrend
    from aquifer.core.models import User
    from aquifer.core.roles import Role
    from aquifer.enforcement.models import Case
    from aquifer.monitoring.models import Alarm, AlarmKind, DeviceHealthDaily
    from aquifer.permits.models import Permit
    from aquifer.registry.models import MonitoringWell, Township, WaterUser, Well

    towns = list(Township.objects.filter(is_current=True).order_by("code"))
    rng = np.random.default_rng(7)
    wells, devices = wells_with_devices(
        n_wells,
        towns,
        origin=(112.3, 35.4),
        step=(0.004, 0.002),
        purpose="agricultural",
        device_prefix="m",
        kind="flow_meter",
    )
    today = timezone.localdate()
    now = timezone.now()
    with transaction.atomic():
        holder = WaterUser.objects.create(
            name="早报用水户", use_type="agricultural", township=towns[0]
        )
        Well.objects.filter(pk__in=[w.pk for w in wells[: 20 * len(towns) : len(towns)]]).update(
            owner=holder
        )
        kinds = list(AlarmKind.values)
        Alarm.objects.bulk_create(
            [
                Alarm(
                    kind=kinds[k % len(kinds)],
                    key=f"morning:{k}",
                    title="bench",
                    severity=("info", "warning", "critical")[k % 3],
                    township_id=wells[k % n_wells].township_id,
                    owner_id=holder.pk if k % n_wells < 20 * len(towns) else None,
                    device=devices[k % n_wells],
                    well=wells[k % n_wells],
                    opened_at=now,
                    last_seen=now,
                )
                for k in range(n_alarms)
            ],
            batch_size=1000,
        )
        DeviceHealthDaily.objects.bulk_create(
            [
                DeviceHealthDaily(
                    device=d,
                    township_id=w.township_id,
                    day=today - timedelta(days=k),
                    expected=24,
                    received=int(rng.integers(18, 25)),
                    online=bool(k % 7),
                )
                for k in range(1, 8)
                for d, w in zip(devices, wells, strict=True)
            ],
            batch_size=2000,
        )
        WithdrawalMonth.objects.bulk_create(
            [
                WithdrawalMonth(
                    well=w, year=y, month=today.month, metered_m3=float(rng.integers(10, 500))
                )
                for y in (today.year, today.year - 1)
                for w in wells
            ],
            batch_size=2000,
        )
        for i in range(0, n_wells, 5):
            p = Permit.objects.create(
                number=f"M-{i:05d}",
                holder=holder,
                source="shallow",
                use_type="agricultural",
                annual_quota_m3=int(rng.integers(100, 2000)),
                status="active",
                valid_until=today + timedelta(days=int(rng.integers(1, 900))),
            )
            p.wells.set(wells[i : i + 5])
        mws = MonitoringWell.objects.bulk_create(
            [MonitoringWell(well=w) for w in wells[::10]], batch_size=1000
        )
        WellTrend.objects.bulk_create(
            [
                WellTrend(
                    monitoring_well=mw,
                    computed_on=today,
                    element="depth_to_water",
                    status=("falling", "stabilised", "rising")[k % 3],
                    test="mk",
                    trend="increasing",
                    window_trend="increasing",
                )
                for k, mw in enumerate(mws)
            ],
            batch_size=1000,
        )
        Case.objects.bulk_create(
            [
                Case(
                    kind="no_meter",
                    source="inspection",
                    state="filed",
                    title=f"bench {k}",
                    township_id=wells[k].township_id,
                    well=wells[k],
                    due_at=now + timedelta(days=int(rng.integers(-10, 30))),
                )
                for k in range(min(200, n_wells))
            ]
        )
    return {
        "bureau": User.objects.create_user("m-bureau", password="x", role=Role.BUREAU),
        "township": User.objects.create_user(
            "m-officer", password="x", role=Role.TOWNSHIP, township=towns[0]
        ),
        "inspector": User.objects.create_user("m-inspector", password="x", role=Role.INSPECTOR),
        "water_user": User.objects.create_user(
            "m-user", password="x", role=Role.WATER_USER, water_user=holder
        ),
    }


def measure(user: Any, requests: int) -> dict[str, Any]:
    from django.db import connection
    from django.test import Client

    c = Client()
    c.force_login(user)
    assert c.get("/").status_code == 200  # warm-up
    seen: list[str] = []  # counted by a wrapper: a request resets the connection's query log

    def count(execute: Any, sql: str, *rest: Any) -> Any:
        seen.append(sql)
        return execute(sql, *rest)

    with connection.execute_wrapper(count):
        r = c.get("/")
    times = []
    for _ in range(requests):
        t0 = time.perf_counter()
        r = c.get("/")
        times.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200
    return {
        "median_ms": round(statistics.median(times), 1),
        "p95_ms": round(float(np.percentile(np.asarray(times), 95)), 1),
        "queries": len(seen),
    }


def per_figure(user: Any) -> dict[str, float]:
    """Milliseconds of each figure the user sees (one computation each, after the pages)."""
    from aquifer.core import morning

    out = {}
    for entry in morning.entries():
        if entry.shown_to(user):
            t0 = time.perf_counter()
            entry.compute(user)
            out[entry.key] = round((time.perf_counter() - t0) * 1000, 1)
    return out


def main() -> None:
    wall0 = time.perf_counter()
    parser = bench_parser(__doc__)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    n_wells = 300 if args.quick else 3000
    n_alarms = 1000 if args.quick else 10_000
    requests = 10 if args.quick else args.requests

    with bench_database(args.db) as info:
        who = make_county(n_wells, n_alarms)
        roles = {role: measure(user, requests) for role, user in who.items()}
        worst = max(r["p95_ms"] for r in roles.values())
        figures = {role: per_figure(who[role]) for role in ("bureau", "township")}
        result = {
            **head("morning", args.quick, info),
            "wells": n_wells,
            "open_alarms": n_alarms,
            "requests": requests,
            **roles,
            "figures_ms": figures,
            "target_p95_ms": TARGET_P95_MS,
            "meets_target": worst < TARGET_P95_MS,
            **machine(wall0),
        }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
