"""The gateway's writer process: :func:`aquifer.telemetry.store.ingest` outside the event loop's
interpreter.

In one process, the event loop (streams, decoding, mapping, acknowledgements) and ``ingest``
(run in a worker thread) share one GIL: a commit of 5,000 readings that takes ~120 ms alone
takes ~290 ms inside the gateway, and every syscall of the loop waits for the GIL back from the
writer thread. :class:`ProcessWriter` runs ``ingest`` in a child process instead (started with
``spawn``, ``django.setup()`` in the child), so the database work runs on another core in
parallel with the loop. :class:`~aquifer.telemetry.gateway.BatchWriter` calls
:meth:`ProcessWriter.ingest` with each batch and awaits its answer; the answer comes only once
``ingest`` has returned in the child — the rows are committed — so the acknowledgement rule
is unchanged.

The wire: a Unix socket pair. Each request is a 4-byte big-endian length and a pickle of
``(rows, frames)`` — frames: the batch's raw frames for the archive
(:data:`~aquifer.telemetry.store.FramePlain`, often empty) — with rows as plain tuples
``(device_id, element, observed_at, value, flags)``
(a ``ReadingRow`` pickles five times slower), which the child hands as they are to
:func:`~aquifer.telemetry.store.ingest_tuples` (another target gets ``ReadingRow`` objects);
each answer ``(True, inserted)`` or
``(False, exception)``. One request at a time (the batch writer commits one batch at a time and
collects the next meanwhile).

Beside the batches, on a second thread and connection of the child, :class:`Upkeep` merges
what they stored into the rollups and checkpoints the WAL (SQLite), so neither lengthens the
commit a device waits for.

Failure handling: an exception in ``ingest`` is sent back and raised in the gateway (the batch
writer then retries frame by frame). If the child dies (killed, out of memory), the batch in
flight fails with ``ConnectionError`` — its frames are not acknowledged and the devices resend
— and the next batch starts a new child. The child ignores SIGINT and SIGTERM (the gateway
drains first, then closes the socket) and exits when the socket closes, so a gateway killed with
SIGKILL does not leave it behind for longer than its current commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import multiprocessing
import os
import pickle
import signal
import socket
import struct
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["DEFAULT_TARGET", "ProcessWriter"]

log = logging.getLogger("aquifer.telemetry.gateway")

#: The function the child calls with each batch (``module:attribute``).
DEFAULT_TARGET = "aquifer.telemetry.store:ingest"

_HEADER = struct.Struct(">I")
_START_TIMEOUT_S = 60.0


def _resolve(target: str) -> Callable[..., Any]:
    module, _, attr = target.partition(":")
    fn: Callable[..., Any] = getattr(importlib.import_module(module), attr)
    return fn


def _recv_exactly(sock: socket.socket, n: int) -> bytes | None:
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = sock.recv_into(view[got:])
        if k == 0:
            return None
        got += k
    return bytes(buf)


def _send(sock: socket.socket, obj: Any) -> None:
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    sock.sendall(_HEADER.pack(len(payload)) + payload)


def _picklable(exc: BaseException) -> BaseException:
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


class RollupPacer:
    """When the writer process merges what it stored into the rollups
    (:func:`aquifer.telemetry.store.refresh_step`); :class:`Upkeep` runs it.

    Merging a window of ``ROLLUP_CHUNK_ROWS`` readings costs a third to a half per reading of
    merging each batch in its own commit (a series' readings of several batches fold into
    one rollup row). So a window is opened once that many readings were stored (or
    ``ROLLUP_MAX_LAG_S`` after the oldest unmerged one), or when no batch has come for
    ``IDLE_S``, and merged slice by slice (about ``ROLLUP_SLICE_ROWS`` readings each).
    Readers do not wait for it: the chart series add the readings not merged yet
    themselves, jobs merge first.
    """

    IDLE_S = 0.5

    def __init__(self) -> None:
        from aquifer.telemetry.store import rollup_chunk_rows, rollup_max_lag_s, rollup_slice_rows

        self.chunk = rollup_chunk_rows()
        self.slice = rollup_slice_rows()
        self.max_lag = rollup_max_lag_s()
        self.pending = 0  # readings stored and not merged (as far as this process knows)
        self.since: float | None = None  # monotonic time of the oldest unmerged batch
        self.window_open = False

    @property
    def busy(self) -> bool:
        """Something is left to merge."""
        return self.pending > 0 or self.window_open

    def stored(self, inserted: int) -> None:
        if inserted > 0:
            self.pending += inserted
            if self.since is None:
                self.since = time.monotonic()

    def owed(self) -> bool:
        """A slice is due now."""
        if self.window_open:
            return True
        if self.pending <= 0 or self.since is None:
            return False
        return self.pending >= self.chunk or time.monotonic() - self.since >= self.max_lag

    def run(self, state: contextlib.AbstractContextManager[Any] | None = None) -> None:
        """One slice (of the open window, or of a new one however few readings wait);
        ``state``: held while this pacer's counts are updated (another thread reports
        batches stored)."""
        from aquifer.telemetry.store import refresh_step

        try:
            step = refresh_step(chunk_rows=self.chunk, slice_rows=self.slice)
        except Exception:  # the job and the next batch try again; ingest goes on
            log.exception("merging the rollups failed")
            with state or contextlib.nullcontext():
                self.pending, self.since, self.window_open = 0, None, False
            return
        with state or contextlib.nullcontext():
            self._after(step)

    def _after(self, step: Any) -> None:
        self.window_open = step.window_open
        # Nothing left (merged here, or by the job in another process): start counting anew.
        self.pending = max(0, self.pending - step.moved) if step.merged else 0
        if step.moved or not self.pending:
            self.since = time.monotonic() if self.pending else None

    def finish(self) -> None:
        """Merge everything left (the gateway is stopping)."""
        from aquifer.telemetry.store import refresh_rollups

        try:
            refresh_rollups()
        except Exception:  # the job merges it later
            log.exception("merging the rollups failed")
        self.pending, self.since, self.window_open = 0, None, False


class Upkeep:
    """The writer process's second thread, on its own connection: the rollup merge
    (:class:`RollupPacer`) and the WAL checkpoints (SQLite), beside the batches.

    - **Rollups.** A slice is computed while batches commit; on SQLite only its short
      write transaction takes turns with them (:func:`aquifer.telemetry.store.refresh_step`),
      on PostgreSQL nothing does.
    - **Checkpoints** (SQLite). The batches' commits do not checkpoint
      (:func:`aquifer.telemetry.store.manual_checkpoints`); after each slice, and at least
      every ``CHECKPOINT_EVERY_S`` while batches come, this thread copies the WAL into the
      database file while they go on (:func:`aquifer.telemetry.store.checkpoint_wal`), and
      once it is long lets them wait only for the last few frames. Before, the batch whose
      commit crossed ``wal_autocheckpoint`` did all of that and answered ~75 ms late: the
      longest acknowledgements (docs/operations.md).
    """

    CHECKPOINT_EVERY_S = 1.0

    def __init__(self, pacer: RollupPacer) -> None:
        self.pacer = pacer
        self.cond = threading.Condition()  # guards the pacer's counts and the fields below
        self.stopping = False
        self.last_batch = time.monotonic()
        self.last_checkpoint = time.monotonic()
        self.unchecked = False  # batches were stored since the last checkpoint
        self.thread = threading.Thread(target=self._run, name="aquifer-upkeep", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stored(self, inserted: int) -> None:
        """A batch was committed (``inserted`` new readings)."""
        with self.cond:
            self.pacer.stored(inserted)
            self.last_batch = time.monotonic()
            self.unchecked = True
            self.cond.notify()

    def _due(self) -> tuple[float | None, bool]:
        """(seconds until a slice or a checkpoint is due — 0 now, None not until a batch is
        stored —, whether a slice is the one due). Called holding ``cond``."""
        pacer, now = self.pacer, time.monotonic()
        waits: list[float] = []
        if pacer.owed():
            return 0.0, True
        if pacer.busy:
            waits.append(self.last_batch + pacer.IDLE_S - now)
            if pacer.since is not None:
                waits.append(pacer.since + pacer.max_lag - now)
            if min(waits) <= 0:
                return 0.0, True
        if self.unchecked:
            waits.append(self.last_checkpoint + self.CHECKPOINT_EVERY_S - now)
        if not waits:
            return None, False
        return max(0.0, min(waits)), False

    def _run(self) -> None:
        from django.db import connections

        try:
            while True:
                with self.cond:
                    while not self.stopping:
                        wait, merge = self._due()
                        if wait == 0.0:
                            break
                        self.cond.wait(wait)
                    if self.stopping:
                        return
                    self.unchecked = False
                if merge:
                    self.pacer.run(self.cond)
                self._checkpoint()
        finally:
            connections.close_all()

    def _checkpoint(self) -> None:
        from aquifer.telemetry.store import checkpoint_wal

        try:
            checkpoint_wal()
        except Exception:  # SQLite checkpoints itself when this connection closes
            log.exception("checkpointing the WAL failed")
        with self.cond:
            self.last_checkpoint = time.monotonic()

    def stop(self) -> None:
        """Stop after the current slice or checkpoint."""
        with self.cond:
            self.stopping = True
            self.cond.notify()
        self.thread.join()


def _child_main(sock: socket.socket, target: str, setup_django: bool) -> None:
    """The writer process: answer each batch with what ``target`` returned or raised."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)  # the gateway drains, then closes the socket
    if setup_django:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aquifer.config.settings")
        import django

        django.setup()
    from aquifer.telemetry.store import ReadingRow, ingest_tuples

    fn = _resolve(target)
    # The store's own ingest takes the tuples as they come (same checks, no ReadingRow each).
    plain = target == DEFAULT_TARGET
    pacer = RollupPacer() if plain else None
    upkeep = Upkeep(pacer) if pacer is not None else None
    if upkeep is not None:
        from aquifer.telemetry.store import manual_checkpoints

        manual_checkpoints()
        upkeep.start()
    _send(sock, (True, os.getpid()))  # ready
    while True:
        header = _recv_exactly(sock, _HEADER.size)
        if header is None:
            break
        body = _recv_exactly(sock, _HEADER.unpack(header)[0])
        if body is None:
            break
        rows, frames = pickle.loads(body)
        try:
            if plain:
                result = ingest_tuples(rows, frames)
            else:
                objects = [ReadingRow(*r) for r in rows]
                result = fn(objects, frames) if frames else fn(objects)
        except Exception as exc:
            answer: tuple[bool, Any] = (False, _picklable(exc))
        else:
            answer = (True, result)
            if upkeep is not None:
                upkeep.stored(int(result or 0))
        try:
            _send(sock, answer)
        except OSError:
            break
    if upkeep is not None:
        upkeep.stop()
    if pacer is not None and pacer.busy:  # the gateway is stopping: merge the rest
        pacer.finish()
    if setup_django:
        from django.db import connections

        connections.close_all()


