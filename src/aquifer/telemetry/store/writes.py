"""The write path: :func:`ingest` (one durable transaction per batch), the quarantine, and
SQLite's WAL checkpoints beside the writers."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from aquifer.telemetry.models import QuarantinedFrame, QuarantineKind, RawFrame
from aquifer.telemetry.store.connections import _backend, _worker_connection
from aquifer.telemetry.store.latest import update_latest
from aquifer.telemetry.store.postgres import _Postgres
from aquifer.telemetry.store.rows import (
    FramePlain,
    Plain,
    ReadingRow,
    validate,
    validate_frames,
    validate_tuples,
)
from aquifer.telemetry.store.sqlite import _CHECKPOINTS, _SQLITE_WRITES, _SQLite

_RAW_FRAME = RawFrame._meta.db_table
_FRAME_COLS = "device_id, protocol, received_at, observed_at, raw, remote_addr"
_FRAME_INSERT = f"INSERT INTO {_RAW_FRAME} ({_FRAME_COLS}) VALUES (%s, %s, %s, %s, %s, %s)"
_FRAME_COPY = f"COPY {_RAW_FRAME} ({_FRAME_COLS}) FROM STDIN"


def ingest(rows: Sequence[ReadingRow], frames: Sequence[FramePlain] = ()) -> int:
    """Store ``rows`` once each, and ``frames`` (the frames they came in, as received) in the
    raw-frame archive, in one durable commit; return how many rows were new."""
    validate(rows)
    validate_frames(frames)
    plain = [(r.device_id, r.element, r.observed_at, r.value, r.flags) for r in rows]
    return _ingest(plain, frames)


def ingest_tuples(rows: Sequence[Plain], frames: Sequence[FramePlain] = ()) -> int:
    """:func:`ingest` for plain tuples ``(device_id, element, observed_at, value, flags)``:
    the same validation, idempotency, rollups and durable commit, without building a
    :class:`ReadingRow` per reading (the gateway's writer process calls this)."""
    validate_tuples(rows)
    validate_frames(frames)
    return _ingest(rows, frames)


def _archive(cursor: Any, backend: _SQLite | _Postgres, frames: Sequence[FramePlain]) -> None:
    """The frames into the archive, in the caller's transaction: SQLite one ``executemany``,
    PostgreSQL one ``COPY``."""
    if backend.TEXT_TIMES:
        dt = _SQLite.dt
        cursor.executemany(
            _FRAME_INSERT,
            [
                (d, p, dt(r), None if o is None else dt(o), bytes(raw), a[:64])
                for d, p, r, o, raw, a in frames
            ],
        )
        return
    with cursor.cursor.copy(_FRAME_COPY) as copy:
        for d, p, r, o, raw, a in frames:
            copy.write_row((d, p, r, o, bytes(raw), a[:64]))


def _ingest(rows: Sequence[Plain], frames: Sequence[FramePlain] = ()) -> int:
    if not rows:
        if frames:
            raise ValueError("frames without readings: the archive keeps the frames of readings")
        return 0
    backend = _backend()
    # Each distinct time converted once (a batch of reports shares a few times).
    texts = {t: _SQLite.dt(t) for t in {r[2] for r in rows}} if backend.TEXT_TIMES else {}
    with _worker_connection(), _writes(backend):
        received_at = timezone.now()
        with transaction.atomic(durable=True), connection.cursor() as cursor:
            new = backend.ingest(cursor, rows, texts, received_at)
            if frames:
                _archive(cursor, backend, frames)
            if new:
                update_latest(cursor, rows, texts if backend.TEXT_TIMES else None)
            return new


def manual_checkpoints() -> None:
    """SQLite: from now on, the connections of this process that ingest or merge rollups do
    not checkpoint the WAL when they commit; :func:`checkpoint_wal` does, beside them (the
    gateway's writer process). Without it, the commit that takes the WAL past
    ``wal_autocheckpoint`` pages copies it into the database file and syncs that before it
    returns: ~75 ms more for that batch, the acknowledgements' longest wait."""
    _CHECKPOINTS.manual = True


def checkpoint_wal(pages: int | None = None) -> tuple[int, int]:
    """SQLite: copy the WAL into the database file while the writers go on (a PASSIVE
    checkpoint: it copies what was committed when it started, and syncs the file). Once the
    WAL holds ``pages`` frames or more (default: the ``wal_autocheckpoint`` of the settings)
    and that copy caught up, the few frames committed meanwhile are copied while this
    process's writers wait (:data:`_SQLITE_WRITES`): with everything copied, the next write
    starts the WAL again from its beginning, so it stops growing. Returns the WAL's frames
    and how many are copied. PostgreSQL: nothing to do, ``(0, 0)``.

    Readers in other processes can hold back a checkpoint as they hold back SQLite's own
    (the WAL then grows until they finish their reads).
    """
    if connection.vendor != "sqlite":
        return 0, 0
    limit = pages if pages is not None else _CHECKPOINTS.pages
    with _worker_connection(), connection.cursor() as cursor:
        _SQLite()._tune(cursor)
        cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
        _busy, log, done = cursor.fetchone()
        if log >= limit and done == log:
            with _SQLITE_WRITES:
                cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
                _busy, log, done = cursor.fetchone()
        return int(log), int(done)


@contextmanager
def _writes(backend: _SQLite | _Postgres) -> Iterator[None]:
    if backend.TEXT_TIMES:  # SQLite
        with _SQLITE_WRITES:
            yield
    else:
        yield


def quarantine(
    kind: QuarantineKind | str,
    reason: str,
    raw: bytes = b"",
    *,
    protocol: str = "",
    remote_addr: str = "",
    station: str = "",
) -> QuarantinedFrame:
    """Keep a frame the gateway could not store as readings (committed on return)."""
    kind = QuarantineKind(kind)
    with _worker_connection(), transaction.atomic():
        return QuarantinedFrame.objects.create(
            kind=kind,
            reason=reason,
            raw_hex=raw.hex().upper(),
            protocol=protocol[:16],
            remote_addr=remote_addr[:64],
            station=station[:64],
        )
