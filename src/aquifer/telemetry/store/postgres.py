"""The PostgreSQL backend: binary COPY (straight in, or through a stage on a resend), the
fence that tells the merge which ids are settled, the rollup merge in SQL."""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from aquifer.telemetry.store.rows import Plain
from aquifer.telemetry.store.tables import (
    _DAILY,
    _HOURLY,
    _MAX_ID,
    _READING,
    _REJECTED,
    _ROLLUP_COLS,
    _merge_sql,
)


def _index_order(row: Plain) -> tuple[Any, Any, Any]:
    """The order both PostgreSQL paths insert in: device, time, element (code points, as
    ``COLLATE "C"``)."""
    return row[0], row[2], row[1]


class _Postgres:
    """PostgreSQL: binary COPY straight into the readings (the fast path), or, when a batch
    holds a reading stored before, COPY into a staging table and one ``INSERT … SELECT … ON
    CONFLICT DO NOTHING``; the rollup merge aggregates an id range of the readings in SQL.

    Both paths insert in one key order (device, time, element by code point: Python's
    ``sorted``, ``COLLATE "C"``). Two concurrent batches meeting on a key wait for each
    other, and waiting in one order only, they never deadlock, whatever order their devices
    sent them in.

    Ids come from a sequence and concurrent batches commit out of id order, so the merge
    first makes sure every id up to its range's end is settled (committed or rolled back):
    each ingest holds a shared advisory lock (the *fence*) from before its insert takes ids
    until it commits; :meth:`settled` takes it exclusively for a moment — every batch
    inserting then has committed, every later one takes ids above the largest it reads.
    """

    TEXT_TIMES = False
    FENCE = (0x41515246, 0)  # "AQRF": held shared by every ingest, exclusively by settled()
    TAKE_FENCE = f"SELECT pg_advisory_xact_lock_shared({FENCE[0]}, {FENCE[1]})"

    # The fast path. A conflict raises UniqueViolation: the savepoint is rolled back (the
    # rows copied so far with it) and the batch takes the slow path.
    SAVEPOINT = "aquifer_ingest_copy"
    COPY_READINGS = (
        f"COPY {_READING} (device_id, element, observed_at, value, flags, received_at) "
        "FROM STDIN (FORMAT BINARY)"
    )
    COPY_READING_TYPES = ("int8", "varchar", "timestamptz", "float8", "int2", "timestamptz")
    #: After a batch that held a stored reading, this many batches (of this process) take
    #: the slow path straight away: a device resending its history sends many such batches,
    #: and a failed COPY costs about a batch.
    SLOW_AFTER_CONFLICT = 16
    _slow_left = 0

    # The slow path.
    STAGE = "aquifer_reading_stage"
    CREATE_STAGE = (
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGE} (device_id bigint NOT NULL, "
        "element varchar(32) NOT NULL, observed_at timestamptz NOT NULL, "
        "value double precision NOT NULL, flags smallint NOT NULL) ON COMMIT DELETE ROWS"
    )
    COPY = (
        f"COPY {STAGE} (device_id, element, observed_at, value, flags) FROM STDIN (FORMAT BINARY)"
    )
    COPY_TYPES = ("int8", "varchar", "timestamptz", "float8", "int2")
    INGEST = (
        f"{TAKE_FENCE}; "
        f"INSERT INTO {_READING} (device_id, element, observed_at, value, flags, received_at) "
        f"SELECT device_id, element, observed_at, value, flags, %(now)s FROM {STAGE} "
        'ORDER BY device_id, observed_at, element COLLATE "C" '
        "ON CONFLICT (device_id, element, observed_at) DO NOTHING"
    )
    CLEAR_STAGE = f"DELETE FROM {STAGE}"
    # Connections (psycopg objects) on which the staging table exists.
    _staged: weakref.WeakSet[Any] = weakref.WeakSet()

    # Aggregate an id range of the readings per hour (hp); merge those into the hourly
    # rollup and, grouped by day, into the daily one.
    MERGE = (
        "WITH hp AS (SELECT device_id, element, date_trunc('hour', observed_at, %(tz)s) AS hour, "
        "count(*) AS n, min(value) AS mn, max(value) AS mx, sum(value) AS s, "
        "(array_agg(value ORDER BY observed_at))[1] AS f, "
        "(array_agg(value ORDER BY observed_at DESC))[1] AS l, "
        "min(observed_at) AS fa, max(observed_at) AS la "
        f"FROM {_READING} WHERE id > %(low)s AND id <= %(high)s "
        f"AND device_id >= %(first)s AND device_id < %(end)s AND flags & {_REJECTED} = 0 "
        "GROUP BY 1, 2, 3), "
        f"h AS (INSERT INTO {_HOURLY} ({_ROLLUP_COLS}) "
        "SELECT device_id, element, hour, n, mn, mx, s, f, l, fa, la FROM hp "
        f"ORDER BY 1, 2, 3 {_merge_sql(_HOURLY)}) "
        f"INSERT INTO {_DAILY} ({_ROLLUP_COLS}) "
        "SELECT device_id, element, date_trunc('day', hour, %(tz)s) AS day, sum(n), min(mn), "
        "max(mx), sum(s), (array_agg(f ORDER BY fa))[1], (array_agg(l ORDER BY la DESC))[1], "
        f"min(fa), max(la) FROM hp GROUP BY 1, 2, 3 ORDER BY 1, 2, 3 {_merge_sql(_DAILY)}"
    )

    def ingest(self, cursor: Any, rows: Sequence[Plain], texts: dict[datetime, str],
               received_at: datetime) -> int:  # fmt: skip
        # Duplicates within the batch are dropped here, the first kept: one INSERT cannot
        # be relied on to keep the first of two conflicting rows.
        batch = {(r[0], r[1], r[2]): r for r in reversed(rows)}
        unique = list(batch.values()) if len(batch) < len(rows) else rows
        if _Postgres._slow_left > 0:
            _Postgres._slow_left -= 1
        elif self._copy_fresh(cursor, unique, received_at):
            return len(unique)
        else:
            _Postgres._slow_left = self.SLOW_AFTER_CONFLICT
        return self._insert_new(cursor, unique, received_at)

    def _copy_fresh(self, cursor: Any, rows: Sequence[Plain], received_at: datetime) -> bool:
        """The fast path: COPY ``rows`` into the readings in the key order of both paths
        (:func:`_index_order`), inside a savepoint; False (and nothing written) when one of
        them was stored already."""
        from psycopg.errors import UniqueViolation

        raw = cursor.cursor
        raw.execute(f"{self.TAKE_FENCE}; SAVEPOINT {self.SAVEPOINT}")
        try:
            with raw.copy(self.COPY_READINGS) as copy:
                copy.set_types(self.COPY_READING_TYPES)
                write = copy.write_row
                for d, e, t, v, f in sorted(rows, key=_index_order):
                    write((d, e, t, float(v), f, received_at))
        except UniqueViolation:
            raw.execute(f"ROLLBACK TO SAVEPOINT {self.SAVEPOINT}")
            return False
        raw.execute(f"RELEASE SAVEPOINT {self.SAVEPOINT}")
        return True

    def _insert_new(self, cursor: Any, rows: Sequence[Plain], received_at: datetime) -> int:
        """The slow path: the rows not stored yet; how many."""
        raw = connection.connection
        if raw not in self._staged:
            # Created inside the transaction: it only exists once that commits.
            cursor.execute(self.CREATE_STAGE)
            transaction.on_commit(lambda: self._staged.add(raw))
        with cursor.cursor.copy(self.COPY) as copy:
            copy.set_types(self.COPY_TYPES)
            write = copy.write_row
            for d, e, t, v, f in rows:
                write((d, e, t, float(v), f))
        cursor.execute(self.INGEST, {"now": received_at})
        cursor.nextset()
        inserted = int(cursor.rowcount)
        if connection.savepoint_ids:
            # Nested in a caller's transaction (tests): ON COMMIT DELETE ROWS will not run.
            cursor.execute(self.CLEAR_STAGE)
        return inserted

    def settled(self, cursor: Any) -> int:
        """The highest reading id below which every reading is committed or rolled back.

        The fence is a session lock, released at once whatever transaction the caller is
        in: it waits for the batches inserting now to commit and holds the next ones back
        only for the one read (READ COMMITTED: the read sees every batch committed before).
        """
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", list(self.FENCE))
        try:
            cursor.execute(_MAX_ID)
            return int(cursor.fetchone()[0])
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", list(self.FENCE))

    ID_RANGE_HINT = ""

    def merge(self, cursor: Any, low: int, high: int, first: int, end: int) -> None:
        params = {"low": low, "high": high, "first": first, "end": end}
        cursor.execute(self.MERGE, params | {"tz": settings.TIME_ZONE})
