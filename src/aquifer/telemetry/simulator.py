"""Simulated devices that speak the real protocols (``aquifer simulate``, the demo, benchmarks).

Two halves:

**The series** (pure functions of a :class:`Site` and a time, no state, no Django), realistic
enough for charts and for the quality checks of later steps:

- depth to water (:func:`depth_to_water`): a mean depth, a seasonal swing — deepest at the end
  of the spring irrigation season (May–June, after the dry winter and spring), recovering with
  the summer rains to its shallowest in September–October (:func:`seasonal_factor`) — a slow
  long-term decline, pumping drawdown cycles (the water table drops while the pump runs and
  recovers exponentially when it stops) and sensor noise;
- pumping (:func:`is_pumping`): two daily runs from 06:00 and 16:00 whose length depends on the
  month (irrigation in spring and early winter);
- the meter's cumulative volume (:func:`cumulative_volume`): it grows only while the pump runs
  (pump rate × pumped hours since 2020), so it never decreases;
- battery voltage (:func:`battery_voltage`): sags slowly, and jumps back when the battery is
  replaced (every ``battery_life_days``).

**The devices** (asyncio): :func:`run_tcp_device` keeps a TCP connection open, sends one report,
waits for the acknowledgement, resends the same bytes on a timeout (and reconnects if the
resends fail), and only then builds the next report; MQTT devices publish at QoS 1, HTTP
devices POST. :func:`simulate` runs many; :func:`start_demo_simulation` runs a gateway and a few
devices in a background thread for ``aquifer demo``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from aquifer.core.audit import audit_context
from aquifer.registry.demo import demo_device_secret
from aquifer.registry.models import Device
from aquifer.telemetry.protocols import CHINA_TZ, sl651, szy206

__all__ = [
    "KINDS",
    "Clock",
    "DemoSimulation",
    "SimDevice",
    "SimStats",
    "Site",
    "battery_voltage",
    "cumulative_volume",
    "depth_to_water",
    "flow_rate",
    "is_pumping",
    "json_body",
    "pumped_hours",
    "readings_at",
    "register_devices",
    "report_frames",
    "run_tcp_device",
    "seasonal_factor",
    "select_devices",
    "simulate",
    "simulated_station",
    "site_for",
    "start_demo_simulation",
    "water_temperature",
]

log = logging.getLogger("aquifer.telemetry.simulator")

# --- the series ---------------------------------------------------------------------------------

#: Pumping starts counting here (the meters' installation, for the simulation).
EPOCH = date(2020, 1, 1)
#: Pumping hours per day by month (spring irrigation Mar–May, winter irrigation Nov–Dec).
PUMP_HOURS = (4.0, 4.0, 8.0, 10.0, 10.0, 8.0, 4.0, 3.0, 3.0, 4.0, 6.0, 5.0)
#: Start hours of the two daily runs.
RUN_STARTS = (6.0, 16.0)
#: Seasonal depth offset at mid-month, in units of the site's amplitude (+1: deepest).
SEASON = (0.2, 0.35, 0.55, 0.85, 1.0, 0.9, 0.3, -0.4, -0.9, -1.0, -0.6, -0.1)


@dataclass(frozen=True, slots=True)
class Site:
    """What makes one simulated well different from another (see :func:`site_for`)."""

    seed: int
    base_depth: float = 35.0  # m, mean depth to water
    amplitude: float = 2.5  # m, half the seasonal swing
    trend: float = 0.3  # m per year, deeper every year (overexploitation)
    drawdown: float = 1.5  # m, pumping drawdown at steady state
    recovery_h: float = 0.8  # h, drawdown / recovery time constant
    duty: float = 1.0  # × PUMP_HOURS
    pump_rate: float = 40.0  # m³/h
    meter_start: float = 12_000.0  # m³ on the register at EPOCH
    ground_elevation: float = 720.0  # m (1985 datum)
    temperature: float = 14.0  # °C
    battery_new: float = 13.2  # V
    battery_sag: float = 0.0018  # V per day
    battery_life_days: int = 700
    installed: date = EPOCH


def _unit(*parts: int) -> float:
    """A deterministic number in [0, 1) from integers (a cheap hash, no state)."""
    h = 0x811C9DC5
    for p in parts:
        h = ((h ^ (p & 0xFFFFFFFF)) * 0x01000193) & 0xFFFFFFFF
        h ^= h >> 15
        h = (h * 0x2C1B3C6D) & 0xFFFFFFFF
        h ^= h >> 12
    return h / 2**32


def _noise(seed: int, t: datetime, sigma: float, salt: int = 0) -> float:
    """Roughly normal noise (sum of three uniforms), the same for the same minute."""
    minute = int(t.timestamp()) // 60
    u = _unit(seed, minute, salt, 1) + _unit(seed, minute, salt, 2) + _unit(seed, minute, salt, 3)
    return (u - 1.5) * 2.0 * sigma


def site_for(station: str) -> Site:
    """The simulated well behind a station address (deterministic)."""
    seed = int.from_bytes(station.encode()[-8:].rjust(8, b"\0"), "big") & 0x7FFFFFFF
    seed ^= sum(station.encode()) << 20

    def pick(lo: float, hi: float, salt: int) -> float:
        return lo + (hi - lo) * _unit(seed, salt)

    return Site(
        seed=seed,
        base_depth=round(pick(12.0, 80.0, 1), 2),
        amplitude=round(pick(1.0, 4.0, 2), 2),
        trend=round(pick(0.05, 0.6, 3), 3),
        drawdown=round(pick(0.5, 3.0, 4), 2),
        recovery_h=round(pick(0.4, 1.5, 5), 2),
        duty=round(pick(0.6, 1.3, 6), 2),
        pump_rate=round(pick(15.0, 80.0, 7), 1),
        meter_start=round(pick(1_000.0, 50_000.0, 8)),
        ground_elevation=round(pick(550.0, 900.0, 9), 1),
        temperature=round(pick(12.0, 16.0, 10), 1),
        battery_new=round(pick(12.9, 13.4, 11), 2),
        battery_life_days=int(pick(500, 900, 12)),
    )


def seasonal_factor(t: datetime) -> float:
    """The seasonal depth offset at ``t`` in [-1, 1] (+1: deepest, end of spring irrigation).

    Cosine interpolation between the mid-month values of :data:`SEASON`.
    """
    local = t.astimezone(CHINA_TZ)
    days = (date(local.year, 12, 31) - date(local.year, 1, 1)).days + 1
    position = ((local.timetuple().tm_yday - 0.5 + local.hour / 24) / days) * 12 - 0.5
    i = math.floor(position)
    frac = position - i
    a, b = SEASON[i % 12], SEASON[(i + 1) % 12]
    w = (1 - math.cos(math.pi * frac)) / 2
    return a + (b - a) * w


def _runs(d: date, site: Site) -> tuple[tuple[float, float], ...]:
    """The day's pumping runs as (start hour, end hour)."""
    half = PUMP_HOURS[d.month - 1] * site.duty / 2
    return tuple((start, start + half) for start in RUN_STARTS)


