"""The calling thread's connection: which backend it is, and its hygiene outside requests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import close_old_connections, connection

from aquifer.telemetry.store.postgres import _Postgres
from aquifer.telemetry.store.sqlite import _SQLite


def _backend() -> _SQLite | _Postgres:
    if connection.vendor == "sqlite":
        return _SQLite()
    if connection.vendor == "postgresql":
        return _Postgres()
    raise NotImplementedError(f"the readings store does not support {connection.vendor}")


def _tidy_connection() -> None:
    """Replace the thread's connection if it broke (or, on a server, outlived CONN_MAX_AGE).

    SQLite is a file, not a server: its connections do not time out, and closing the last one
    checkpoints the WAL into the database file — about 5 ms, more than inserting the batch.
    So a worker thread keeps its SQLite connection across batches (whatever CONN_MAX_AGE
    says, which is 0 for SQLite in settings) and only drops one that is no longer usable.
    """
    if connection.vendor != "sqlite":
        close_old_connections()
    elif connection.connection is not None and connection.errors_occurred:
        if connection.is_usable():
            connection.errors_occurred = False
        else:
            connection.close()


@contextmanager
def _worker_connection() -> Iterator[None]:
    """Connection hygiene for callers outside the request cycle (gateway worker threads)."""
    managed = not connection.in_atomic_block
    if managed:
        _tidy_connection()
    try:
        yield
    finally:
        if managed:
            _tidy_connection()
