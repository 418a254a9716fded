"""The simulated series: pure functions of a :class:`Site` and a time (no state, no Django)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from aquifer.telemetry.protocols import CHINA_TZ

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