@lru_cache(maxsize=8192)
def _hours_before(d: date, duty: float) -> float:
    """Pumped hours from EPOCH to the start of day ``d``."""
    if d <= EPOCH:
        return 0.0
    total = 0.0
    y, m = EPOCH.year, EPOCH.month
    while (y, m) < (d.year, d.month):
        ny, nm = (y, m + 1) if m < 12 else (y + 1, 1)
        total += PUMP_HOURS[m - 1] * (date(ny, nm, 1) - date(y, m, 1)).days
        y, m = ny, nm
    total += PUMP_HOURS[d.month - 1] * (d.day - 1)
    return total * duty


def _clock_hours(local: datetime) -> float:
    return local.hour + local.minute / 60 + (local.second + local.microsecond / 1e6) / 3600


def pumped_hours(t: datetime, site: Site) -> float:
    """Hours the pump has run from EPOCH to ``t`` (non-decreasing in ``t``)."""
    local = t.astimezone(CHINA_TZ)
    d = local.date()
    if d < EPOCH:
        return 0.0
    x = _clock_hours(local)
    today = sum(min(max(x - a, 0.0), b - a) for a, b in _runs(d, site))
    return _hours_before(d, site.duty) + today


def is_pumping(t: datetime, site: Site) -> bool:
    """Whether the pump runs at ``t``."""
    local = t.astimezone(CHINA_TZ)
    x = _clock_hours(local)
    return any(a <= x < b for a, b in _runs(local.date(), site))


