"""The device gateway: SL 651 and SZY 206 over TCP, group-committed to the readings store.

``aquifer gateway`` runs :class:`Gateway` in one asyncio event loop:

- **One protocol object per connection** (devices keep their TCP connection open for hours;
  :class:`_Connection`, an :class:`asyncio.Protocol`: no task per connection or per frame).
  :class:`FrameSplitter` cuts frames out of the byte stream with the codecs' ``frame_size``;
  bytes that are no frame are kept in the quarantine, never dropped. A connection's frames are
  handled one at a time, in the order they came; what arrives meanwhile waits (reading pauses
  when that passes 64 KiB or two maximum frames, and while a device does not read its
  acknowledgements). The hot path, a report from a device whose verdict is in memory, runs in
  the read callback (:meth:`Gateway._fast_frame`); anything else (quarantine, a verdict that
  needs the database, keep-alives, multi-packet messages) runs :meth:`Gateway.handle_frame` in
  a task. A connection silent for ``IDLE_TIMEOUT_S`` is closed; a frame longer than
  ``MAX_FRAME_BYTES`` is refused.
- **Authentication** through :class:`~aquifer.telemetry.devices.DeviceCache`: the station
  address must be a registered, active device of that protocol, and an SL651 frame's password
  (4 hex digits) must be the device's secret. Unknown station → quarantine
  ``unknown_station`` (a possible illegal well); wrong password, inactive device, other
  protocol → ``auth_failed``; undecodable → ``malformed`` with the byte offset and reason.
  None of them is acknowledged.
- **Group commit**: decoded elements become canonical readings
  (:func:`aquifer.telemetry.mapping.map_values`) and go to one :class:`BatchWriter`, which
  collects the rows of every connection for up to ``BATCH_MAX_MS`` or ``BATCH_MAX_ROWS``,
  calls :func:`aquifer.telemetry.store.ingest` (in the writer process, or a worker thread;
  either way a :class:`~aquifer.telemetry.writer.Upkeep` thread merges the rollups and
  checkpoints the WAL beside the batches, in the writer process or in this one), and only
  when it has returned (committed) calls each frame's callback (or resolves its future:
  :meth:`BatchWriter.submit`, the MQTT subscriber). Only then does the connection send the
  acknowledgement (SL651: the down confirmation of 30H–3AH reports; SZY206: the confirmation
  of C0H/81H self-reports and 02H link checks). A resent frame is stored once (ingest is
  idempotent) and acknowledged again. A crash before the commit loses nothing acknowledged.
- **Drain on shutdown** (:meth:`Gateway.stop`, SIGTERM/SIGINT in the command): stop accepting,
  let frames in flight commit and be acknowledged, close the connections, flush the writer.

Every blocking call (ingest, quarantine, device lookups, hash checks) goes through
``run_db`` (default :func:`asyncio.to_thread`); tests inject one that runs on their own
database connection. Settings: ``settings.AQUIFER["GATEWAY"]``, see :class:`GatewayConfig`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import os
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from aquifer.telemetry.devices import AuthResult, DeviceCache
from aquifer.telemetry.hooks import device_status
from aquifer.telemetry.mapping import Value, map_values
from aquifer.telemetry.protocols import Frame, FrameError, sl651, szy206
from aquifer.telemetry.writer import ProcessWriter, RollupPacer, Upkeep

__all__ = [
    "BatchWriter",
    "FrameSplitter",
    "Gateway",
    "GatewayConfig",
    "RunDb",
]

log = logging.getLogger("aquifer.telemetry.gateway")

#: How blocking work is run: ``await run_db(fn, *args, **kwargs)``.
RunDb = Callable[..., Awaitable[Any]]
#: Who hears that a submission was committed: a future, or a callback given ``None`` (committed)
#: or the exception that kept the rows out (:meth:`BatchWriter.submit_nowait`).
Waiter = asyncio.Future[None] | Callable[[BaseException | None], object]


# --- configuration --------------------------------------------------------------------------

#: settings.AQUIFER["GATEWAY"] key → GatewayConfig attribute.
SETTINGS_KEYS = {
    "HOST": "host",
    "SL651_PORT": "sl651_port",
    "SZY206_PORT": "szy206_port",
    "IDLE_TIMEOUT_S": "idle_timeout",
    "MAX_FRAME_BYTES": "max_frame",
    "BATCH_MAX_ROWS": "batch_max_rows",
    "BATCH_MAX_MS": "batch_max_ms",
    "DEVICE_REFRESH_S": "device_refresh",
    "DRAIN_TIMEOUT_S": "drain_timeout",
    "SL651_ACK_END": "sl651_ack_end",
    "MAX_QUARANTINE_PER_CONNECTION": "max_quarantine",
    "BACKLOG": "backlog",
    "WRITER": "writer",
}


@dataclass(frozen=True)
class GatewayConfig:
    """Gateway settings (``settings.AQUIFER["GATEWAY"]`` keys in :data:`SETTINGS_KEYS`).

    A port of ``None`` leaves that protocol's server off; ``0`` picks a free port.
    """

    host: str = "0.0.0.0"
    sl651_port: int | None = 5651
    szy206_port: int | None = 5206
    idle_timeout: float = 600.0
    max_frame: int = 8192
    batch_max_rows: int = 5000
    batch_max_ms: float = 10.0
    device_refresh: float = 60.0
    drain_timeout: float = 10.0
    sl651_ack_end: str = "ESC"
    max_quarantine: int = 100
    backlog: int = 2048
    #: Where ingest runs: ``"process"`` (a writer process, :mod:`aquifer.telemetry.writer`)
    #: or ``"thread"`` (a worker thread of the gateway's interpreter).
    writer: str = "process"

    @classmethod
    def from_settings(cls, **overrides: Any) -> GatewayConfig:
        """Defaults, then ``settings.AQUIFER["GATEWAY"]``, then ``overrides`` (not ``None``).

        The environment variable ``AQUIFER_GATEWAY_WRITER`` (``process`` or ``thread``)
        overrides the ``WRITER`` setting (benchmarks compare the two).
        """
        from django.conf import settings

        values: dict[str, Any] = {}
        configured = getattr(settings, "AQUIFER", {}).get("GATEWAY", {})
        for key, attr in SETTINGS_KEYS.items():
            if key in configured:
                values[attr] = configured[key]
        if os.environ.get("AQUIFER_GATEWAY_WRITER"):
            values["writer"] = os.environ["AQUIFER_GATEWAY_WRITER"]
        values.update({k: v for k, v in overrides.items() if v is not None})
        names = {f.name for f in fields(cls)}
        unknown = set(values) - names
        if unknown:
            raise ValueError(f"unknown gateway settings: {', '.join(sorted(unknown))}")
        config = cls(**values)
        if config.sl651_ack_end not in ("ESC", "EOT"):
            raise ValueError("SL651_ACK_END must be ESC (stay online) or EOT (may go offline)")
        if config.writer not in ("process", "thread"):
            raise ValueError("WRITER must be process or thread")
        return config


# --- framing ----------------------------------------------------------------------------------


def _szy206_size(buf: bytes | bytearray) -> int | None:
    """szy206.frame_size, also refusing a first byte 68 that is not followed by L and 68."""
    size = szy206.frame_size(buf)
    if len(buf) >= 3 and buf[2] != 0x68:
        raise FrameError(2, f"second start byte is {buf[2]:02X}, 68 expected")
    return size


_PROTOCOLS: dict[str, tuple[Callable[[bytes | bytearray], int | None], tuple[bytes, ...]]] = {
    "SL651": (sl651.frame_size, (b"\x7e\x7e", b"\x01")),
    "SZY206": (_szy206_size, (b"\x68",)),
}


@dataclass(slots=True)
class Piece:
    """A cut of the stream: a frame to decode (``reason`` empty) or junk (with the reason)."""

    data: bytes
    reason: str = ""


class FrameSplitter:
    """Cuts frames of one protocol out of a TCP byte stream.

    :meth:`feed` returns the complete frames received so far and, between them, runs of
    bytes that cannot start a frame (``Piece.reason`` says why); it resynchronises on the next
    start marker. A frame whose length field announces more than ``max_frame`` bytes is junk.
    """

    def __init__(self, protocol: str, max_frame: int = 8192) -> None:
        self.size_of, self.starts = _PROTOCOLS[protocol]
        self.max_frame = max_frame
        self.buf = bytearray()

    def _next_start(self, begin: int) -> int:
        found = [i for i in (self.buf.find(s, begin) for s in self.starts) if i >= 0]
        if found:
            return min(found)
        # A marker may be cut by the end of what has arrived: keep its first byte.
        tail = len(self.buf) - 1
        if tail >= begin and any(len(s) > 1 and self.buf[tail] == s[0] for s in self.starts):
            return tail
        return len(self.buf)

    def feed(self, data: bytes) -> list[Piece]:
        buf = self.buf
        buf += data
        out: list[Piece] = []
        while buf:
            try:
                size = self.size_of(buf)
                reason = ""
                if size is not None and size > self.max_frame:
                    reason = f"frame of {size} bytes exceeds the maximum of {self.max_frame}"
            except FrameError as exc:
                size, reason = None, f"byte {exc.offset}: {exc.reason}"
            if reason:
                end = self._next_start(1)
                junk = bytes(buf[:end])
                del buf[:end]
                if out and out[-1].reason:
                    out[-1].data += junk
                else:
                    out.append(Piece(junk, reason))
                continue
            if size is None or len(buf) < size:
                break
            out.append(Piece(bytes(buf[:size])))
            del buf[:size]
        return out

    def pending(self) -> bytes:
        """Bytes received that do not (yet) make a frame."""
        return bytes(self.buf)


# --- group commit -----------------------------------------------------------------------------


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
    """

    def __init__(
        self,
        ingest: Callable[[Sequence[Any]], int],
        *,
        run_db: RunDb = asyncio.to_thread,
        max_rows: int = 5000,
        max_delay: float = 0.02,
        commit: Callable[[Sequence[Any]], Awaitable[Any]] | None = None,
    ) -> None:
        self._ingest = ingest
        self._run_db = run_db
        self._commit_rows = commit or functools.partial(run_db, ingest)
        self.max_rows = max_rows
        self.max_delay = max_delay
        self._pending: deque[tuple[Sequence[Any], Waiter, float]] = deque()
        self._rows = 0
        self._wakeup = asyncio.Event()
        self._full = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self.stats: Counter[str] = Counter()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="aquifer-batch-writer")

    async def submit(self, rows: Sequence[Any]) -> None:
        """Commit ``rows`` with the next batch; return once committed."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.submit_nowait(rows, fut)
        await fut

    def submit_nowait(self, rows: Sequence[Any], done: Waiter) -> None:
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
        self._pending.append((rows, done, time.monotonic()))
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
            await self._commit([(part, fut) for part, fut, _t in batch])

    async def _commit(self, batch: list[tuple[Sequence[Any], Waiter]]) -> None:
        rows = [r for part, _w in batch for r in part]
        started = time.perf_counter()
        try:
            inserted = await self._commit_rows(rows)
        except Exception as exc:
            self.stats["failed_batches"] += 1
            if len(batch) == 1:
                log.error("commit of %d rows failed: %s", len(rows), exc)
                _settle_all([batch[0][1]], exc)
                return
            log.warning("commit of %d rows failed (%s); committing frame by frame", len(rows), exc)
            for part, waiter in batch:
                try:
                    inserted = await self._commit_rows(part)
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
        _settle_all([waiter for _part, waiter in batch], None)


def _ingest_noting(ingest: Callable[[Sequence[Any]], int], upkeep: Upkeep, rows: Any) -> int:
    """``ingest(rows)``, and tell ``upkeep`` what it stored (the writer-thread mode)."""
    inserted = ingest(rows)
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


# --- the gateway ------------------------------------------------------------------------------


def _tune_gc() -> None:
    """Fewer, cheaper garbage collections under load.

    Each frame allocates a few dozen short-lived objects (no cycles among them); with the
    default gen-0 threshold (700) the collector runs every few frames and, over the thousands
    of long-lived connection objects, a full collection takes tens of milliseconds. Objects
    alive at start (Django, the device table) are frozen out of the collector's sight.
    """
    gc.freeze()
    threshold = gc.get_threshold()
    gc.set_threshold(max(threshold[0], 50_000), max(threshold[1], 20), max(threshold[2], 100))


#: SL651 functions whose up frames are reports the gateway stores and confirms (30H–3AH).
SL651_REPORTS = sl651.DATA_FUNCTIONS
#: SZY206 AFNs carrying values, and those confirmed (HM, RTUA: docs/protocols.md §2.7).
SZY206_VALUES = frozenset({0xC0, 0x81, 0xB0, 0xB2})
SZY206_CONFIRMED = frozenset({0xC0, 0x81, 0x02})


class _Connection(asyncio.Protocol):
    """One device's TCP connection (an :class:`asyncio.Protocol`: no task per connection).

    Frames are handled one at a time, in the order they arrived: while one is in flight
    (``busy``: waiting for its commit, or on the slow path in a task) what arrives waits in
    ``inbox`` (reading pauses when that grows past ``limit``). The hot path, a report from
    a device whose verdict is cached, runs in :meth:`data_received` and hands the rows to the
    writer with a callback (:meth:`_committed`) that writes the acknowledgement; everything
    else (quarantine, a verdict that needs the database, keep-alives, multi-packet messages)
    runs :meth:`Gateway.handle_frame` in a task.
    """

    def __init__(self, gateway: Gateway, protocol: str) -> None:
        self.gateway = gateway
        self.loop = asyncio.get_running_loop()
        self.loop_time = self.loop.time
        self.protocol = protocol
        self.remote = ""
        self.transport: asyncio.Transport | None = None
        self.splitter = FrameSplitter(protocol, gateway.config.max_frame)
        self.limit = max(65536, gateway.config.max_frame * 2)
        self.busy = False  # a frame is being handled: let it finish at shutdown
        self.last_seen = 0.0  # loop time of the last read (the idle sweep reads it)
        self.idle_expired = False  # closed by the idle sweep
        self.quarantined = 0
        self.reassembler: sl651.Reassembler | None = None
        # The last successful authentication on this connection: (station, secret), the device
        # cache's generation then, and the verdict. Reused while all three hold.
        self.auth_key: tuple[str, str | None] | None = None
        self.auth_generation = -1
        self.auth: AuthResult | None = None
        self.task: asyncio.Task[None] | None = None  # the slow path's task, if running
        self.pieces: deque[Piece] = deque()  # cut from the stream, not yet handled
        self.inbox = bytearray()  # received while busy, not yet cut
        self.in_flight: tuple[Frame, bytes, int, int, dict[str, bool]] | None = None
        self.ended = ""  # "eof" (the device closed its side) or "lost" (the connection broke)
        self.closing = False  # no more frames are handled
        self.closed = False
        self.read_paused = False
        self.write_paused = False
        self.waiting_write = False  # the next frame waits for the device to read its acks
        self.write_timer: asyncio.TimerHandle | None = None
        self.drained: asyncio.Future[None] | None = None  # stop() waits for it

    # --- asyncio.Protocol ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.remote = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer or "")
        gateway = self.gateway
        self.last_seen = self.loop_time()
        if gateway._stopping:
            self.closing = self.closed = True
            transport.close()
            return
        gateway._connections.add(self)
        gateway.stats["connections"] += 1

    def data_received(self, data: bytes) -> None:
        self.last_seen = self.loop_time()
        if self.busy or self.closing:
            if not self.closing:
                self.inbox += data
                if len(self.inbox) > self.limit and not self.read_paused:
                    self.read_paused = True
                    assert self.transport is not None
                    self.transport.pause_reading()
            return
        self.pieces.extend(self.splitter.feed(data))
        self._advance()

    def eof_received(self) -> bool:
        self.ended = self.ended or "eof"
        if not self.busy:
            self._advance()
        return True  # keep our side open: acknowledgements of frames in flight still go out

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None and not self.closing:
            log.info("%s %s: %s", self.protocol, self.remote, exc)
        self.ended = "lost"
        if self.write_timer is not None:
            self.write_timer.cancel()
            self.write_timer = None
        if self.closing:
            if not self.busy:
                self._closed()
        elif not self.busy:
            self._advance()
        elif self.waiting_write:  # nobody is left to read the acknowledgements
            self.waiting_write = self.busy = False
            self._advance()

    def pause_writing(self) -> None:
        """The device does not read its acknowledgements: handle no more frames until it does
        (closed after ``idle_timeout``)."""
        self.write_paused = True
        if self.write_timer is None:
            idle = self.gateway.config.idle_timeout
            self.write_timer = self.loop.call_later(idle, self._write_timeout)

    def resume_writing(self) -> None:
        self.write_paused = False
        if self.write_timer is not None:
            self.write_timer.cancel()
            self.write_timer = None
        if self.waiting_write:
            self.waiting_write = self.busy = False
            self._advance()

    # --- frames -------------------------------------------------------------------------------

    def _advance(self) -> None:
        """Handle what waits, in order, until a frame goes in flight or nothing is left."""
        gateway = self.gateway
        pieces = self.pieces
        while not self.closing:
            if gateway._stopping:
                self._finish(False)
                return
            if self.quarantined > gateway.config.max_quarantine:
                log.warning("%s %s: too many bad frames, closing", self.protocol, self.remote)
                gateway.stats["closed_bad"] += 1
                self._finish(False)
                return
            if not pieces:
                if self.inbox:
                    data = bytes(self.inbox)
                    self.inbox.clear()
                    if self.read_paused and self.ended != "lost":
                        self.read_paused = False
                        assert self.transport is not None
                        self.transport.resume_reading()
                    pieces.extend(self.splitter.feed(data))
                    continue
                if self.ended:
                    self._finish(self.ended == "eof")
                return
            piece = pieces.popleft()
            if not piece.reason and gateway._fast_frame(self, piece.data):
                if self.busy:
                    return  # in flight: _committed goes on
                continue
            self.busy = True
            self.task = self.loop.create_task(self._slow(piece))
            return

    def _committed(self, exc: BaseException | None) -> None:
        """The writer's word on the frame in flight: acknowledge it, go on with the next."""
        assert self.in_flight is not None
        frame, raw, device_id, rows, status = self.in_flight
        self.in_flight = None
        gateway = self.gateway
        if exc is not None:
            log.error("%s %s: not stored, not acknowledged: %s", self.protocol, frame.station, exc)
            gateway.stats["commit_failed"] += 1
        else:
            gateway.stats["readings"] += rows
            if status:
                gateway._status_changed(device_id, status)
            if isinstance(frame, sl651.SL651Frame):
                ack = sl651.acknowledge_raw(raw, end=gateway._ack_end)
                if ack is None:
                    ack = sl651.acknowledge(frame, end=gateway._ack_end)
            else:
                assert isinstance(frame, szy206.SZY206Frame)
                ack = szy206.confirm(frame) if frame.function in SZY206_CONFIRMED else b""
            if ack:
                self._write(ack)
        self._done()

    async def _slow(self, piece: Piece) -> None:
        """One piece the hot path does not take: junk, or a frame for handle_frame."""
        gateway = self.gateway
        try:
            if piece.reason:
                await gateway._quarantine(self, "malformed", piece.reason, piece.data)
            else:
                ack = await gateway.handle_frame(self, piece.data)
                if ack:
                    self._write(ack)
        except asyncio.CancelledError:  # stop() gave up waiting for it
            self.task = None
            self._finish(False)
            return
        except Exception:
            log.exception(
                "%s %s: unexpected error; closing the connection", self.protocol, self.remote
            )
            gateway.stats["errors"] += 1
            self.task = None
            self._finish(False)
            return
        self.task = None
        self._done()

    def _write(self, ack: bytes) -> None:
        if self.ended == "lost" or self.closing or self.transport is None:
            return
        self.transport.write(ack)
        self.gateway.stats["acks"] += 1

    def _done(self) -> None:
        """The frame in hand is finished: go on (unless the device is not reading)."""
        self.last_seen = self.loop_time()  # (a long commit is not silence)
        if self.closing:
            self.busy = False
            self._closed()
            return
        if self.write_paused and self.ended != "lost":
            self.waiting_write = True  # still busy: resume_writing goes on
            return
        self.busy = False
        self._advance()

    def _write_timeout(self) -> None:
        self.write_timer = None
        log.info("%s %s: the device does not read its acknowledgements", self.protocol,
                 self.remote)  # fmt: skip
        self.closing = True
        if self.transport is not None:
            self.transport.abort()
        if self.waiting_write:
            self.waiting_write = self.busy = False
        if not self.busy:
            self._closed()

    # --- closing ------------------------------------------------------------------------------

    def expire_idle(self) -> None:
        """Close for silence (the idle sweep); a partial frame is kept in the quarantine."""
        self.idle_expired = True
        log.info("%s %s idle for %.0f s: closing", self.protocol, self.remote,
                 self.gateway.config.idle_timeout)  # fmt: skip
        self.gateway.stats["idle_closed"] += 1
        self._finish(True)

    def _finish(self, keep_rest: bool) -> None:
        """Handle no more frames; quarantine a partial frame if ``keep_rest``; close."""
        if self.closing:
            return
        self.closing = True
        rest = self.splitter.pending()
        if keep_rest and rest and not self.gateway._stopping:
            self.busy = True
            self.task = self.loop.create_task(self._keep_rest(rest))
            return
        self._closed()

    async def _keep_rest(self, rest: bytes) -> None:
        try:
            await self.gateway._quarantine(
                self, "malformed", "byte 0: frame cut short (connection closed)", rest
            )
        finally:
            self.task = None
            self.busy = False
            self._closed()

    def _closed(self) -> None:
        self.closing = True
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()
        if self.closed:
            return
        self.closed = True
        if self.write_timer is not None:
            self.write_timer.cancel()
            self.write_timer = None
        self.gateway._connections.discard(self)
        if self.drained is not None and not self.drained.done():
            self.drained.set_result(None)

    def stop(self) -> asyncio.Future[None] | None:
        """Shutdown: close now if idle; else a future done once the frame in hand is."""
        if not self.busy:
            self._finish(False)
            return None
        if self.drained is None:
            self.drained = self.loop.create_future()
        return self.drained

    def abort(self) -> None:
        """Shutdown gave up waiting: close now."""
        if self.task is not None:
            self.task.cancel()
        self.closing = True
        self.busy = False
        self.waiting_write = False
        if self.transport is not None:
            self.transport.abort()
        self._closed()