class ProcessWriter:
    """``ingest`` in a child process; :meth:`ingest` is awaited by the batch writer.

    Parameters
    ----------
    target
        ``module:function`` called in the child with a list of ``ReadingRow``
        (:data:`DEFAULT_TARGET`: the store's ingest).
    setup_django
        Call ``django.setup()`` in the child (with the parent's ``DJANGO_SETTINGS_MODULE``).
    """

    def __init__(self, target: str = DEFAULT_TARGET, *, setup_django: bool = True) -> None:
        self.target = target
        self.setup_django = setup_django
        self._process: Any = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._lock = asyncio.Lock()
        self.restarts = -1  # the first start is not a restart

    @property
    def pid(self) -> int | None:
        return None if self._process is None else int(self._process.pid)

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    async def start(self) -> None:
        """Start the child and wait until it is ready (Django set up, target imported)."""
        if self._writer is not None:
            return
        ctx = multiprocessing.get_context("spawn")
        ours, theirs = socket.socketpair()
        process = ctx.Process(
            target=_child_main,
            args=(theirs, self.target, self.setup_django),
            name="aquifer-gateway-writer",
            daemon=True,
        )
        try:
            await asyncio.to_thread(process.start)
        finally:
            theirs.close()
        self._process = process
        self._reader, self._writer = await asyncio.open_unix_connection(sock=ours)
        try:
            async with asyncio.timeout(_START_TIMEOUT_S):
                await self._receive()
        except BaseException:
            await self._discard()
            raise
        self.restarts += 1
        log.info("writer process %s started (%s)", process.pid, self.target)

    async def _receive(self) -> tuple[bool, Any]:
        assert self._reader is not None
        try:
            header = await self._reader.readexactly(_HEADER.size)
            body = await self._reader.readexactly(_HEADER.unpack(header)[0])
        except asyncio.IncompleteReadError as exc:
            raise ConnectionError("the writer process ended") from exc
        answer: tuple[bool, Any] = pickle.loads(body)
        return answer

    async def ingest(self, rows: Sequence[Any], frames: Sequence[Any] = ()) -> int:
        """Commit ``rows`` (and archive ``frames``) in the child; what ingest returned (or
        raise).

        A row is a ``ReadingRow`` or already the tuple ``(device_id, element, observed_at,
        value, flags)`` (the gateway makes those: cheaper than dataclasses)."""
        plain = [
            r if type(r) is tuple else (r.device_id, r.element, r.observed_at, r.value, r.flags)
            for r in rows
        ]
        payload = pickle.dumps((plain, list(frames)), protocol=pickle.HIGHEST_PROTOCOL)
        async with self._lock:
            if self._writer is None or not self.alive:
                await self._discard()
                await self.start()
            assert self._writer is not None
            try:
                self._writer.write(_HEADER.pack(len(payload)))
                self._writer.write(payload)
                await self._writer.drain()
                ok, result = await self._receive()
            except (ConnectionError, OSError) as exc:
                log.error("writer process lost: %s", exc)
                await self._discard()
                raise ConnectionError(f"the writer process was lost: {exc}") from exc
            except asyncio.CancelledError:
                # The answer may still come: this child's stream is out of step now.
                await self._discard()
                raise
        if not ok:
            raise result
        return int(result or 0)

    async def _discard(self) -> None:
        """Close the socket (the child exits after its current commit) and reap it."""
        writer, process = self._writer, self._process
        self._reader = self._writer = None
        self._process = None
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
        if process is not None:
            await asyncio.to_thread(process.join, 30)
            if process.is_alive():
                process.kill()
                await asyncio.to_thread(process.join, 5)

    async def close(self) -> None:
        """Stop the child once its current commit is done."""
        async with self._lock:
            await self._discard()
