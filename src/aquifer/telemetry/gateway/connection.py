"""One device's TCP connection: an :class:`asyncio.Protocol` that handles its frames in
order, the hot path in the read callback, and closes on silence, shutdown or abuse."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import TYPE_CHECKING

from aquifer.telemetry.devices import AuthResult
from aquifer.telemetry.gateway.framing import FrameSplitter, Piece
from aquifer.telemetry.protocols import Frame, sl651, szy206

if TYPE_CHECKING:
    from aquifer.telemetry.gateway.server import Gateway

__all__ = ["SL651_REPORTS", "SZY206_CONFIRMED", "SZY206_VALUES"]

log = logging.getLogger("aquifer.telemetry.gateway")

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
