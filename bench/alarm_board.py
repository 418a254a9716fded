"""The alarm board (``/alarms/``) with 10,000 open alarms: response times.

Sets up its own database (see bench/ingest.py) with 3,000 devices (``--quick``: 300) in the
county's 15 townships and 10,000 open alarms (``--quick``: 1,000) of every kind and severity
spread over them, then requests the board through Django's test client (the whole stack:
middleware, session, scoping, paging, template) as the bureau (all alarms) and as a township
officer (their township's), first page and a filtered page, ``--requests`` times each (50).

    python bench/alarm_board.py [--quick] [--db sqlite|postgres] [--alarms N]

Prints one JSON object: median and p95 milliseconds per case.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import head, wells_with_devices
from _common import parser as bench_parser
from ingest import bench_database


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def make_alarms(n_devices: int, n_alarms: int) -> dict[str, Any]:
    from django.db import transaction

    from aquifer.core.models import User
    from aquifer.core.roles import Role
    from aquifer.monitoring.models import Alarm, AlarmKind
    from aquifer.registry.models import Township

    towns = list(Township.objects.filter(is_current=True).order_by("code"))
    rng = np.random.default_rng(5)
    wells, devices = wells_with_devices(
        n_devices, towns, origin=(112.3, 35.4), step=(0.004, 0.002), purpose="agricultural",
        device_prefix="b", kind="flow_meter",
    )  # fmt: skip
    with transaction.atomic():
        kinds = list(AlarmKind.values)
        t0 = datetime(2026, 3, 1, tzinfo=UTC)
        alarms = []
        for k in range(n_alarms):
            d = devices[k % n_devices]
            w = wells[k % n_devices]
            kind = kinds[k % len(kinds)]
            at = t0 + timedelta(minutes=int(rng.integers(0, 60 * 24 * 30)))
            alarms.append(
                Alarm(
                    kind=kind,
                    key=f"{kind}:bench:{k}",
                    title=f"{d.station_address} {kind}",
                    severity=("info", "warning", "critical")[k % 3],
                    township_id=w.township_id,
                    device=d,
                    well=w,
                    opened_at=at,
                    last_seen=at,
                    due_at=at + timedelta(hours=24),
                )
            )
        Alarm.objects.bulk_create(alarms, batch_size=1000)
    bureau = User.objects.create_user("bench-bureau", password="x", role=Role.BUREAU)
    officer = User.objects.create_user(
        "bench-officer", password="x", role=Role.TOWNSHIP, township=towns[0]
    )
    return {"bureau": bureau, "township": officer, "town": towns[0]}


def measure(user: Any, url: str, requests: int, htmx: bool = False) -> dict[str, Any]:
    from django.test import Client

    c = Client()
    c.force_login(user)
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    r = c.get(url, **headers)  # warm-up
    assert r.status_code == 200, r.status_code
    times = []
    for _ in range(requests):
        t0 = time.perf_counter()
        r = c.get(url, **headers)
        times.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200
    return {
        "median_ms": round(statistics.median(times), 1),
        "p95_ms": round(percentile(times, 95), 1),
        "bytes": len(r.content),
    }


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--alarms", type=int)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    n_alarms = args.alarms or (1000 if args.quick else 10_000)
    n_devices = 300 if args.quick else 3000
    requests = 10 if args.quick else args.requests

    with bench_database(args.db) as info:
        from aquifer.monitoring.models import Alarm

        who = make_alarms(n_devices, n_alarms)
        cases = {
            "bureau_first_page": measure(who["bureau"], "/alarms/", requests),
            "bureau_page_100": measure(who["bureau"], "/alarms/?page=100", requests),
            "bureau_filtered_htmx": measure(
                who["bureau"], "/alarms/?kind=device_offline&severity=critical", requests, True
            ),
            "township_first_page": measure(who["township"], "/alarms/", requests),
            "api_bureau": measure(who["bureau"], "/api/alarms/?state=active", requests),
        }
        result = {
            **head("alarm_board", args.quick, info),
            "open_alarms": Alarm.objects.filter(state="open").count(),
            "devices": n_devices,
            "requests": requests,
            **cases,
        }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
