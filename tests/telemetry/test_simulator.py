"""The simulator: its series (pure functions), its frames, its devices in the registry, and the
demo's background gateway + devices (in a subprocess, on its own SQLite file)."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import mean
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aquifer.telemetry.mapping import map_frame, parse_readings
from aquifer.telemetry.protocols import CHINA_TZ, decode, sl651
from aquifer.telemetry.simulator import (
    KINDS,
    SimDevice,
    Site,
    battery_voltage,
    cumulative_volume,
    depth_to_water,
    flow_rate,
    is_pumping,
    json_body,
    pumped_hours,
    readings_at,
    report_frames,
    seasonal_factor,
    simulated_station,
    site_for,
)
from aquifer.telemetry.simulator.registry import register_devices, select_devices

from .test_crash import AQUIFER, make_db, stored_readings

STATIONS = [simulated_station("sl651", k) for k in range(1, 9)] + ["1405220006", "yc-wq-0042"]
YEAR = 2025


def hours(start: datetime, n: int, step: timedelta = timedelta(hours=1)) -> list[datetime]:
    return [start + step * i for i in range(n)]


times = st.datetimes(
    min_value=datetime(2019, 6, 1), max_value=datetime(2031, 1, 1), timezones=st.just(CHINA_TZ)
)


@settings(max_examples=300, deadline=None)
@given(a=times, b=times, station=st.sampled_from(STATIONS))
def test_cumulative_volume_never_decreases(a: datetime, b: datetime, station: str) -> None:
    site = site_for(station)
    early, late = sorted((a, b))
    assert cumulative_volume(early, site) <= cumulative_volume(late, site)


@pytest.mark.parametrize("station", STATIONS[:3])
def test_volume_grows_only_while_pumping_at_the_pump_rate(station: str) -> None:
    site = site_for(station)
    step = timedelta(minutes=5)
    for t in hours(datetime(YEAR, 4, 10, tzinfo=CHINA_TZ), 24 * 12, step):
        grew = cumulative_volume(t + step, site) - cumulative_volume(t, site)
        if not is_pumping(t, site) and not is_pumping(t + step - timedelta(seconds=1), site):
            assert grew == 0
            assert flow_rate(t, site) == 0
        if is_pumping(t, site) and is_pumping(t + step - timedelta(seconds=1), site):
            assert grew == pytest.approx(site.pump_rate * 5 / 60)
            assert flow_rate(t, site) == pytest.approx(site.pump_rate, rel=0.1)
    # More pumping in the spring irrigation season than in the rains.
    april = pumped_hours(datetime(YEAR, 5, 1, tzinfo=CHINA_TZ), site) - pumped_hours(
        datetime(YEAR, 4, 1, tzinfo=CHINA_TZ), site
    )
    august = pumped_hours(datetime(YEAR, 9, 1, tzinfo=CHINA_TZ), site) - pumped_hours(
        datetime(YEAR, 8, 1, tzinfo=CHINA_TZ), site
    )
    assert april > 2 * august


def monthly_mean_depth(site: Site, month: int) -> float:
    start = datetime(YEAR, month, 1, tzinfo=CHINA_TZ)
    return mean(depth_to_water(t, site) for t in hours(start, 24 * 28, timedelta(hours=1)))


@pytest.mark.parametrize("station", STATIONS)
def test_depth_is_seasonal(station: str) -> None:
    """Deepest after the spring irrigation season, shallowest after the summer rains."""
    site = site_for(station)
    depth = {m: monthly_mean_depth(site, m) for m in (1, 5, 9, 10)}
    assert depth[5] > depth[1] > depth[10]
    assert depth[5] - depth[9] > site.amplitude  # a swing of the site's size
    assert max(range(1, 13), key=lambda m: seasonal_factor(datetime(YEAR, m, 15))) == 5
    assert min(range(1, 13), key=lambda m: seasonal_factor(datetime(YEAR, m, 15))) == 10


def test_pumping_draws_the_water_down_and_it_recovers() -> None:
    site = site_for(STATIONS[0])
    day = datetime(YEAR, 4, 15, tzinfo=CHINA_TZ)
    before = depth_to_water(day.replace(hour=5, minute=50), site)
    during = depth_to_water(day.replace(hour=8, minute=30), site)
    later = depth_to_water(day.replace(hour=14, minute=0), site)
    assert is_pumping(day.replace(hour=8, minute=30), site)
    assert during - before > 0.5 * site.drawdown
    assert later < during - 0.5 * site.drawdown
    # A second's difference is the same reading (noise is per minute), not random jitter.
    t = day.replace(hour=3, minute=7, second=10)
    assert depth_to_water(t, site) == depth_to_water(t + timedelta(seconds=30), site)


def test_battery_sags_slowly_and_is_replaced() -> None:
    site = site_for(STATIONS[1])
    start = datetime.combine(site.installed, datetime.min.time(), CHINA_TZ) + timedelta(days=1)
    volts = [battery_voltage(start + timedelta(days=d), site) for d in range(0, 1000, 30)]
    drops = [a - b for a, b in itertools.pairwise(volts)]
    assert sum(d > 0 for d in drops) >= len(drops) - 3  # mostly falling…
    assert any(d < -0.5 for d in drops)  # …until the battery is replaced
    assert all(11.0 < v < 13.6 for v in volts)


def test_each_kind_reports_its_elements_in_plausible_ranges() -> None:
    from aquifer.telemetry.elements import ELEMENTS

    t = datetime(YEAR, 6, 1, 7, tzinfo=CHINA_TZ)
    for kind, keys in KINDS.items():
        values = readings_at(kind, site_for("1405220006"), t)
        assert tuple(values) == keys
        for key, value in values.items():
            assert ELEMENTS[key].in_range(value), (key, value)


@pytest.mark.parametrize("protocol", ["sl651", "szy206"])
def test_frames_decode_to_the_simulated_readings(protocol: str) -> None:
    device = SimDevice(simulated_station(protocol, 3), protocol, "1A2B")
    t = datetime(YEAR, 4, 15, 8, 30, tzinfo=CHINA_TZ)
    expected = readings_at("rtu", device.site, t)
    got: dict[str, float] = {}
    for frame in report_frames(device, t):
        decoded = decode(frame)
        assert decoded.station == device.station
        for r in map_frame(decoded, received_at=t + timedelta(seconds=5)).readings:
            assert r.observed_at == t
            got[r.element] = r.value
    if protocol == "szy206":  # a level, not a depth; no battery item in SZY206
        assert got.pop("water_level") == pytest.approx(
            device.site.ground_elevation - expected.pop("depth_to_water")
        )
        expected.pop("battery_voltage")
    assert got == pytest.approx(expected, abs=0.02)
    if protocol == "sl651":
        serials = [sl651.decode(report_frames(device, t)[0]).serial for _ in range(2)]
        assert serials[1] == (serials[0] or 0) % 65535 + 1


def test_json_body_is_a_valid_batch() -> None:
    device = SimDevice("yc-sim-mqtt-00001", "mqtt", "0123456789abcdef", "quality_sonde")
    body = json_body(device, datetime(YEAR, 6, 1, 10, tzinfo=CHINA_TZ))
    readings, errors = parse_readings(json.loads(json.dumps(body)), now=datetime.now(UTC))
    assert not errors and body["token"] == device.secret
    assert {r.element for r in readings} == set(KINDS["quality_sonde"])


def test_select_and_register_devices(world: Any) -> None:
    from aquifer.core.models import AuditEntry
    from aquifer.registry.demo import demo_device_secret
    from aquifer.registry.models import Device

    found = select_devices("sl651", 3)
    assert [d.station for d in found] == [world.device_a.station_address]
    devices = select_devices("sl651", 3, register=True)
    assert [d.station for d in devices] == [
        world.device_a.station_address,
        simulated_station("sl651", 1),
        simulated_station("sl651", 2),
    ]
    made = Device.objects.get(station_address=simulated_station("sl651", 1))
    assert made.protocol == "SL651" and made.check_secret(devices[1].secret)
    assert devices[1].secret == demo_device_secret("SL651", made.station_address)
    assert AuditEntry.objects.filter(source="simulator").count() == 2
    # Again: nothing new; SZY206 stations do not collide with SL651 ones.
    assert len(register_devices("sl651", 2)) == 2
    assert AuditEntry.objects.filter(source="simulator").count() == 2
    szy = register_devices("szy206", 2)
    assert not {d.station for d in szy} & {d.station for d in devices}


DEMO_SCRIPT = textwrap.dedent(
    """
    import json, time, django
    django.setup()
    from aquifer.telemetry.simulator.demo import start_demo_simulation
    sim = start_demo_simulation(n_devices=4, interval=0.5, sl651_port=0, szy206_port=0)
    time.sleep(2.5)
    stats = sim.stop()
    print(json.dumps({"ports": sim.ports, "devices": [d.protocol for d in sim.devices],
                      "acked": stats.acked, "running": sim.running}))
    """
)


@pytest.mark.slow
def test_demo_simulation_runs_a_gateway_and_devices_and_stops(tmp_path: Path) -> None:
    env = make_db(tmp_path)
    out = subprocess.run(
        [AQUIFER[0], "-c", DEMO_SCRIPT], env=env, cwd=tmp_path, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert set(report["ports"]) == {"SL651", "SZY206"} and report["running"] is False
    assert len(report["devices"]) == 4 and report["acked"] >= 4
    stored = stored_readings(tmp_path / "aquifer.sqlite3")
    assert {element for _s, element, _t in stored} >= {"depth_to_water", "cumulative_volume"}


def test_the_package_imports_without_django() -> None:
    """The benchmarks' load generator and field tools import the simulator in a bare process:
    the package needs no Django (its registry and demo modules do, imported by name)."""
    import subprocess
    import sys

    code = (
        "import sys, aquifer.telemetry.simulator as s;"
        "print(s.simulated_station('sl651', 1), 'aquifer.registry.models' in sys.modules)"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.split() == ["140522C351", "False"]