def pumping_drawdown(t: datetime, site: Site) -> float:
    """How far pumping has drawn the water down at ``t`` (m): rising during a run towards
    ``site.drawdown``, recovering exponentially after it."""
    local = t.astimezone(CHINA_TZ)
    x = _clock_hours(local)
    tau = site.recovery_h
    runs = _runs(local.date(), site)
    for a, b in runs:
        if a <= x < b:
            return site.drawdown * (1 - math.exp(-(x - a) / tau))
    ended = [(b, b - a) for a, b in runs if b <= x]
    if ended:
        end, length = ended[-1]
        off = x - end
    else:  # before the first run: the last one was yesterday's
        a, b = _runs(local.date() - timedelta(days=1), site)[-1]
        end, length = b, b - a
        off = x + 24 - end
    return site.drawdown * (1 - math.exp(-length / tau)) * math.exp(-off / tau)


def depth_to_water(t: datetime, site: Site) -> float:
    """Depth to water (m below ground) at ``t``: seasonal, trend, drawdown, noise."""
    years = (t.astimezone(CHINA_TZ).date() - EPOCH).days / 365.25
    depth = (
        site.base_depth
        + site.amplitude * seasonal_factor(t)
        + site.trend * years
        + pumping_drawdown(t, site)
        + _noise(site.seed, t, 0.01, 1)
    )
    return max(0.0, round(depth, 2))


def flow_rate(t: datetime, site: Site) -> float:
    """Instantaneous flow (m³/h): the pump rate ± 2 % while pumping, else 0."""
    if not is_pumping(t, site):
        return 0.0
    return round(site.pump_rate * (1 + _noise(site.seed, t, 0.02, 2)), 2)


def cumulative_volume(t: datetime, site: Site) -> float:
    """The meter's register (m³): grows only with pumping hours, never decreases."""
    return site.meter_start + site.pump_rate * pumped_hours(t, site)


def battery_voltage(t: datetime, site: Site) -> float:
    """Battery voltage (V): sags slowly, back to new when the battery is replaced."""
    days = max(0, (t.astimezone(CHINA_TZ).date() - site.installed).days)
    in_cycle = days % site.battery_life_days
    return round(site.battery_new - site.battery_sag * in_cycle + _noise(site.seed, t, 0.01, 3), 2)


def water_temperature(t: datetime, site: Site) -> float:
    """Groundwater temperature (°C): nearly constant, a small lagged seasonal swing."""
    doy = t.astimezone(CHINA_TZ).timetuple().tm_yday
    swing = 0.3 * math.sin(2 * math.pi * (doy - 200) / 365.25)
    return round(site.temperature + swing + _noise(site.seed, t, 0.05, 4), 1)


#: What each kind of device reports (canonical element keys).
KINDS: dict[str, tuple[str, ...]] = {
    "rtu": (
        "depth_to_water",
        "water_temperature",
        "flow_rate",
        "cumulative_volume",
        "battery_voltage",
    ),
    "level_logger": ("depth_to_water", "water_temperature", "battery_voltage"),
    "flow_meter": ("flow_rate", "cumulative_volume", "battery_voltage"),
    "quality_sonde": ("water_temperature", "ph", "conductivity", "dissolved_oxygen", "turbidity"),
}


def readings_at(kind: str, site: Site, t: datetime) -> dict[str, float]:
    """The canonical readings a device of ``kind`` reports at ``t``."""
    out: dict[str, float] = {}
    for key in KINDS.get(kind, KINDS["rtu"]):
        if key == "depth_to_water":
            out[key] = depth_to_water(t, site)
        elif key == "water_temperature":
            out[key] = water_temperature(t, site)
        elif key == "flow_rate":
            out[key] = flow_rate(t, site)
        elif key == "cumulative_volume":
            out[key] = float(math.floor(cumulative_volume(t, site)))
        elif key == "battery_voltage":
            out[key] = battery_voltage(t, site)
        elif key == "ph":
            out[key] = round(7.4 + _noise(site.seed, t, 0.1, 5), 2)
        elif key == "conductivity":
            out[key] = round(650 + 40 * seasonal_factor(t) + _noise(site.seed, t, 10, 6))
        elif key == "dissolved_oxygen":
            out[key] = round(6.5 + _noise(site.seed, t, 0.3, 7), 1)
        elif key == "turbidity":
            out[key] = round(max(0.0, 1.2 + _noise(site.seed, t, 0.4, 8)))
    return out


