"""The SQLite backend: one writer at a time, times as Django's UTC text, the rollup merge
in two parts (groups computed outside the write transaction, merged in a short one)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from django.db import connection

from aquifer.telemetry.store.buckets import _buckets_of, _tz
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

_SQLITE_BUCKETS = "aquifer_reading_bucket"
_SQLITE_ROWS = "aquifer_rollup_rows"
_SQLITE_HOURS = "aquifer_rollup_hours"


def _sqlite_value_at(column: str) -> str:
    """SQLite: the value of the reading at time ``g.<column>`` of group ``g``: a group of one
    reading has it as its min; otherwise it is looked up on the readings' unique index."""
    return (
        f"CASE WHEN g.n = 1 THEN g.mn ELSE (SELECT x.value FROM {_READING} AS x "
        f"WHERE x.device_id = g.device_id AND x.observed_at = g.{column} "
        "AND x.element = g.element) END"
    )


class _SQLite:
    """SQLite: one writer at a time (BEGIN IMMEDIATE); times are UTC text, as Django writes.

    Ingest is one ``executemany`` of ``INSERT … ON CONFLICT DO NOTHING`` (rows in batch
    order, so of two rows with the same key the first is kept). The rollup merge takes the
    readings by id above the watermark: SQLite has one writer, and AUTOINCREMENT never reuses
    an id, so every id up to the largest one visible is committed.
    """

    INSERT = (
        f"INSERT INTO {_READING} (device_id, element, observed_at, value, flags, received_at) "
        "VALUES (%s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (device_id, element, observed_at) DO NOTHING"
    )
    TEXT_TIMES = True  # observed_at is bound as Django's text form
    BUCKETS = _SQLITE_BUCKETS
    CREATE_BUCKETS = (
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {BUCKETS} "
        "(t datetime PRIMARY KEY, hour datetime NOT NULL, day datetime NOT NULL) WITHOUT ROWID"
    )
    CLEAR_BUCKETS = f"DELETE FROM temp.{BUCKETS}"
    FILL_BUCKETS = f"INSERT INTO temp.{BUCKETS} (t, hour, day) VALUES (%s, %s, %s)"
    ID_RANGE_HINT = " NOT INDEXED"  # walk the id range, not an index of the other columns
    # A merge: the slice's usable readings copied once (one walk of the window's id range,
    # NOT INDEXED), each distinct time's hour and day from Python, the hourly groups (with
    # their first and last values) into a temporary table; then the hourly rollup merged
    # from it, and the daily one from its groups by day.
    CREATE_ROWS = (
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {_SQLITE_ROWS} "
        "(device_id integer, element text, observed_at datetime, value real)"
    )
    CLEAR_ROWS = f"DELETE FROM temp.{_SQLITE_ROWS}"
    FILL_ROWS = (
        f"INSERT INTO temp.{_SQLITE_ROWS} SELECT device_id, element, observed_at, value "
        f"FROM {_READING} NOT INDEXED WHERE id > %s AND id <= %s AND device_id >= %s "
        f"AND device_id < %s AND (flags & {_REJECTED}) = 0"
    )
    # As stored (text: CAST keeps Django from parsing it into a datetime).
    TIMES = f"SELECT DISTINCT CAST(observed_at AS TEXT) FROM temp.{_SQLITE_ROWS}"
    CREATE_HOURS = (
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {_SQLITE_HOURS} (device_id integer, "
        "element text, hour datetime, day datetime, n integer, mn real, mx real, s real, "
        "f real, l real, fa datetime, la datetime, PRIMARY KEY (device_id, element, hour)) "
        "WITHOUT ROWID"
    )
    CLEAR_HOURS = f"DELETE FROM temp.{_SQLITE_HOURS}"
    FILL_HOURS = (
        f"INSERT INTO temp.{_SQLITE_HOURS} SELECT g.device_id, g.element, g.hour, g.day, g.n, "
        f"g.mn, g.mx, g.s, {_sqlite_value_at('fa')}, {_sqlite_value_at('la')}, g.fa, g.la "
        "FROM (SELECT r.device_id, r.element, k.hour, k.day, count(*) AS n, "
        "min(r.value) AS mn, max(r.value) AS mx, sum(r.value) AS s, "
        "min(r.observed_at) AS fa, max(r.observed_at) AS la "
        # CROSS JOIN keeps the order rows → buckets (t has observed_at's affinity: its key
        # is used); day depends on hour alone.
        f"FROM temp.{_SQLITE_ROWS} AS r CROSS JOIN temp.{BUCKETS} AS k "
        "ON k.t = r.observed_at GROUP BY r.device_id, r.element, k.hour) AS g"
    )
    MERGE_HOURLY = (
        f"INSERT INTO {_HOURLY} ({_ROLLUP_COLS}) SELECT device_id, element, hour, n, mn, mx, "
        f"s, f, l, fa, la FROM temp.{_SQLITE_HOURS} WHERE true {_merge_sql(_HOURLY)}"
    )
    # A day's first reading is its first hour's, its last its last hour's: looked up on the
    # hours' key (by the time of the first or last reading it would scan every hour of the
    # series in the slice, per day: quadratic in a long backfill of one series).
    MERGE_DAILY = (
        f"INSERT INTO {_DAILY} ({_ROLLUP_COLS}) SELECT g.device_id, g.element, g.day, g.n, "
        f"g.mn, g.mx, g.s, (SELECT h.f FROM temp.{_SQLITE_HOURS} AS h "
        "WHERE h.device_id = g.device_id AND h.element = g.element AND h.hour = g.h0), "
        f"(SELECT h.l FROM temp.{_SQLITE_HOURS} AS h WHERE h.device_id = g.device_id "
        "AND h.element = g.element AND h.hour = g.h1), g.fa, g.la "
        "FROM (SELECT device_id, element, day, sum(n) AS n, min(mn) AS mn, max(mx) AS mx, "
        "sum(s) AS s, min(fa) AS fa, max(la) AS la, min(hour) AS h0, max(hour) AS h1 "
        f"FROM temp.{_SQLITE_HOURS} GROUP BY device_id, element, day) AS g "
        f"WHERE true {_merge_sql(_DAILY)}"
    )

    @staticmethod
    def dt(ts: datetime) -> str:
        """As Django's SQLite backend stores an aware datetime (naive UTC, ``str()``)."""
        return str(ts.astimezone(UTC).replace(tzinfo=None))

    # A connection that ingests keeps the pages it touches in memory: every series' last
    # index page, the current hour's and day's rollup rows (10,000 series: ~60 MB; SQLite's
    # default cache is 2 MB, and reading a page back from the OS costs a system call).
    CACHE_KIB = 98304

    def _tune(self, cursor: Any) -> None:
        raw = connection.connection
        if getattr(connection, "_aquifer_tuned", None) is not raw:  # (no weakref to it)
            cursor.execute(f"PRAGMA cache_size = -{self.CACHE_KIB}")
            if _CHECKPOINTS.manual:
                cursor.execute("PRAGMA wal_autocheckpoint")
                (pages,) = cursor.fetchone()
                if pages > 0:  # the settings' threshold, now checkpoint_wal's
                    _CHECKPOINTS.pages = int(pages)
                cursor.execute("PRAGMA wal_autocheckpoint = 0")
            connection._aquifer_tuned = raw  # type: ignore[attr-defined]

    def ingest(self, cursor: Any, rows: Sequence[Plain], texts: dict[datetime, str],
               received_at: datetime) -> int:  # fmt: skip
        self._tune(cursor)
        received = self.dt(received_at)
        cursor.executemany(
            self.INSERT, [(d, e, texts[t], v, f, received) for d, e, t, v, f in rows]
        )
        return int(cursor.rowcount)

    def settled(self, cursor: Any) -> int:
        """The highest reading id below which every reading is committed: the largest
        committed id (one writer at a time, and AUTOINCREMENT: a batch committing later
        takes ids above it)."""
        cursor.execute(_MAX_ID)
        return int(cursor.fetchone()[0])

    def prepare(self, cursor: Any, low: int, high: int, first: int, end: int) -> None:
        """The hourly groups of the readings with ids in (low, high] of devices in
        [first, end), in this connection's temporary tables: reads the
        readings only: outside a caller's transaction, in a deferred one of its own, which
        writes the temporary tables only and so takes no write lock on the database (one
        transaction: otherwise each row of an ``executemany`` would commit on its own)."""
        own = not connection.in_atomic_block
        if own:
            cursor.execute("BEGIN DEFERRED")
        try:
            for create, clear in (
                (self.CREATE_ROWS, self.CLEAR_ROWS),
                (self.CREATE_BUCKETS, self.CLEAR_BUCKETS),
                (self.CREATE_HOURS, self.CLEAR_HOURS),
            ):
                cursor.execute(create)
                cursor.execute(clear)
            cursor.execute(self.FILL_ROWS, [low, high, first, end])
            cursor.execute(self.TIMES)
            texts = [t for (t,) in cursor.fetchall()]
            cursor.executemany(self.FILL_BUCKETS, self._buckets(texts))
            cursor.execute(self.FILL_HOURS)
        except BaseException:
            if own:
                with suppress(Exception):  # the error raised is the one to see
                    cursor.execute("ROLLBACK")
            raise
        if own:
            cursor.execute("COMMIT")

    # Stored time text -> (local hour start, local day start) as stored, in the zone of
    # _bucket_zone: the slices of a window, and the windows of a backfill, meet the same
    # times again.
    _bucket_cache: dict[str, tuple[str, str]] = {}
    _bucket_zone: tzinfo | None = None
    BUCKET_CACHE_SIZE = 200_000

    def _buckets(self, texts: list[str]) -> list[tuple[str, str, str]]:
        """(time, local hour start, local day start) of each stored time text."""
        cache, tz = self._bucket_cache, _tz()
        if _SQLite._bucket_zone != tz or len(cache) > self.BUCKET_CACHE_SIZE:
            cache.clear()
            _SQLite._bucket_zone = tz
        missing = [t for t in texts if t not in cache]
        if missing:
            found = _buckets_of([_from_text(t) for t in missing], self.dt)
            cache.update(zip(missing, found, strict=True))
        return [(t, *cache[t]) for t in texts]

    def apply(self, cursor: Any) -> None:
        """Merge the groups :meth:`prepare` made into both rollups (in a write transaction)."""
        cursor.execute(self.MERGE_HOURLY)
        cursor.execute(self.MERGE_DAILY)


def _from_text(value: Any) -> datetime:
    """A stored SQLite time (naive UTC text) as an aware datetime."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


#: SQLite has one writer at a time. The threads of one process that write readings or
#: rollups (the gateway's writer process: ingest, and the rollup merge beside it) take
#: turns on this lock instead of on SQLite's busy handler, which sleeps 1, 2, 5, 10 … ms
#: between tries however soon the lock is free.
_SQLITE_WRITES = threading.Lock()


@dataclass
class _Checkpoints:
    manual: bool = False
    pages: int = 20_000


_CHECKPOINTS = _Checkpoints()