def report_device_status(device_id: int, bits: dict[str, bool], at: datetime) -> int:
    """Tell the apps above of a device's status bits (the ``device_status`` hook); the
    alarms they opened."""
    return sum(device_status(device_id, bits, at))


class Gateway:
    """SL651 and SZY206 TCP servers feeding one group-commit writer.

    Parameters
    ----------
    config
        Ports, timeouts, batch size (:class:`GatewayConfig`).
    devices
        The device cache (a new one by default).
    ingest, quarantine
        The store's functions (:func:`aquifer.telemetry.store.ingest` and ``quarantine``).
    run_db
        How blocking calls run (:func:`asyncio.to_thread`; tests run them on their own
        thread and database connection).
    status_report
        Called (through ``run_db``) with a device id, the status bits its frame reported and
        the time, whenever they differ from the device's previous frame here: by default
        :func:`report_device_status` (the ``device_status`` hook: monitoring's alarms);
        ``None`` leaves them.
    writer
        A :class:`BatchWriter` to share (with the MQTT subscriber); one is made otherwise,
        committing in a writer process (``config.writer == "process"``, the default) when
        ``ingest`` and ``run_db`` are the defaults, else through ``run_db``.
    """

    def __init__(
        self,
        config: GatewayConfig | None = None,
        *,
        devices: DeviceCache | None = None,
        ingest: Callable[[Sequence[Any]], int] | None = None,
        quarantine: Callable[..., Any] | None = None,
        run_db: RunDb = asyncio.to_thread,
        writer: BatchWriter | None = None,
        status_report: Callable[[int, dict[str, bool], datetime], Any] | None = (
            report_device_status
        ),
    ) -> None:
        from aquifer.telemetry.store import ReadingRow

        self._row_type = ReadingRow
        default_store = ingest is None
        if ingest is None or quarantine is None:
            from aquifer.telemetry import store

            ingest = ingest or store.ingest
            quarantine = quarantine or store.quarantine
        self.config = config or GatewayConfig()
        self.devices = devices or DeviceCache(max_age=self.config.device_refresh * 2)
        self.run_db = run_db
        self._quarantine_fn = quarantine
        self.process_writer: ProcessWriter | None = None
        self.upkeep: Upkeep | None = None
        own_threads = run_db is asyncio.to_thread
        if writer is None and default_store and own_threads:
            if self.config.writer == "process":
                self.process_writer = ProcessWriter()
            else:  # ingest on worker threads: the upkeep on a thread of this process
                self.upkeep = Upkeep(RollupPacer())
                ingest = functools.partial(_ingest_noting, ingest, self.upkeep)
        self.writer = writer or BatchWriter(
            ingest,
            run_db=run_db,
            max_rows=self.config.batch_max_rows,
            max_delay=self.config.batch_max_ms / 1000,
            commit=None if self.process_writer is None else self.process_writer.ingest,
        )
        self._servers: dict[str, asyncio.Server] = {}
        self._connections: set[_Connection] = set()
        self._stopping = False
        self._refresher: asyncio.Task[None] | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self.ports: dict[str, int] = {}
        self.stats: Counter[str] = Counter()
        self._ack_end = sl651.ESC if self.config.sl651_ack_end == "ESC" else sl651.EOT
        self.status_report = status_report
        self._status_seen: dict[int, dict[str, bool]] = {}
        self._status_tasks: set[asyncio.Task[None]] = set()

    # --- life cycle ---------------------------------------------------------------------------

    async def start(self) -> dict[str, int]:
        """Load the devices, start the writer and the servers; returns the bound ports."""
        try:
            await self.run_db(self.devices.refresh)
        except Exception as exc:  # the database may come up later: lookups will retry
            log.error("could not load the devices: %s", exc)
        _tune_gc()
        if self.process_writer is not None:
            await self.process_writer.start()
        if self.upkeep is not None and not self.upkeep.thread.is_alive():
            from aquifer.telemetry.store import manual_checkpoints

            manual_checkpoints()
            self.upkeep.start()
        self.writer.start()
        loop = asyncio.get_running_loop()
        ports = {"SL651": self.config.sl651_port, "SZY206": self.config.szy206_port}
        for protocol, port in ports.items():
            if port is None:
                continue
            server = await loop.create_server(
                functools.partial(_Connection, self, protocol),
                self.config.host,
                port,
                backlog=self.config.backlog,
            )
            self._servers[protocol] = server
            self.ports[protocol] = server.sockets[0].getsockname()[1]
            log.info("%s listening on %s:%d", protocol, self.config.host, self.ports[protocol])
        self._refresher = asyncio.create_task(self._refresh_devices(), name="aquifer-devices")
        self._sweeper = asyncio.create_task(self._sweep_idle(), name="aquifer-idle")
        return dict(self.ports)

    async def stop(self) -> None:
        """Drain: stop accepting, let frames in flight commit and be acknowledged, close."""
        if self._stopping:
            return
        self._stopping = True
        for server in self._servers.values():
            server.close()
        for task in (self._refresher, self._sweeper):
            if task is not None:
                task.cancel()
        waits = [w for conn in list(self._connections) if (w := conn.stop()) is not None]
        if waits:
            _done, pending = await asyncio.wait(waits, timeout=self.config.drain_timeout)
            if pending:
                for conn in list(self._connections):
                    conn.abort()
        if self._status_tasks:  # status bits already handed over reach monitoring
            await asyncio.wait(list(self._status_tasks), timeout=self.config.drain_timeout)
        await self.writer.close()
        if self.process_writer is not None:
            await self.process_writer.close()
        if self.upkeep is not None:
            if self.upkeep.thread.is_alive():
                await asyncio.to_thread(self.upkeep.stop)
            if self.upkeep.pacer.busy:  # merge the rest
                await self.run_db(self.upkeep.pacer.finish)
        for server in self._servers.values():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 1)
        log.info("gateway stopped: %s", dict(self.stats))

    async def _refresh_devices(self) -> None:
        while True:
            await asyncio.sleep(self.config.device_refresh)
            try:
                await self.run_db(self.devices.refresh)
            except Exception as exc:
                log.warning("device cache refresh failed: %s", exc)

    async def _sweep_idle(self) -> None:
        """Close connections silent for ``idle_timeout`` (one task for all of them: cheaper
        than a timer around every read). A connection waiting for its commit is not idle;
        one is closed between ``idle_timeout`` and a quarter of it later."""
        idle = self.config.idle_timeout
        every = max(0.02, min(idle / 4, 5.0))
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(every)
            now = loop.time()
            for conn in list(self._connections):
                if not conn.busy and not conn.closing and now - conn.last_seen >= idle:
                    conn.expire_idle()

    @property
    def connections(self) -> int:
        return len(self._connections)

    # --- one connection -----------------------------------------------------------------------

    def _fast_frame(self, conn: _Connection, raw: bytes) -> bool:
        """The hot path, without a task: a report from a device whose verdict is in memory,
        with readings to store, is decoded, mapped and handed to the writer (the connection's
        :meth:`_Connection._committed` acknowledges it once committed); True then. False (and
        nothing done but caching a verdict) for anything else: :meth:`handle_frame` takes it.
        """
        protocol = conn.protocol
        try:
            if protocol == "SL651":
                frame: Frame = sl651.decode(raw)
            else:
                frame = szy206.decode(raw)
        except FrameError:
            return False
        if frame.direction != "up":
            return False
        secret: str | None
        if isinstance(frame, sl651.SL651Frame):
            if frame.packet_total is not None or frame.function not in SL651_REPORTS:
                return False
            secret = f"{frame.password:04X}"
        elif frame.function in SZY206_VALUES:
            secret = None
        else:
            return False
        station = frame.station
        devices = self.devices
        auth = conn.auth
        if (
            auth is None
            or conn.auth_key != (station, secret)
            or conn.auth_generation != devices.generation
            or devices.stale
        ):
            generation = devices.generation
            auth = devices.authenticate_cached(protocol, station, secret)
            if auth is None or not auth.ok:
                return False
            conn.auth_key, conn.auth_generation, conn.auth = (station, secret), generation, auth
        if auth.device is None:
            return False
        device_id = auth.device.id
        values, skipped, status = map_values(frame, received_at=datetime.now(UTC))
        if not values:
            return False
        rows = self._rows(device_id, values)
        try:
            self.writer.submit_nowait(rows, conn._committed)
        except RuntimeError:  # shutting down: handle_frame says so
            return False
        if skipped:
            log.debug("%s %s: left out %s", protocol, station, skipped)
        self.stats["frames"] += 1
        conn.busy = True
        conn.in_flight = (frame, raw, device_id, len(rows), status)
        return True

    def _rows(self, device_id: int, values: list[Value]) -> list[Any]:
        """What the writer takes: plain tuples down the writer process's pipe, else rows."""
        if self.process_writer is not None:
            return [(device_id, key, at, value, 0) for key, at, value in values]
        row = self._row_type
        return [row(device_id, key, at, value) for key, at, value in values]

    async def _quarantine(
        self, conn: _Connection, kind: str, reason: str, raw: bytes, station: str = ""
    ) -> bool:
        """Keep a frame in the quarantine; whether that was committed."""
        conn.quarantined += 1
        self.stats[f"quarantined_{kind}"] += 1
        log.info("%s %s quarantined (%s): %s", conn.protocol, conn.remote, kind, reason)
        try:
            await self.run_db(
                self._quarantine_fn,
                kind,
                reason,
                raw,
                protocol=conn.protocol,
                remote_addr=conn.remote,
                station=station,
            )
        except Exception as exc:
            log.error("could not quarantine a frame from %s (%s): %s", conn.remote, reason, exc)
            return False
        return True

    async def _authenticate(
        self, conn: _Connection, station: str, secret: str | None
    ) -> AuthResult | None:
        """The verdict, or ``None`` when it cannot be had now (database unreachable): the
        frame is then neither stored, quarantined nor acknowledged, and the device resends.

        A connection remembers its last successful verdict: the next frame with the same
        station and password reuses it while the device cache has not changed (reload, new
        device) and is not stale. Another station or password is verified afresh.
        """
        devices = self.devices
        key = (station, secret)
        if (
            conn.auth_key == key
            and conn.auth_generation == devices.generation
            and conn.auth is not None
            and not devices.stale
        ):
            return conn.auth
        protocol = conn.protocol
        generation = devices.generation
        result = devices.authenticate_cached(protocol, station, secret)
        if result is None:
            try:
                result = await self.run_db(self.devices.authenticate, protocol, station, secret)
            except Exception as exc:
                log.error("%s %s: cannot authenticate now: %s", protocol, station, exc)
                self.stats["auth_unavailable"] += 1
                return None
        if result.ok:
            conn.auth_key, conn.auth_generation, conn.auth = key, generation, result
        else:
            conn.auth_key, conn.auth = None, None
        return result

    async def handle_frame(self, conn: _Connection, raw: bytes) -> bytes:
        """Decode, authenticate, store one frame; returns the reply to send (``b""``: none)."""
        self.stats["frames"] += 1
        try:
            if conn.protocol == "SL651":
                frame: Frame = sl651.decode(raw)
            else:
                frame = szy206.decode(raw)
        except FrameError as exc:
            await self._quarantine(conn, "malformed", f"byte {exc.offset}: {exc.reason}", raw)
            return b""
        if frame.direction != "up":
            await self._quarantine(
                conn, "malformed", "a down frame (centre → station) sent by a station", raw,
                frame.station,
            )  # fmt: skip
            return b""
        if isinstance(frame, sl651.SL651Frame):
            return await self._sl651(conn, frame, raw)
        assert isinstance(frame, szy206.SZY206Frame)
        return await self._szy206(conn, frame, raw)

    async def _sl651(self, conn: _Connection, frame: sl651.SL651Frame, raw: bytes) -> bytes:
        auth = await self._authenticate(conn, frame.station, f"{frame.password:04X}")
        if auth is None:
            return b""
        if not auth.ok or auth.device is None:
            await self._quarantine(conn, auth.kind, auth.reason, raw, frame.station)
            return b""
        if frame.function == 0x2F:  # keep-alive: no reply (STD 6.6.4.2)
            return b""
        if frame.packet_total is not None:
            if conn.reassembler is None:
                conn.reassembler = sl651.Reassembler()
            try:
                message = conn.reassembler.add(frame)
            except FrameError as exc:
                await self._quarantine(
                    conn, "malformed", f"byte {exc.offset}: {exc.reason}", raw, frame.station
                )
                return b""
            if message is None:
                return b""  # more packets to come; one confirmation at the end
            frame = message
        if frame.function not in SL651_REPORTS:
            await self._quarantine(
                conn, "rejected_value",
                f"function {frame.function:02X}H ({frame.function_name_en}) is not a report "
                "the gateway stores", raw, frame.station,
            )  # fmt: skip
            return b""
        if not await self._store(conn, frame, raw, auth.device.id):
            return b""
        if frame.packet_total is None:  # one HEX packet: the reply from its header bytes
            ack = sl651.acknowledge_raw(raw, end=self._ack_end)
            if ack is not None:
                return ack
        return sl651.acknowledge(frame, end=self._ack_end)

    async def _szy206(self, conn: _Connection, frame: szy206.SZY206Frame, raw: bytes) -> bytes:
        # SZY206 up frames carry no password (only down frames have PW): the address is the
        # identity, as in the implementations the protocol notes follow.
        auth = await self._authenticate(conn, frame.station, None)
        if auth is None:
            return b""
        if not auth.ok or auth.device is None:
            await self._quarantine(conn, auth.kind, auth.reason, raw, frame.station)
            return b""
        afn = frame.function
        if afn in SZY206_VALUES:
            if not await self._store(conn, frame, raw, auth.device.id):
                return b""
        elif afn != 0x02:
            await self._quarantine(
                conn, "rejected_value",
                f"AFN {afn:02X}H ({frame.function_name_en}) is not a report the gateway stores",
                raw, frame.station,
            )  # fmt: skip
            return b""
        return szy206.confirm(frame) if afn in SZY206_CONFIRMED else b""

    async def _store(self, conn: _Connection, frame: Frame, raw: bytes, device_id: int) -> bool:
        """Map and commit a report's readings; whether the report may be acknowledged.

        False when the readings were not committed (the device must resend). A report with
        nothing storable in it is quarantined as ``rejected_value`` and may be acknowledged once
        that is committed: a resend could not change it.
        """
        # map_values yields canonical keys, finite floats and aware times: what ingest accepts.
        values, skipped, status = map_values(frame, received_at=datetime.now(UTC))
        rows = self._rows(device_id, values)
        if not rows and skipped:
            reason = "no storable reading: " + "; ".join(skipped)
            kept = await self._quarantine(conn, "rejected_value", reason, raw, frame.station)
            return kept
        if skipped:
            log.debug("%s %s: left out %s", conn.protocol, frame.station, skipped)
        if not rows:
            return True
        try:
            await self.writer.submit(rows)
        except Exception as exc:
            log.error("%s %s: not stored, not acknowledged: %s", conn.protocol, frame.station, exc)
            self.stats["commit_failed"] += 1
            return False
        self.stats["readings"] += len(rows)
        if status:
            self._status_changed(device_id, status)
        return True

    def _status_changed(self, device_id: int, bits: dict[str, bool]) -> None:
        """Hand a device's status bits to monitoring when they differ from what it last
        reported here (door opened, power cut, magnetic interference raise an alarm at once;
        bits back to normal clear it). In the background: the acknowledgement never waits."""
        if self._status_seen.get(device_id) == bits or self.status_report is None:
            return
        self._status_seen[device_id] = bits
        task = asyncio.get_running_loop().create_task(self._report_status(device_id, bits))
        self._status_tasks.add(task)
        task.add_done_callback(self._status_tasks.discard)

    async def _report_status(self, device_id: int, bits: dict[str, bool]) -> None:
        try:
            await self.run_db(self.status_report, device_id, bits, datetime.now(UTC))
            self.stats["status_reports"] += 1
        except Exception as exc:  # logged, and tried again with the device's next frame
            self._status_seen.pop(device_id, None)
            log.error("device %s: status bits not reported to monitoring: %s", device_id, exc)