# --- frames -------------------------------------------------------------------------------------

# SL651 identifiers and decimals for each canonical key (flow is sent in m³/s, 5 decimals:
# the data-definition byte says so, and the standard's 3 decimals would round 40 m³/h to
# 0.011 m³/s).
_SL651_CODES: dict[str, tuple[int, int]] = {
    "depth_to_water": (0x0E, 2),
    "water_temperature": (0x03, 1),
    "flow_rate": (0x27, 5),
    "cumulative_volume": (0xFF2B, 0),
    "battery_voltage": (0x38, 2),
    "water_level": (0x39, 3),
    "ph": (0x46, 2),
    "dissolved_oxygen": (0x47, 1),
    "conductivity": (0x48, 0),
    "turbidity": (0x49, 0),
}


@dataclass
class SimDevice:
    """A simulated device: its address, protocol (sl651, szy206, mqtt, http) and secret."""

    station: str
    protocol: str
    secret: str
    kind: str = "rtu"
    site: Site = field(init=False)
    serial: int = 0

    def __post_init__(self) -> None:
        self.protocol = self.protocol.lower()
        self.site = site_for(self.station)
        self.serial = 1 + self.site.seed % 60000

    def next_serial(self) -> int:
        self.serial = self.serial % 65535 + 1
        return self.serial


def report_frames(device: SimDevice, t: datetime) -> list[bytes]:
    """The frames ``device`` sends for its readings at ``t`` (SL651: one 32H timed report;
    SZY206: one C0H self-report per control function: level, flow/volume, temperature)."""
    values = readings_at(device.kind, device.site, t)
    local = t.astimezone(CHINA_TZ)
    if device.protocol == "sl651":
        elements: list[sl651.ElementInput] = []
        for key, value in values.items():
            code, dec = _SL651_CODES[key]
            if key == "flow_rate":
                value = round(value / 3600, dec)
            elements.append((code, int(value) if dec == 0 else value, dec))
        return [
            sl651.encode_report(
                0x32,
                device.station,
                serial=device.next_serial(),
                send_time=local,
                observation_time=local,
                elements=elements,
                password=int(device.secret, 16),
            )
        ]
    if device.protocol != "szy206":
        raise ValueError(f"{device.protocol} devices send JSON, not frames")
    tp = szy206.Tp(local.second, local.minute, local.hour, local.day, 0)
    frames = []
    if "depth_to_water" in values:
        level = round(device.site.ground_elevation - values["depth_to_water"], 3)
        frames.append(szy206.encode_report(device.station, function=2, values=[level], tp=tp))
    if "flow_rate" in values:
        pair = [values["flow_rate"], values["cumulative_volume"]]
        frames.append(szy206.encode_report(device.station, function=3, values=pair, tp=tp))
    if "water_temperature" in values:
        temp = [values["water_temperature"]]
        frames.append(szy206.encode_report(device.station, function=9, values=temp, tp=tp))
    return frames


def json_body(device: SimDevice, t: datetime) -> dict[str, Any]:
    """The MQTT/HTTP JSON batch of ``device`` at ``t``."""
    when = t.astimezone(CHINA_TZ).replace(microsecond=0).isoformat()
    return {
        "token": device.secret,
        "readings": [
            {"element": k, "observed_at": when, "value": v}
            for k, v in readings_at(device.kind, device.site, t).items()
        ],
    }


