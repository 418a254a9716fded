"""The alarm board (``/alarms/``) with 10,000 open alarms: response times.

Sets up its own database (see bench/ingest.py) with 3,000 devices (``--quick``: 300) in the
county's 15 townships and 10,000 open alarms (``--quick``: 1,000) of every kind and severity
spread over them, then requests the board through Django's test client (the whole stack:
middleware, session, scoping, paging, template) as the bureau (all alarms) and as a township
officer (their township's): the grouped board (the default), the flat board sorted by due
time, a far page, an htmx-filtered page, ``--requests`` times each (50); then one bulk
acknowledge of 100 alarms through the API (each an audited transition).

    python bench/alarm_board.py [--quick] [--db sqlite|postgres] [--alarms N]

Prints one JSON object: median and p95 milliseconds and the query count per case, and
``meets_target`` (p95 under 300 ms, issue 20's page target).
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


TARGET_P95_MS = 300.0


def measure(user: Any, url: str, requests: int, htmx: bool = False) -> dict[str, Any]:
    from django.db import connection
    from django.test import Client

    c = Client()
    c.force_login(user)
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    queries: list[str] = []

    def count(execute: Any, sql: str, *args: Any) -> Any:
        queries.append(sql)
        return execute(sql, *args)

    with connection.execute_wrapper(count):  # survives the reconnect after each request
        r = c.get(url, **headers)  # warm-up
    assert r.status_code == 200, r.status_code
    times = []
    for _ in range(requests):
        t0 = time.perf_counter()
        r = c.get(url, **headers)
        times.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200
    p95 = percentile(times, 95)
    return {
        "median_ms": round(statistics.median(times), 1),
        "p95_ms": round(p95, 1),
        "queries": len(queries),
        "bytes": len(r.content),
        "meets_target": p95 < TARGET_P95_MS,
    }


def bulk_acknowledge(user: Any, n: int) -> dict[str, Any]:
    """One API request acknowledging ``n`` open alarms of the user's with one reason."""
    from django.test import Client

    from aquifer.monitoring.models import Alarm

    ids = list(Alarm.objects.filter(state="open").order_by("id").values_list("pk", flat=True)[:n])
    c = Client()
    c.force_login(user)
    t0 = time.perf_counter()
    r = c.post(
        "/api/monitoring/alarms/bulk",
        {"ids": ids, "action": "acknowledge", "reason": "bench"},
        content_type="application/json",
    )
    ms = (time.perf_counter() - t0) * 1000
    assert r.status_code == 200, r.content[:300]
    return {"alarms": len(ids), "ms": round(ms, 1), "ms_per_alarm": round(ms / len(ids), 2)}


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
            "bureau_flat_by_due": measure(who["bureau"], "/alarms/?group=none", requests),
            "bureau_page_100": measure(who["bureau"], "/alarms/?group=none&page=100", requests),
            "bureau_filtered_htmx": measure(
                who["bureau"], "/alarms/?kind=device_offline&severity=critical", requests, True
            ),
            "township_first_page": measure(who["township"], "/alarms/", requests),
            "api_bureau": measure(who["bureau"], "/api/alarms/?state=active", requests),
        }
        bulk = bulk_acknowledge(who["bureau"], 100)
        result = {
            **head("alarm_board", args.quick, info),
            "open_alarms": Alarm.objects.filter(state="open").count(),
            "devices": n_devices,
            "requests": requests,
            **cases,
            "bulk_acknowledge": bulk,
            "meets_target": all(c["meets_target"] for c in cases.values()),
        }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
