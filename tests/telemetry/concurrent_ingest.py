"""Driver for test_store_concurrency.py, run as a script on a fresh database (its env):
four threads, each on its own connection, ingest the same readings in their own shuffled
orders and batches, all at once. Prints one JSON object per mode (``copy-first``: the
store's default; ``staged-only``: every batch on the conflict-ignoring path)."""

from __future__ import annotations

import json
import random
import threading
from datetime import UTC, datetime, timedelta

import django

T0 = datetime(2024, 5, 1, tzinfo=UTC)
THREADS = 4
BATCH = 180


def devices(n: int, prefix: str = "cc") -> list[int]:
    """``n`` level loggers, each on a well of its own (for the drivers beside this one)."""
    from aquifer.core.audit import audit_context
    from aquifer.registry.models import Device, Well

    ids = []
    with audit_context(source="test"):
        for i in range(n):
            code = f"{prefix}-{i}"
            well = Well(code=code.upper(), depth_m=100, layer="shallow", purpose="monitoring")
            well.set_location(112.417 + i * 0.001, 35.486)
            well.save()
            device = Device.objects.create(
                kind="level_logger", protocol="MQTT", station_address=code, well=well
            )
            ids.append(device.pk)
    return ids


def run(mode: str, device_ids: list[int], day: int) -> dict[str, object]:
    from django.db import connections

    from aquifer.telemetry.models import Reading
    from aquifer.telemetry.store import ingest_tuples
    from aquifer.telemetry.store.postgres import _Postgres

    staged = mode == "staged-only"
    _Postgres.SLOW_AFTER_CONFLICT = 10**9 if staged else 0
    _Postgres._slow_left = 10**9 if staged else 0
    start_at = T0 + timedelta(days=day)
    readings = [
        (d, element, start_at + timedelta(minutes=15 * i), float(i), 0)
        for d in device_ids
        for element in ("depth_to_water", "water_temperature", "ph")
        for i in range(96)
    ]
    stored = [0] * THREADS
    errors: list[str] = []
    barrier = threading.Barrier(THREADS)

    def sender(k: int) -> None:
        order = readings[:]
        random.Random(k).shuffle(order)
        try:
            barrier.wait()
            for i in range(0, len(order), BATCH):
                stored[k] += ingest_tuples(order[i : i + BATCH])
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connections.close_all()

    workers = [threading.Thread(target=sender, args=(k,)) for k in range(THREADS)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    rows = set(
        Reading.objects.filter(
            observed_at__gte=start_at, observed_at__lt=start_at + timedelta(1)
        ).values_list("device_id", "element", "observed_at", "value")
    )
    return {
        "mode": mode,
        "hung": sum(w.is_alive() for w in workers),
        "errors": errors,
        "readings": len(readings),
        "stored": stored,
        "rows": len(rows),
        "rows_match": rows == {(d, e, t, v) for d, e, t, v, _f in readings},
    }


if __name__ == "__main__":
    django.setup()
    ids = devices(6)
    for day, mode in enumerate(("copy-first", "staged-only")):
        print(json.dumps(run(mode, ids, day)))
