"""Running simulated devices (asyncio): TCP devices that wait for each acknowledgement, MQTT
and HTTP devices, and :func:`simulate` that runs many."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aquifer.telemetry.protocols import CHINA_TZ

from .frames import SimDevice, ack_matches, json_body, report_frames

log = logging.getLogger("aquifer.telemetry.simulator")

# --- running devices ----------------------------------------------------------------------------


@dataclass
class Clock:
    """Observation times: real time (``step=None``), or ``start + tick × step`` per device."""

    step: timedelta | None = None
    start: datetime | None = None  # default: when the clock was made

    def __post_init__(self) -> None:
        if self.start is None:
            self.start = datetime.now(CHINA_TZ)

    def at(self, tick: int) -> datetime:
        if self.step is None or self.start is None:
            return datetime.now(CHINA_TZ)
        return self.start + self.step * tick


@dataclass
class SimStats:
    """What the simulated devices did."""

    devices: int = 0
    sent: int = 0
    acked: int = 0
    resent: int = 0
    timeouts: int = 0
    reconnects: int = 0
    connect_failures: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list, repr=False)
    keep_latencies: bool = True

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies)

        def pct(p: float) -> float | None:
            if not lat:
                return None
            return round(lat[min(len(lat) - 1, int(p * len(lat)))] * 1000, 2)

        return {
            "devices": self.devices,
            "frames_sent": self.sent,
            "frames_acked": self.acked,
            "resent": self.resent,
            "timeouts": self.timeouts,
            "reconnects": self.reconnects,
            "connect_failures": self.connect_failures,
            "errors": self.errors,
            "ack_latency_ms_p50": pct(0.50),
            "ack_latency_ms_p99": pct(0.99),
        }


OnAck = Callable[[SimDevice, bytes], None]
FrameSource = Callable[[SimDevice, int], list[bytes]]


class _AckReader:
    """Reads the gateway's replies on a device's connection and finds the confirmation."""

    def __init__(self, reader: asyncio.StreamReader, protocol: str) -> None:
        from aquifer.telemetry.gateway import FrameSplitter

        self.reader = reader
        self.protocol = protocol
        self.splitter = FrameSplitter("SL651" if protocol == "sl651" else "SZY206")
        self.ready: list[Any] = []

    async def wait_for(self, frame: bytes, timeout: float) -> bool:
        """Wait for the confirmation of ``frame``; ``False`` on timeout. Others are skipped
        (e.g. the second confirmation of a frame that was resent)."""
        deadline = time.monotonic() + timeout
        while True:
            ready, self.ready = self.ready, []
            if any(not p.reason and ack_matches(self.protocol, p.data, frame) for p in ready):
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                async with asyncio.timeout(left):
                    data = await self.reader.read(4096)
            except TimeoutError:
                return False
            if not data:
                raise ConnectionResetError("the gateway closed the connection")
            self.ready = self.splitter.feed(data)


async def run_tcp_device(
    device: SimDevice,
    host: str,
    port: int,
    *,
    stats: SimStats,
    stop: asyncio.Event,
    interval: float = 60.0,
    ticks: int | None = None,
    clock: Clock | None = None,
    ack_timeout: float = 10.0,
    retries: int = 2,
    frames: FrameSource | None = None,
    on_ack: OnAck | None = None,
) -> None:
    """One SL651 or SZY206 device on a long-lived TCP connection.

    Sends its report, waits up to ``ack_timeout`` for the confirmation, resends the same bytes
    up to ``retries`` times, then reconnects and resends again: a report is never given up
    until ``stop``. The next report is built only once the last one was acknowledged.
    ``ticks`` limits the number of reports; ``interval`` is the time between them (0: at once).
    """
    clock = clock or Clock()
    make = frames or (lambda dev, tick: report_frames(dev, clock.at(tick)))
    protocol = device.protocol
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    acks: _AckReader | None = None
    pending: list[bytes] = []
    tries = 0  # times pending[0] was written, on any connection
    tick = 0
    backoff = 0.2
    try:
        while not stop.is_set() and (ticks is None or tick < ticks or pending):
            if not pending:
                pending = make(device, tick)
                started = time.monotonic()
            if writer is None or acks is None:
                try:
                    reader, writer = await asyncio.open_connection(host, port)
                except OSError:
                    stats.connect_failures += 1
                    await _sleep(stop, backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
                backoff = 0.2
                acks = _AckReader(reader, protocol)
            frame = pending[0]
            acked = False
            try:
                for _attempt in range(retries + 1):
                    writer.write(frame)
                    sent_at = time.perf_counter()
                    if tries:
                        stats.resent += 1
                    else:
                        stats.sent += 1
                    tries += 1
                    if await acks.wait_for(frame, ack_timeout):
                        acked = True
                        break
                    stats.timeouts += 1
                    if stop.is_set():
                        break
            except (OSError, ConnectionError):
                pass
            if not acked:
                writer.close()
                writer = acks = None
                stats.reconnects += 1
                continue
            if stats.keep_latencies:
                stats.latencies.append(time.perf_counter() - sent_at)
            stats.acked += 1
            pending.pop(0)
            tries = 0
            if on_ack is not None:
                on_ack(device, frame)
            if not pending:
                tick += 1
                if interval > 0:
                    await _sleep(stop, max(0.0, interval - (time.monotonic() - started)))
    finally:
        if writer is not None:
            writer.close()


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await stop.wait()


async def run_mqtt_device(
    device: SimDevice,
    host: str,
    port: int,
    *,
    stats: SimStats,
    stop: asyncio.Event,
    prefix: str = "aquifer",
    interval: float = 60.0,
    ticks: int | None = None,
    clock: Clock | None = None,
) -> None:
    """An MQTT device: publishes its JSON batch to ``<prefix>/<station>/readings`` at QoS 1
    (the publish returns once the broker has acknowledged it)."""
    import aiomqtt

    clock = clock or Clock()
    topic = f"{prefix}/{device.station}/readings"
    tick = 0
    while not stop.is_set() and (ticks is None or tick < ticks):
        try:
            async with aiomqtt.Client(host, port, identifier=f"sim-{device.station}") as client:
                while not stop.is_set() and (ticks is None or tick < ticks):
                    started = time.monotonic()
                    body = json.dumps(json_body(device, clock.at(tick)))
                    stats.sent += 1
                    await client.publish(topic, body, qos=1)
                    if stats.keep_latencies:
                        stats.latencies.append(time.monotonic() - started)
                    stats.acked += 1
                    tick += 1
                    if interval > 0:
                        await _sleep(stop, max(0.0, interval - (time.monotonic() - started)))
        except aiomqtt.MqttError as exc:
            stats.reconnects += 1
            log.info("MQTT device %s: %s", device.station, exc)
            await _sleep(stop, 1.0)


def _post(url: str, device: SimDevice, body: bytes, timeout: float) -> int:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Device {device.station}:{device.secret}",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


async def run_http_device(
    device: SimDevice,
    url: str,
    *,
    stats: SimStats,
    stop: asyncio.Event,
    interval: float = 60.0,
    ticks: int | None = None,
    clock: Clock | None = None,
    timeout: float = 10.0,
) -> None:
    """An HTTP device: POSTs its JSON batch (``Authorization: Device <station>:<token>``);
    resends the same batch until the server answers 200."""
    clock = clock or Clock()
    tick = 0
    while not stop.is_set() and (ticks is None or tick < ticks):
        started = time.monotonic()
        body = json.dumps({"readings": json_body(device, clock.at(tick))["readings"]}).encode()
        stats.sent += 1
        while not stop.is_set():
            try:
                status = await asyncio.to_thread(_post, url, device, body, timeout)
            except OSError:
                status = 0
            if status == 200:
                break
            stats.errors += 1
            if 400 <= status < 500:  # the server refuses it: resending will not help
                break
            stats.resent += 1
            await _sleep(stop, 1.0)
        else:
            return
        if status == 200:
            stats.acked += 1
            if stats.keep_latencies:
                stats.latencies.append(time.monotonic() - started)
        tick += 1
        if interval > 0:
            await _sleep(stop, max(0.0, interval - (time.monotonic() - started)))


async def simulate(
    devices: Sequence[SimDevice],
    *,
    host: str = "127.0.0.1",
    port: int,
    interval: float = 60.0,
    duration: float | None = None,
    ticks: int | None = None,
    clock: Clock | None = None,
    stop: asyncio.Event | None = None,
    mqtt_prefix: str = "aquifer",
    ack_timeout: float = 10.0,
    on_ack: OnAck | None = None,
    stats: SimStats | None = None,
) -> SimStats:
    """Run ``devices`` until ``duration`` seconds have passed, each has sent ``ticks`` reports,
    or ``stop`` is set; returns the counts. Devices start spread over one interval."""
    stop = stop or asyncio.Event()
    stats = stats or SimStats()
    stats.devices = len(devices)
    spread = min(interval, 5.0) if interval > 0 else 0.0

    async def one(i: int, device: SimDevice) -> None:
        if spread and len(devices) > 1:
            await _sleep(stop, spread * i / len(devices))
        p = device.protocol
        try:
            if p in ("sl651", "szy206"):
                await run_tcp_device(
                    device,
                    host,
                    port,
                    stats=stats,
                    stop=stop,
                    interval=interval,
                    ticks=ticks,
                    clock=clock,
                    ack_timeout=ack_timeout,
                    on_ack=on_ack,
                )
            elif p == "mqtt":
                await run_mqtt_device(
                    device,
                    host,
                    port,
                    stats=stats,
                    stop=stop,
                    prefix=mqtt_prefix,
                    interval=interval,
                    ticks=ticks,
                    clock=clock,
                )
            elif p == "http":
                url = f"http://{host}:{port}/api/ingest/readings"
                await run_http_device(
                    device, url, stats=stats, stop=stop, interval=interval, ticks=ticks, clock=clock
                )
            else:
                raise ValueError(f"unknown protocol {p!r}")
        except Exception:
            stats.errors += 1
            log.exception("simulated device %s failed", device.station)

    tasks = [asyncio.create_task(one(i, d)) for i, d in enumerate(devices)]
    waiter = asyncio.gather(*tasks)
    try:
        if duration is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(waiter), duration)
            stop.set()
        await waiter
    finally:
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return stats
