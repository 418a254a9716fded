"""Bulk ingest of readings: ``telemetry.store.ingest`` against a raw insert of the same rows.

Sets up its own database — a temporary SQLite file, or with ``--db postgres`` a fresh
PostgreSQL database ``aquifer_bench_<pid>`` on the server of ``AQUIFER_BENCH_PG``
(default ``postgres://postgres@127.0.0.1:5432``), created and dropped by this script —
migrates it, and registers 100 devices on 100 wells.

Rows: 100 devices × 2 elements (depth to water, water temperature) every 15 minutes, cut
into batches of 1,000 rows, in two orders (both measured, each its own figures):

- ``live`` — time-major, what a gateway group-commits when catching up on its queue: a batch
  is 5 quarter hours of all 200 series, so it touches ~300 hourly and 200 daily rollup rows
  (the hardest case for rollups: 0.5 rollup rows per reading);
- ``backfill`` — series-major, a station uploading its stored history: a batch is one
  device's 500 quarter hours, touching ~250 hourly and ~6 daily rollup rows.

200,000 rows; ``--quick`` 20,000.

Measured, each in one transaction per batch, on emptied tables, best of ``--rounds`` (3):

- ``ingest``: ``store.ingest(batch)`` — validation, ``INSERT … ON CONFLICT DO NOTHING``
  (SQLite ``executemany``; PostgreSQL a binary ``COPY`` straight into the table inside a
  savepoint, in key order — a batch that meets stored readings goes through a staging table
  and ``INSERT … SELECT … ON CONFLICT``), connection hygiene, durable commit — **and the
  hourly and daily rollups**, paced as the gateway's writer process paces them
  (``telemetry.writer.RollupPacer``: once ``ROLLUP_CHUNK_ROWS`` readings wait, a window of
  them merged in slices of ``ROLLUP_SLICE_ROWS``; the rest at the end) but on the same
  thread, one slice after a batch (the writer merges beside its batches: this measures the
  work, not the overlap), inside the timing: every reading is in the rollups when the
  clock stops;
- ``ingest_only``: the same ``store.ingest`` calls without the rollup merges (what a
  device's acknowledgement waits for), and ``refresh``: the merges' own rate;
- ``baseline``: the same rows, same batches, same connection, as the plainest insert into
  the same table: ``executemany`` of ``INSERT`` (SQLite), ``COPY`` (PostgreSQL); no
  validation, no conflict handling, no rollups;
- ``resend``: ``ingest`` of every batch again (all duplicates: the idempotent path).

    python bench/ingest.py [--quick] [--db sqlite|postgres|both] [--rows N] [--batch B]

Prints one JSON object: per shape, rows per second of each and ``ratio`` = ingest (rollups
included) / baseline; the top-level ``ratio`` is the worse of the two (target ≥ 0.5). Rounds
alternate baseline and ingest on the same database, so a busy machine slows both alike;
``ratio`` compares the best round of each and ``ratio_rounds`` lists each round's own ratio.
``--db both`` runs each database in its own process and prints ``{"sqlite": …, "postgres": …}``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

ELEMENTS = ("depth_to_water", "water_temperature")
SHAPES = {
    "live": "time-major: 100 devices x 2 elements every 15 min; a batch = 5 quarter hours "
    "of all 200 series",
    "backfill": "series-major: each device's history in turn (full size: a batch is one "
    "device's 2 elements x 500 quarter hours)",
}
PG_SERVER = os.environ.get("AQUIFER_BENCH_PG", "postgres://postgres@127.0.0.1:5432")


@contextmanager
def bench_database(db: str) -> Iterator[dict[str, Any]]:
    """A fresh, migrated database for this process; removed afterwards."""
    tmp = Path(tempfile.mkdtemp(prefix="aquifer-bench-"))
    os.environ["AQUIFER_DATA_DIR"] = str(tmp)
    os.environ["DJANGO_SETTINGS_MODULE"] = "aquifer.config.settings"
    info: dict[str, Any] = {"db": db}
    pg_name = f"aquifer_bench_{os.getpid()}"
    if db == "postgres":
        import psycopg

        admin = PG_SERVER.replace("postgres://", "postgresql://", 1) + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {pg_name}")
            conn.execute(f"CREATE DATABASE {pg_name}")
        os.environ["DATABASE_URL"] = f"{PG_SERVER}/{pg_name}"
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", interactive=False, verbosity=0)
        with connection.cursor() as cursor:
            if db == "postgres":
                cursor.execute("SHOW server_version")
                info["server_version"] = cursor.fetchone()[0]
                cursor.execute("SHOW synchronous_commit")
                info["synchronous_commit"] = cursor.fetchone()[0]
            else:
                cursor.execute("SELECT sqlite_version()")
                info["sqlite_version"] = cursor.fetchone()[0]
                cursor.execute("PRAGMA journal_mode")
                info["journal_mode"] = cursor.fetchone()[0]
                cursor.execute("PRAGMA synchronous")
                info["synchronous"] = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(
                    cursor.fetchone()[0]
                )
        yield info
    finally:
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # best effort: Django may not have been set up
            pass
        if db == "postgres":
            import psycopg

            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)")
        shutil.rmtree(tmp, ignore_errors=True)


def make_devices(n: int, prefix: str = "bench") -> list[int]:
    """``n`` devices, each on its own well in 凤城镇 (positions spread a little)."""
    from django.db import transaction

    from aquifer.core.audit import audit_context
    from aquifer.registry.models import Device, Well

    ids = []
    with transaction.atomic(), audit_context(source="bench"):
        for i in range(n):
            well = Well(
                code=f"{prefix}-{i:04d}", depth_m=100, layer="shallow", purpose="monitoring"
            )
            well.set_location(112.417 + (i % 10) * 0.0005, 35.486 + (i // 10) * 0.0005)
            well.save()
            device = Device.objects.create(
                kind="level_logger", protocol="MQTT", station_address=f"{prefix}-{i:04d}", well=well
            )
            ids.append(device.pk)
    return ids


def make_rows(device_ids: list[int], n_rows: int, shape: str, seed: int = 1) -> list[Any]:
    """Every device reports both elements each quarter hour, ordered by ``shape``.

    ``live``: time-major (all devices' readings of a quarter hour, then the next: a gateway
    catching up on its queue); ``backfill``: series-major (one device's history after
    another: a station uploading what it stored during an outage).
    """
    from aquifer.telemetry.store import ReadingRow

    rng = np.random.default_rng(seed)
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    per_step = len(device_ids) * len(ELEMENTS)
    steps = -(-n_rows // per_step)
    depth = rng.uniform(5, 60, len(device_ids))
    noise = rng.normal(0, 0.01, (steps, len(device_ids)))
    rows = [
        (s, j, ReadingRow(d, el, t0 + timedelta(minutes=15 * s), value))
        for s in range(steps)
        for j, d in enumerate(device_ids)
        for el, value in (
            (ELEMENTS[0], round(float(depth[j] + noise[s, j]), 3)),
            (ELEMENTS[1], round(14.0 + float(noise[s, j]), 2)),
        )
    ]
    if shape == "backfill":
        rows.sort(key=lambda x: (x[1], x[0]))
    return [r for _s, _j, r in rows[:n_rows]]


def clear() -> None:
    from django.db import connection, transaction

    tables = ["telemetry_reading", "telemetry_readinghourly", "telemetry_readingdaily"]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")  # findings of other apps
        else:
            with transaction.atomic():
                for t in tables:
                    cursor.execute(f"DELETE FROM {t}")
            cursor.execute("VACUUM")


def baseline_insert(batch: list[Any]) -> None:
    """The plainest fast insert of a batch into the same table, in one transaction.

    As efficient as ingest where ingest is efficient: binary COPY on PostgreSQL; on SQLite
    each distinct time converted to Django's text form once.
    """
    from django.db import connection, transaction
    from django.utils import timezone

    now = timezone.now()
    cols = "device_id, element, observed_at, value, flags, received_at"
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            sql = f"COPY telemetry_reading ({cols}) FROM STDIN (FORMAT BINARY)"
            with cursor.cursor.copy(sql) as copy:
                copy.set_types(["int8", "varchar", "timestamptz", "float8", "int2", "timestamptz"])
                for r in batch:
                    copy.write_row((r.device_id, r.element, r.observed_at, r.value, r.flags, now))
        else:
            texts: dict[datetime, str] = {}
            for r in batch:
                if r.observed_at not in texts:
                    texts[r.observed_at] = str(r.observed_at.astimezone(UTC).replace(tzinfo=None))
            received = str(now.astimezone(UTC).replace(tzinfo=None))
            cursor.executemany(
                f"INSERT INTO telemetry_reading ({cols}) VALUES (%s, %s, %s, %s, %s, %s)",
                [
                    (r.device_id, r.element, texts[r.observed_at], r.value, r.flags, received)
                    for r in batch
                ],
            )


def timed(batches: list[list[Any]], insert: Callable[[list[Any]], Any]) -> float:
    t0 = time.perf_counter()
    for batch in batches:
        insert(batch)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="sqlite")
    parser.add_argument("--rows", type=int)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--devices", type=int, default=100)
    parser.add_argument("--rounds", type=int)
    args = parser.parse_args()
    n_rows = args.rows or (20_000 if args.quick else 200_000)
    rounds = args.rounds or 3
    if args.db == "both":
        both: dict[str, Any] = {"benchmark": "ingest", "target_ratio": 0.5}
        for db in ("sqlite", "postgres"):
            argv = [a for a in sys.argv[1:] if a not in ("--db", "both", "--db=both")]
            out = subprocess.run(
                [sys.executable, __file__, *argv, "--db", db],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            both[db] = json.loads(out.stdout.strip().splitlines()[-1])
        both["meets_target"] = all(both[db]["meets_target"] for db in ("sqlite", "postgres"))
        print(json.dumps(both, ensure_ascii=False))
        return

    with bench_database(args.db) as info:
        from django.db import connection
        from django.db.models import Sum

        from aquifer.telemetry.models import Reading, ReadingDaily, ReadingHourly
        from aquifer.telemetry.store import ingest, refresh_rollups, rollup_chunk_rows
        from aquifer.telemetry.writer import RollupPacer

        def with_rollups(batches: list[list[Any]], counts: list[int]) -> float:
            """Ingest each batch, merging rollups as the writer process does; seconds."""
            pacer = RollupPacer()

            def one(batch: list[Any]) -> None:
                n = ingest(batch)
                counts.append(n)
                pacer.stored(n)
                if pacer.owed():
                    pacer.run()

            t0 = time.perf_counter()
            timed(batches, one)
            pacer.finish()
            return time.perf_counter() - t0

        device_ids = make_devices(args.devices)
        shapes: dict[str, Any] = {}
        for shape in SHAPES:
            rows = make_rows(device_ids, n_rows, shape)
            batches = [rows[i : i + args.batch] for i in range(0, len(rows), args.batch)]
            # Warm-up (connection, statement caches, pages) on a few batches, then empty.
            timed(batches[:3], ingest)
            clear()
            timed(batches[:3], baseline_insert)
            clear()
            base_s, ingest_s, only_s, refresh_s, resend_s = [], [], [], [], []
            for _ in range(rounds):
                base_s.append(timed(batches, baseline_insert))
                assert Reading.objects.count() == len(rows)
                clear()
                counts: list[int] = []
                ingest_s.append(with_rollups(batches, counts))
                assert sum(counts) == len(rows) == Reading.objects.count()
                for model in (ReadingHourly, ReadingDaily):  # every reading merged, once
                    assert model.objects.aggregate(n=Sum("n"))["n"] == len(rows), model
                resent: list[int] = []
                resend_s.append(timed(batches, lambda b, r=resent: r.append(ingest(b))))
                assert sum(resent) == 0, "a resend stored rows again"
                hourly, daily = ReadingHourly.objects.count(), ReadingDaily.objects.count()
                clear()
                only: list[int] = []
                only_s.append(timed(batches, lambda b, c=only: c.append(ingest(b))))
                t0 = time.perf_counter()
                refresh_rollups()
                refresh_s.append(time.perf_counter() - t0)
                clear()
            ingest_rate = len(rows) / min(ingest_s)
            base_rate = len(rows) / min(base_s)
            only_rate = len(rows) / min(only_s)
            shapes[shape] = {
                "shape": SHAPES[shape],
                "ingest_rows_per_s": round(ingest_rate),
                "baseline_rows_per_s": round(base_rate),
                "ratio": round(ingest_rate / base_rate, 3),
                "ratio_rounds": [round(b / i, 3) for b, i in zip(base_s, ingest_s, strict=True)],
                "ingest_only_rows_per_s": round(only_rate),
                "ingest_only_ratio": round(only_rate / base_rate, 3),
                "refresh_rows_per_s": round(len(rows) / min(refresh_s)),
                "rollup_chunk_rows": rollup_chunk_rows(),
                "resend_rows_per_s": round(len(rows) / min(resend_s)),
                "ingest_ms_per_batch": round(1000 * min(ingest_s) / len(batches), 2),
                "ingest_only_ms_per_batch": round(1000 * min(only_s) / len(batches), 2),
                "baseline_ms_per_batch": round(1000 * min(base_s) / len(batches), 2),
                "rollup_rows": {"hourly": hourly, "daily": daily},
            }
        worst = min(shapes.values(), key=lambda x: x["ratio"])
        result = {
            "benchmark": "ingest",
            **info,
            "quick": args.quick,
            "rows": n_rows,
            "batch_rows": args.batch,
            "batches": -(-n_rows // args.batch),
            "devices": len(device_ids),
            "rounds": rounds,
            "ingest_rows_per_s": worst["ingest_rows_per_s"],
            "baseline_rows_per_s": worst["baseline_rows_per_s"],
            "ratio": worst["ratio"],
            "ratio_of": next(k for k, v in shapes.items() if v is worst),
            "target_ratio": 0.5,
            "meets_target": worst["ratio"] >= 0.5,
            "shapes": shapes,
            "vendor": connection.vendor,
            "python": platform.python_version(),
            "django": __import__("django").get_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
        }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
