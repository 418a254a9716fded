"""Group commit: :class:`BatchWriter` collects the readings of many frames and commits them
with one ``ingest`` call, then tells each frame's waiter."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aquifer.telemetry.writer import Upkeep

__all__ = ["BatchWriter", "RunDb", "Waiter"]

log = logging.getLogger("aquifer.telemetry.gateway")

#: How blocking work is run: ``await run_db(fn, *args, **kwargs)``.
RunDb = Callable[..., Awaitable[Any]]
#: Who hears that a submission was committed: a future, or a callback given ``None`` (committed)
#: or the exception that kept the rows out (:meth:`BatchWriter.submit_nowait`).
Waiter = asyncio.Future[None] | Callable[[BaseException | None], object]


class BatchWriter:
    """One task that commits the readings of many frames together (group commit).

    :meth:`submit` waits until the rows are committed (or raises what the commit raised).
    Rows are collected for up to ``max_delay`` seconds after the oldest waiting submission, or
    until ``max_rows`` rows wait, then written with one ``ingest`` call in ``run_db`` (at most
    ``max_rows`` rows a call, whole submissions only; ``max_rows=1, max_delay=0`` is a commit
    per frame). ``commit``, if given, replaces ``run_db(ingest, rows)`` (the gateway's writer
    process: :meth:`aquifer.telemetry.writer.ProcessWriter.ingest`). Submissions arriving
    during a commit wait for the next one. If a batch fails,
    its submissions are retried one by one, so one bad frame cannot keep the others from being
    stored and acknowledged.

    A submission may carry the frame its rows came in (``frame``: a
    :data:`~aquifer.telemetry.store.FramePlain`, the bytes as received): the batch's frames
    go to the same call, ``ingest(rows, frames)``, which archives them in the readings'
    transaction (a batch without frames is ``ingest(rows)``, as before).
    """

    def __init__(
        self,
        ingest: Callable[[Sequence[Any]], int],
        *,
        run_db: RunDb = asyncio.to_thread,
        max_rows: int = 5000,
        max_delay: float = 0.02,
        commit: Callable[..., Awaitable[Any]] | None = None,
    ) -> None:
        self._ingest = ingest
        self._run_db = run_db
        self._commit_rows = commit or functools.partial(run_db, ingest)
        self.max_rows = max_rows
        self.max_delay = max_delay
        self._pending: deque[tuple[Sequence[Any], Waiter, float, Any]] = deque()
        self._rows = 0
        self._wakeup = asyncio.Event()
        self._full = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self.stats: Counter[str] = Counter()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="aquifer-batch-writer")

    async def submit(self, rows: Sequence[Any], frame: Any = None) -> None:
        """Commit ``rows`` (and archive ``frame``) with the next batch; return once
        committed."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.submit_nowait(rows, fut, frame)
        await fut

    def submit_nowait(self, rows: Sequence[Any], done: Waiter, frame: Any = None) -> None:
        """Commit ``rows`` with the next batch; ``done`` hears how it went.

        ``done`` is a future (resolved once committed, or given the commit's exception) or a
        callback, called from the writer's task with ``None`` once the rows are committed or
        with the exception that kept them out (the gateway's connections: no task and no
        future per frame). Raises ``RuntimeError`` at once when the writer is shutting down.
        """
        if self._closing:
            raise RuntimeError("the writer is shutting down")
        if self._task is None:
            self.start()
        self._pending.append((rows, done, time.monotonic(), frame))
        self._rows += len(rows)
        self._wakeup.set()
        if self._rows >= self.max_rows:
            self._full.set()

    async def close(self) -> None:
        """Commit what waits, then stop."""
        self._closing = True
        self._wakeup.set()
        self._full.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        while True:
            # The state is checked before waiting (not the event after it): a close() that
            # came during a commit, with more submissions pending, must not be lost.
            if not self._pending:
                if self._closing:
                    return
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            wait = self.max_delay - (time.monotonic() - self._pending[0][2])
            if wait > 0 and self._rows < self.max_rows and not self._closing:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await self._full.wait()
            pending = self._pending
            batch = [pending.popleft()]
            taken = len(batch[0][0])
            while pending and taken + len(pending[0][0]) <= self.max_rows:
                batch.append(pending.popleft())
                taken += len(batch[-1][0])
            self._rows -= taken
            if self._rows < self.max_rows:
                self._full.clear()
            await self._commit([(part, fut, frame) for part, fut, _t, frame in batch])

    def _call(self, rows: Sequence[Any], frames: list[Any]) -> Awaitable[Any]:
        return self._commit_rows(rows, frames) if frames else self._commit_rows(rows)

    async def _commit(self, batch: list[tuple[Sequence[Any], Waiter, Any]]) -> None:
        rows = [r for part, _w, _f in batch for r in part]
        frames = [f for _p, _w, f in batch if f is not None]
        started = time.perf_counter()
        try:
            inserted = await self._call(rows, frames)
        except Exception as exc:
            self.stats["failed_batches"] += 1
            if len(batch) == 1:
                log.error("commit of %d rows failed: %s", len(rows), exc)
                _settle_all([batch[0][1]], exc)
                return
            log.warning("commit of %d rows failed (%s); committing frame by frame", len(rows), exc)
            for part, waiter, frame in batch:
                try:
                    inserted = await self._call(part, [] if frame is None else [frame])
                except Exception as one:
                    log.error("commit of a frame's %d rows failed: %s", len(part), one)
                    _settle_all([waiter], one)
                else:
                    self.stats["inserted"] += int(inserted or 0)
                    self.stats["rows"] += len(part)
                    _settle_all([waiter], None)
            return
        self.stats["batches"] += 1
        self.stats["rows"] += len(rows)
        self.stats["inserted"] += int(inserted or 0)
        self.stats["commit_ms"] += int((time.perf_counter() - started) * 1000)
        _settle_all([waiter for _part, waiter, _f in batch], None)


def _ingest_noting(
    ingest: Callable[..., int], upkeep: Upkeep, rows: Any, frames: Sequence[Any] = ()
) -> int:
    """``ingest(rows, frames)``, and tell ``upkeep`` what it stored (the writer-thread mode)."""
    inserted = ingest(rows, frames) if frames else ingest(rows)
    upkeep.stored(int(inserted or 0))
    return inserted


def _settle_all(waiters: list[Waiter], exc: BaseException | None) -> None:
    """Tell the waiters how their commit went. Futures are resolved now (their tasks run
    later); callbacks are called together, soon: the writer first hands the next batch to
    the database, then the acknowledgements are written while it commits."""
    callbacks: list[Callable[[BaseException | None], object]] = []
    for waiter in waiters:
        if isinstance(waiter, asyncio.Future):
            _settle(waiter, exc)
        else:
            callbacks.append(waiter)
    if callbacks:
        asyncio.get_running_loop().call_soon(_call_all, callbacks, exc)


def _call_all(
    callbacks: list[Callable[[BaseException | None], object]], exc: BaseException | None
) -> None:
    for callback in callbacks:
        try:
            callback(exc)
        except Exception:  # one connection's trouble must not keep the others waiting
            log.exception("a commit callback failed")


def _settle(fut: asyncio.Future[None], exc: BaseException | None) -> None:
    if fut.done():
        return
    if exc is None:
        fut.set_result(None)
    else:
        fut.set_exception(exc)
        fut.exception()  # retrieved: a cancelled waiter must not log "never retrieved"
