"""The :class:`Gateway`: SL651 and SZY206 TCP servers feeding one group-commit writer; its
life cycle (start, drain, stop) and what it does with each frame."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from aquifer.telemetry.devices import AuthResult, DeviceCache
from aquifer.telemetry.forwarding.outbox import Selection, enqueue
from aquifer.telemetry.gateway.batching import BatchWriter, RunDb, _ingest_noting
from aquifer.telemetry.gateway.config import GatewayConfig
from aquifer.telemetry.gateway.connection import (
    SL651_REPORTS,
    SZY206_CONFIRMED,
    SZY206_VALUES,
    _Connection,
)
from aquifer.telemetry.hooks import device_status
from aquifer.telemetry.mapping import Value, map_values
from aquifer.telemetry.protocols import Frame, FrameError, sl651, szy206
from aquifer.telemetry.writer import ProcessWriter, RollupPacer, Upkeep

__all__ = ["Gateway", "report_device_status"]

log = logging.getLogger("aquifer.telemetry.gateway")


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
        #: Frames go to the raw-frame archive with their readings (the store's ingest takes
        #: them; another ``ingest`` gets the rows only).
        self.archive_frames = default_store
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
        #: Devices an upstream forwards: their frames take the slow path, which puts them in
        #: the outbox before acknowledging (telemetry.forwarding).
        self.forwarded = Selection()
        self._status_tasks: set[asyncio.Task[None]] = set()

    # --- life cycle ---------------------------------------------------------------------------

    async def start(self) -> dict[str, int]:
        """Load the devices, start the writer and the servers; returns the bound ports."""
        try:
            await self.run_db(self.devices.refresh)
        except Exception as exc:  # the database may come up later: lookups will retry
            log.error("could not load the devices: %s", exc)
        try:
            await self.run_db(self.forwarded.refresh)
        except Exception as exc:
            log.error("could not load the forwarded devices: %s", exc)
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
                await self.run_db(self.forwarded.refresh)
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
        if device_id in self.forwarded:
            return False  # the slow path puts it in the outbox before the acknowledgement
        received_at = datetime.now(UTC)
        values, skipped, status = map_values(frame, received_at=received_at)
        if not values:
            return False
        rows = self._rows(device_id, values)
        archived = (
            (device_id, protocol, received_at, min(v[1] for v in values), raw, conn.remote)
            if self.archive_frames
            else None
        )
        try:
            self.writer.submit_nowait(rows, conn._committed, archived)
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
        received_at = datetime.now(UTC)
        values, skipped, status = map_values(frame, received_at=received_at)
        rows = self._rows(device_id, values)
        if not rows and skipped:
            reason = "no storable reading: " + "; ".join(skipped)
            kept = await self._quarantine(conn, "rejected_value", reason, raw, frame.station)
            return kept and await self._forward(conn, frame, raw, device_id)
        if skipped:
            log.debug("%s %s: left out %s", conn.protocol, frame.station, skipped)
        if not rows:
            return await self._forward(conn, frame, raw, device_id)
        # The frame as received goes to the archive with its readings (an M3 message's
        # packets are not archived: ``raw`` is its last packet only).
        archived = None
        if self.archive_frames and getattr(frame, "packets", 1) <= 1:
            first = min(v[1] for v in values)
            archived = (device_id, conn.protocol, received_at, first, raw, conn.remote)
        try:
            await self.writer.submit(rows, archived)
        except Exception as exc:
            log.error("%s %s: not stored, not acknowledged: %s", conn.protocol, frame.station, exc)
            self.stats["commit_failed"] += 1
            return False
        self.stats["readings"] += len(rows)
        if status:
            self._status_changed(device_id, status)
        return await self._forward(conn, frame, raw, device_id)

    async def _forward(self, conn: _Connection, frame: Frame, raw: bytes, device_id: int) -> bool:
        """A forwarded device's frame into the outbox (committed) before it is acknowledged;
        False (no acknowledgement: the device resends, its readings are stored once) when the
        outbox refused it. Multi-packet (M3) messages are not forwarded (docs/open-data.md)."""
        if device_id not in self.forwarded or getattr(frame, "packets", 1) > 1:
            return True
        try:
            await self.run_db(enqueue, device_id, conn.protocol, frame.station, raw)
        except Exception as exc:
            log.error("%s %s: not put in the outbox, not acknowledged: %s", conn.protocol,
                      frame.station, exc)  # fmt: skip
            return False
        self.stats["forwarded"] += 1
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
