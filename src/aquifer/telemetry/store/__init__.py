"""Writing readings: the bulk, idempotent, durable ingest path (and the quarantine).

:func:`ingest` stores a batch of :class:`ReadingRow` and returns how many were new::

    n = ingest([ReadingRow(device.pk, "depth_to_water", observed_at, 12.34)])

- **Validated first.** A row with an unknown element (not in
  :data:`aquifer.telemetry.elements.ELEMENTS`), a non-finite value, a naive time or flags out
  of range is refused with a ``ValueError`` naming its index, before anything is written.
  A device id that does not exist fails the foreign key: ``IntegrityError``, nothing written.
- **Idempotent.** ``UNIQUE (device, element, observed_at)`` and ``ON CONFLICT DO NOTHING``:
  a resent reading is stored once (the first value wins); a full resend returns 0.
- **Bulk.** One transaction per batch. SQLite: ``executemany`` of ``INSERT … ON CONFLICT DO
  NOTHING`` (in batch order: of two rows with one key the first is kept). PostgreSQL: binary
  ``COPY`` straight into the readings inside a savepoint; only when that meets a reading
  stored before (a resend), the savepoint is rolled back and the batch is copied into a
  session-local staging table and inserted with ``INSERT … SELECT … ON CONFLICT DO
  NOTHING`` (both in one key order, so concurrent batches never deadlock).
- **Rollups after the commit.** The hourly and daily rollups are not touched by ingest:
  :func:`refresh_rollups` merges every reading above a watermark (``RollupWatermark``, a
  reading id) into them in large chunks and moves the watermark in the same transaction —
  exactly once, and 3–4 times cheaper per reading than merging each small batch in the
  commit a device waits for. It runs on a thread of the gateway's writer process beside the
  batches, as the ``telemetry.rollups`` job, and first in every job that reads the rollups.
  On SQLite a slice's groups are computed outside the write transaction and merged in a
  short one, only if the watermark did not move meanwhile (its generation). Readers
  that must be current to the last reading (the chart series) add the readings above the
  watermark themselves (:func:`rollup_tail`), as TimescaleDB's real-time aggregates add the
  not yet materialised rows. SQLite: the readings above the watermark are those with an id
  up to the largest (one writer; AUTOINCREMENT never reuses an id). PostgreSQL: ids come
  from a sequence and batches commit out of order, so every ingest holds a shared advisory
  lock (the fence) while it inserts, and the refresh takes it exclusively for a moment to
  learn the id below which everything is settled.
- **Raw frames.** ``ingest(rows, frames)`` also appends the frames the readings came in
  (:data:`FramePlain`: the bytes as received) to the raw-frame archive
  (:class:`~aquifer.telemetry.models.RawFrame`) in the same transaction — one
  ``executemany`` (SQLite) or ``COPY`` (PostgreSQL) per batch, no round trip per frame. A
  resent frame is archived again (each reception is one row); its readings are stored once.
- **Plain tuples.** :func:`ingest_tuples` takes ``(device_id, element, observed_at, value,
  flags)`` tuples (the gateway's writer process): the same checks (one fast pass, then row by
  row for the message), without a :class:`ReadingRow` per reading.
- **Durable on return.** The transaction is ``atomic(durable=True)``: calling ingest inside
  another atomic block is an error (outside tests), because its commit would be the caller's.
  When ingest returns, the rows are committed and a device may be acknowledged.

  PostgreSQL commits with ``synchronous_commit = on`` (the default): the WAL is flushed to
  disk before COMMIT returns, so an acknowledged batch survives a process kill and a power
  loss. SQLite runs in WAL mode with ``synchronous=FULL`` by default (settings,
  ``AQUIFER_SQLITE_SYNCHRONOUS``): COMMIT fsyncs the ``-wal`` file, so an acknowledged batch
  survives a power loss too (one fsync per batch: group commit keeps it cheap). With
  ``NORMAL`` a process crash still loses nothing committed, but a power loss or OS crash can
  roll back the last transactions.
- **Any thread.** The gateway calls it through ``asyncio.to_thread``. It uses the calling
  thread's Django connection and, outside an atomic block, calls ``close_old_connections()``
  before (a connection broken or past ``CONN_MAX_AGE`` since the last batch is replaced) and
  after (as at the end of a request), so worker threads never keep dead or stale connections.
  On SQLite it only replaces a broken connection: there CONN_MAX_AGE is 0, and closing the
  last connection to the file checkpoints the WAL — about 5 ms a batch
  (:func:`_tidy_connection`).

The package, one idea a module: :mod:`~.rows` (:class:`ReadingRow` and validation),
:mod:`~.buckets` (local hours and days, aggregates in Python), :mod:`~.tables` (the tables and
the SQL both backends share), :mod:`~.sqlite` and :mod:`~.postgres` (the backends),
:mod:`~.connections` (the thread's connection and backend), :mod:`~.writes` (ingest, the
quarantine, WAL checkpoints) and :mod:`~.rollups` (the watermark, the merge, the tail, a
rebuild). Everything public is imported from here.
"""

from __future__ import annotations

from aquifer.telemetry.store.buckets import FIRST as FIRST
from aquifer.telemetry.store.buckets import FIRST_AT as FIRST_AT
from aquifer.telemetry.store.buckets import LAST as LAST
from aquifer.telemetry.store.buckets import LAST_AT as LAST_AT
from aquifer.telemetry.store.buckets import MAX as MAX
from aquifer.telemetry.store.buckets import MIN as MIN
from aquifer.telemetry.store.buckets import SUM as SUM
from aquifer.telemetry.store.buckets import Agg as Agg
from aquifer.telemetry.store.buckets import N as N
from aquifer.telemetry.store.buckets import Resolution, bucket_end, bucket_start
from aquifer.telemetry.store.rollups import (
    ROLLUP_CHUNK_ROWS,
    ROLLUP_MAX_LAG_S,
    ROLLUP_SLICE_ROWS,
    Mark,
    RefreshStep,
    TailBucket,
    rebuild_rollups,
    refresh_rollups,
    refresh_step,
    rollup_backlog,
    rollup_chunk_rows,
    rollup_mark,
    rollup_max_lag_s,
    rollup_slice_rows,
    rollup_tail,
    rollup_watermark,
)
from aquifer.telemetry.store.rows import (
    FramePlain,
    Plain,
    ReadingRow,
    validate,
    validate_frames,
    validate_tuples,
)
from aquifer.telemetry.store.writes import (
    checkpoint_wal,
    ingest,
    ingest_tuples,
    manual_checkpoints,
    quarantine,
)

__all__ = [
    "ROLLUP_CHUNK_ROWS",
    "ROLLUP_MAX_LAG_S",
    "ROLLUP_SLICE_ROWS",
    "FramePlain",
    "Mark",
    "Plain",
    "ReadingRow",
    "RefreshStep",
    "Resolution",
    "TailBucket",
    "bucket_end",
    "bucket_start",
    "checkpoint_wal",
    "ingest",
    "ingest_tuples",
    "manual_checkpoints",
    "quarantine",
    "rebuild_rollups",
    "refresh_rollups",
    "refresh_step",
    "rollup_backlog",
    "rollup_chunk_rows",
    "rollup_mark",
    "rollup_max_lag_s",
    "rollup_slice_rows",
    "rollup_tail",
    "rollup_watermark",
    "validate",
    "validate_frames",
    "validate_tuples",
]
