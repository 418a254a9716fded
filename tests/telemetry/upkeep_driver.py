"""Driver for test_writer_rollups.py, run as a script on a fresh SQLite database (its env):
the writer process's loop without the socket — batches ingested on the main thread while
an :class:`~aquifer.telemetry.writer.Upkeep` thread merges rollups and checkpoints the WAL
beside them, as in the gateway. Prints one JSON object of what it saw."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime, timedelta

import django

from tests.telemetry.concurrent_ingest import devices

T0 = datetime(2024, 5, 1, tzinfo=UTC)


def main(n_devices: int, batches: int, upkeep_thread: bool) -> dict[str, object]:
    """``upkeep_thread``: the Upkeep thread runs beside the batches; otherwise nothing
    checkpoints the WAL (the batches' commits leave it to that thread either way) and the
    rollups are merged at the end."""
    from django.conf import settings
    from django.db import connection
    from django.db.models import Max, Sum

    from aquifer.telemetry import store
    from aquifer.telemetry.models import Reading, ReadingDaily, ReadingHourly
    from aquifer.telemetry.store.sqlite import _CHECKPOINTS
    from aquifer.telemetry.writer import RollupPacer, Upkeep

    ids = devices(n_devices, prefix="uk")
    wal = f"{settings.DATABASES['default']['NAME']}-wal"
    pacer = RollupPacer()
    pacer.chunk, pacer.slice = 2_000, 400
    upkeep = Upkeep(pacer)
    store.manual_checkpoints()
    if upkeep_thread:
        upkeep.start()
    largest_wal = 0
    for b in range(batches):  # each batch: every device's 2 elements at 5 quarter hours
        at = [T0 + timedelta(minutes=15 * (5 * b + k)) for k in range(5)]
        rows = [
            (d, el, t, float(b), 0)
            for t in at
            for d in ids
            for el in ("depth_to_water", "water_temperature")
        ]
        n = store.ingest_tuples(rows)
        if upkeep_thread:
            upkeep.stored(n)
        largest_wal = max(largest_wal, os.path.getsize(wal))
    if upkeep_thread:
        upkeep.stop()
    pacer.finish()
    readings = Reading.objects.count()
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA page_size")
        (page,) = cursor.fetchone()
    return {
        "upkeep": upkeep_thread,
        "readings": readings,
        "hourly_n": ReadingHourly.objects.aggregate(n=Sum("n"))["n"],
        "daily_n": ReadingDaily.objects.aggregate(n=Sum("n"))["n"],
        "watermark": store.rollup_watermark(),
        "max_id": Reading.objects.aggregate(m=Max("id"))["m"],
        "largest_wal_pages": largest_wal // (page + 24),
        "checkpoint_pages": _CHECKPOINTS.pages,
    }


if __name__ == "__main__":
    django.setup()
    print(json.dumps(main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "upkeep")))