def ack_matches(protocol: str, ack: bytes, frame: bytes) -> bool:
    """Whether ``ack`` is the centre's confirmation of ``frame`` (header fields only)."""
    if protocol == "sl651":
        # down: 7E7E, station(5), centre, password(2), function, 8xxx length, STX, serial
        return (
            len(ack) >= 16
            and ack[10] == frame[10]
            and ack[11] >> 4 == 8
            and ack[2:7] == frame[3:8]
            and ack[14:16] == frame[14:16]
        )
    # SZY206: 68 L 68 C A(5) AFN …: direction bit clear, same control function, address and
    # AFN. A confirmation carries no serial: a late one for an earlier frame of the same kind
    # cannot be told apart (a limit of the protocol, not of the simulator).
    return (
        len(ack) >= 10
        and not ack[3] & 0x80
        and ack[3] & 0x0F == frame[3] & 0x0F
        and ack[4:10] == frame[4:10]
    )


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


# --- devices in the registry (Django) -----------------------------------------------------------

_PROTOCOL_NAMES = {"sl651": "SL651", "szy206": "SZY206", "mqtt": "MQTT", "http": "HTTP"}


def simulated_station(protocol: str, k: int) -> str:
    """The station address of simulated device ``k`` (1…10000) of ``protocol``.

    SL651/SZY206: the county's code 140522 and a station number in HEX (A2–A1 of the address,
    1–60000): 50001… for SL651, 40001… for SZY206. Each has a hex letter, so no demo device
    (``140522`` + four decimal digits) has it. MQTT/HTTP: ``yc-sim-<protocol>-<k>``.
    """
    if not 1 <= k <= 10000:
        raise ValueError("simulated devices are numbered 1…10000")
    if protocol.lower() == "sl651":
        return f"140522{50000 + k:04X}"
    if protocol.lower() == "szy206":
        return f"140522{40000 + k:04X}"
    return f"yc-sim-{protocol.lower()}-{k:05d}"


def kind_of(device_kind: str) -> str:
    return device_kind if device_kind in KINDS else "rtu"


def select_devices(protocol: str, n: int, *, register: bool = False) -> list[SimDevice]:
    """``n`` registered, active devices of ``protocol`` to simulate, with their demo secrets.

    Demo devices first (by station address). With ``register``, missing ones are created as
    simulated stations (:func:`register_devices`). Blocking (database).
    """

    name = _PROTOCOL_NAMES[protocol.lower()]
    rows = list(
        Device.objects.filter(protocol=name, active=True)
        .order_by("station_address")
        .values_list("station_address", "kind")[:n]
    )
    out = [SimDevice(s, protocol, demo_device_secret(name, s), kind_of(k)) for s, k in rows]
    if len(out) < n and register:
        out += register_devices(protocol, n - len(out), skip={d.station for d in out})
    return out


def register_devices(
    protocol: str, n: int, *, skip: set[str] | None = None, kind: str = "rtu"
) -> list[SimDevice]:
    """Create ``n`` simulated devices of ``protocol`` that do not exist yet (bureau context:
    no well, audit source ``simulator``); returns them with their secrets. Blocking."""
    from django.db import transaction

    name = _PROTOCOL_NAMES[protocol.lower()]
    skip = set(skip or ())
    out: list[SimDevice] = []
    k = 0
    with transaction.atomic(), audit_context(source="simulator", reason="aquifer simulate"):
        while len(out) < n:
            chunk = [simulated_station(protocol, i) for i in range(k + 1, k + n - len(out) + 1)]
            k += len(chunk)
            existing = {
                d.station_address: d for d in Device.objects.filter(station_address__in=chunk)
            }
            for station in chunk:
                device = existing.get(station)
                if station in skip or (
                    device is not None and (device.protocol != name or not device.active)
                ):
                    continue
                secret = demo_device_secret(name, station)
                if device is None:
                    device = Device(
                        kind=kind,
                        protocol=name,
                        station_address=station,
                        model_name="模拟设备 (simulator)",
                        reporting_interval_min=60,
                    )
                    device.set_secret(secret)
                    device.full_clean()
                    device.save()
                out.append(SimDevice(station, protocol, secret, kind))
    return out


# --- the demo -----------------------------------------------------------------------------------


class DemoSimulation:
    """A gateway and simulated devices running in a background thread (``aquifer demo``).

    Use :func:`start_demo_simulation`; :meth:`stop` stops the devices, drains the gateway
    and joins the thread. Attributes: ``ports`` (protocol → port the gateway listens on),
    ``devices`` and ``stats`` (:class:`SimStats`).
    """

    def __init__(
        self, n_devices: int, interval: float, host: str, ports: dict[str, int | None]
    ) -> None:
        self.n_devices = n_devices
        self.interval = interval
        self.host = host
        self.requested_ports = ports
        self.ports: dict[str, int] = {}
        self.devices: list[SimDevice] = []
        self.stats = SimStats(keep_latencies=False)
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._main, name="aquifer-demo-sim", daemon=True)

    def _main(self) -> None:
        try:
            asyncio.run(self._run())
        except BaseException as exc:  # reported to the starter
            self._error = exc
            self._ready.set()

    async def _run(self) -> None:
        from aquifer.telemetry.gateway import Gateway, GatewayConfig

        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        base = GatewayConfig.from_settings(host=self.host)
        gateway = None
        for ports in (self.requested_ports, {"sl651": 0, "szy206": 0}):
            config = GatewayConfig.from_settings(
                host=self.host,
                sl651_port=ports.get("sl651", base.sl651_port),
                szy206_port=ports.get("szy206", base.szy206_port),
            )
            gateway = Gateway(config)
            try:
                await gateway.start()
                break
            except OSError as exc:
                log.warning("demo gateway: %s; using free ports", exc)
                await gateway.stop()
                gateway = None
        assert gateway is not None
        self.ports = dict(gateway.ports)
        half = (self.n_devices + 1) // 2
        picked = await asyncio.to_thread(select_devices, "sl651", half)
        picked += await asyncio.to_thread(select_devices, "szy206", self.n_devices - len(picked))
        if len(picked) < self.n_devices:
            more = await asyncio.to_thread(
                select_devices, "sl651", self.n_devices - len(picked) + half, register=True
            )
            known = {d.station for d in picked}
            picked += [d for d in more if d.station not in known][: self.n_devices - len(picked)]
        self.devices = picked
        self.stats.devices = len(picked)
        self._ready.set()
        try:
            target = "127.0.0.1" if self.host in ("0.0.0.0", "", "::") else self.host
            tasks = []
            for d in picked:
                port = self.ports["SL651" if d.protocol == "sl651" else "SZY206"]
                run = run_tcp_device(
                    d, target, port, stats=self.stats, stop=self._stop, interval=self.interval
                )
                tasks.append(asyncio.create_task(run))
            await self._stop.wait()
            await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            await gateway.stop()

    def start(self, timeout: float = 60.0) -> DemoSimulation:
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("the demo simulation did not start")
        if self._error is not None:
            raise RuntimeError(f"the demo simulation failed: {self._error}") from self._error
        return self

    def stop(self, timeout: float = 15.0) -> SimStats:
        """Stop the devices, drain the gateway, join the thread; returns the counts."""
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)
        self._thread.join(timeout)
        return self.stats

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def __enter__(self) -> DemoSimulation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_demo_simulation(
    n_devices: int = 10,
    interval: float = 60.0,
    *,
    host: str = "127.0.0.1",
    sl651_port: int | None = None,
    szy206_port: int | None = None,
) -> DemoSimulation:
    """Start a gateway and ``n_devices`` simulated devices in a background thread.

    Half the devices speak SL651 and half SZY206 — registered demo devices first (their demo
    secrets), simulated stations registered when there are not enough. The gateway listens on
    ``sl651_port``/``szy206_port`` (default: the settings' ports; free ports if those are
    taken) and stores into the configured database, so the demo's charts move. Each device
    reports every ``interval`` seconds (SL651 observation times have minute resolution: below
    60 s, reports in the same minute are stored once).

    Returns a started :class:`DemoSimulation`; call its ``stop()`` (or use it as a context
    manager) to stop the devices, drain the gateway and join the thread.
    """
    ports: dict[str, int | None] = {}
    if sl651_port is not None:
        ports["sl651"] = sl651_port
    if szy206_port is not None:
        ports["szy206"] = szy206_port
    return DemoSimulation(n_devices, interval, host, ports).start()
