"""The sweeps: checks over new readings (flags, findings, alarms), offline, battery, status,
unregistered stations, levels; and the daily health figures."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from aquifer.monitoring import health, sweeps
from aquifer.monitoring.models import (
    Alarm,
    CheckSettings,
    DeviceHealthDaily,
    DeviceState,
    LevelThreshold,
    MeterChange,
    ReadingFinding,
)
from aquifer.telemetry.models import QuarantinedFrame, Reading, ReadingDaily
from aquifer.telemetry.store import ReadingRow, ingest

NOW = timezone.now().replace(second=0, microsecond=0)


def _series(
    device: Any, element: str, values: list[float], step_min: int = 60, end: dt.datetime = NOW
) -> list[dt.datetime]:
    times = [
        end - dt.timedelta(minutes=step_min * (len(values) - 1 - i)) for i in range(len(values))
    ]
    ingest(
        [ReadingRow(device.pk, element, t, float(v)) for t, v in zip(times, values, strict=True)]
    )
    return times


def test_check_sweep_flags_and_records_without_changing_values(world: Any) -> None:
    d = world.device_b
    values = [30.0 + 0.01 * i for i in range(20)]
    values[10] = 80.0  # a spike
    values[15] = 5000.0  # out of the physical range? no: depth range is -20..1500
    values[15] = 2000.0
    _series(d, "depth_to_water", values)
    before = dict(Reading.objects.values_list("id", "value"))
    stats = sweeps.check_sweep(now=NOW)
    assert stats.readings == 20
    assert dict(Reading.objects.values_list("id", "value")) == before  # values never change
    spike = Reading.objects.get(device=d, value=80.0)
    out = Reading.objects.get(device=d, value=2000.0)
    assert spike.flags & 2 and out.flags & 4
    checks = set(ReadingFinding.objects.values_list("reading_id", "check_kind"))
    assert (spike.pk, "SPIKE") in checks and (out.pk, "RANGE") in checks
    alarm = Alarm.objects.get(kind="suspicious_reading")
    assert alarm.device == d and alarm.township == world.township_b
    # a rejected reading leaves the daily rollup
    assert ReadingDaily.objects.filter(device=d, max__gte=2000).count() == 0
    # idempotent: nothing new to read
    assert sweeps.check_sweep(now=NOW).readings == 0
    state = DeviceState.objects.get(device=d)
    assert state.last_observed_at == NOW
    assert state.last_values["depth_to_water"][1] == pytest.approx(values[-1])


def test_new_readings_are_checked_with_stored_context(world: Any) -> None:
    d = world.device_a
    _series(d, "cumulative_volume", [100, 110, 120, 130], end=NOW - dt.timedelta(hours=2))
    sweeps.check_sweep(now=NOW)
    _series(d, "cumulative_volume", [50, 60], end=NOW)  # runs backwards after the stored ones
    sweeps.check_sweep(now=NOW)
    f = ReadingFinding.objects.get(check_kind="BACKWARDS")
    assert f.value == 50 and f.severity == "critical"


def test_registered_meter_change_is_not_tampering(world: Any) -> None:
    d = world.device_a
    MeterChange.objects.create(
        device=d, changed_at=NOW - dt.timedelta(minutes=90), old_final=130, new_initial=0
    )
    _series(d, "cumulative_volume", [100, 110, 120, 130, 0.5, 3], step_min=30)
    sweeps.check_sweep(now=NOW)
    assert not ReadingFinding.objects.filter(check_kind__in=["RESET", "BACKWARDS"]).exists()


def test_unregistered_reset_is_flagged(world: Any) -> None:
    _series(world.device_a, "cumulative_volume", [100, 110, 120, 130, 0.5, 3], step_min=30)
    sweeps.check_sweep(now=NOW)
    assert ReadingFinding.objects.filter(check_kind="RESET").count() == 1


def test_device_settings_override_the_defaults(world: Any) -> None:
    CheckSettings.objects.create(
        element="depth_to_water", device=world.device_b, overrides={"range_hi": 50.0}
    )
    _series(world.device_b, "depth_to_water", [30, 30.1, 60, 30.2, 30.3])
    sweeps.check_sweep(now=NOW)
    assert ReadingFinding.objects.filter(check_kind="RANGE", value=60).exists()
    cfg = sweeps.configs(world.device_a.pk, "depth_to_water")
    assert cfg.range_hi == 1500.0


def test_overridden_finding_is_not_raised_again(world: Any) -> None:
    from aquifer.monitoring.review import review_finding

    d = world.device_a
    _series(d, "cumulative_volume", [100, 110, 120, 130], end=NOW - dt.timedelta(hours=3))
    _series(d, "cumulative_volume", [50], end=NOW - dt.timedelta(hours=2))
    sweeps.check_sweep(now=NOW)
    f = ReadingFinding.objects.get(check_kind="BACKWARDS")
    review_finding(f, world.accounts["bureau"], confirm=False, reason="register re-read by hand")
    assert Reading.objects.get(pk=f.reading_id).flags == 0
    _series(d, "cumulative_volume", [60, 70], end=NOW)  # the overridden reading is context now
    sweeps.check_sweep(now=NOW)
    assert Reading.objects.get(pk=f.reading_id).flags == 0


def test_offline_sweep_raises_once_and_clears(world: Any) -> None:
    d = world.device_a  # interval 60 min
    _series(d, "flow_rate", [1.0, 2.0], end=NOW - dt.timedelta(hours=5))
    sweeps.check_sweep(now=NOW)
    stats = sweeps.offline_sweep(now=NOW)
    assert stats.alarms_raised == 1
    opened = Alarm.objects.get(kind="device_offline").opened_at
    assert opened == NOW - dt.timedelta(hours=2)  # when it went offline: last + 3 × 60 min
    sweeps.offline_sweep(now=NOW + dt.timedelta(minutes=5))
    alarm = Alarm.objects.get(kind="device_offline")
    assert alarm.count == 2 and alarm.device == d
    assert DeviceState.objects.get(device=d).state == "offline"
    _series(d, "flow_rate", [3.0], end=NOW + dt.timedelta(minutes=10))
    sweeps.check_sweep(now=NOW + dt.timedelta(minutes=10))
    stats = sweeps.offline_sweep(now=NOW + dt.timedelta(minutes=15))
    assert stats.alarms_cleared == 1
    alarm.refresh_from_db()
    assert alarm.state == "resolved"
    assert DeviceState.objects.get(device=d).state == "online"


def test_health_state_boundaries() -> None:
    last = NOW
    assert sweeps.device_health_state(None, 60, NOW) == "unknown"
    assert sweeps.device_health_state(last, 60, NOW + dt.timedelta(minutes=90)) == "online"
    assert sweeps.device_health_state(last, 60, NOW + dt.timedelta(minutes=91)) == "late"
    assert sweeps.device_health_state(last, 60, NOW + dt.timedelta(minutes=181)) == "offline"


def test_low_battery_with_hysteresis(world: Any) -> None:
    d = world.device_b  # default threshold 11.0 V, hysteresis 0.2 V
    _series(d, "battery_voltage", [10.8], end=NOW)
    sweeps.check_sweep(now=NOW)
    sweeps.offline_sweep(now=NOW)
    assert Alarm.objects.filter(kind="low_battery", state="open").count() == 1
    _series(d, "battery_voltage", [11.1], end=NOW + dt.timedelta(minutes=1))
    sweeps.check_sweep(now=NOW)
    sweeps.offline_sweep(now=NOW)
    assert Alarm.objects.filter(kind="low_battery", state="open").count() == 1  # within 0.2 V
    _series(d, "battery_voltage", [11.3], end=NOW + dt.timedelta(minutes=2))
    sweeps.check_sweep(now=NOW)
    sweeps.offline_sweep(now=NOW)
    assert Alarm.objects.filter(kind="low_battery", state="open").count() == 0


def test_status_bits(world: Any) -> None:
    d = world.device_a
    assert sweeps.report_status(d, {"door_closed": False, "ac_power_off": True}) == 2
    assert sweeps.report_status(d, {"door_closed": False, "ac_power_off": True}) == 0
    keys = set(Alarm.objects.filter(state="open").values_list("key", flat=True))
    assert keys == {
        f"device_status:device:{d.pk}:door_open",
        f"device_status:device:{d.pk}:ac_power_off",
    }
    assert Alarm.objects.get(key__endswith="door_open").severity == "critical"
    sweeps.report_status(d, {"door_closed": True, "ac_power_off": False})
    assert not Alarm.objects.filter(state="open").exists()


def test_unregistered_station_alarm_then_registered(world: Any) -> None:
    from aquifer.registry.models import Device

    for _ in range(3):
        QuarantinedFrame.objects.create(
            station="00AABBCCDD", protocol="SL651", kind="unknown_station", reason="unknown"
        )
    stats = sweeps.station_sweep(now=NOW)
    assert stats.alarms_raised == 1
    alarm = Alarm.objects.get(kind="unregistered_station")
    assert alarm.key == "unregistered_station:00AABBCCDD" and alarm.township is None
    QuarantinedFrame.objects.create(
        station="00AABBCCDD", protocol="SL651", kind="unknown_station", reason="unknown"
    )
    sweeps.station_sweep(now=NOW)
    alarm.refresh_from_db()
    assert alarm.count == 2
    Device.objects.create(
        kind="rtu", protocol="SL651", station_address="00AABBCCDD", well=world.well_a
    )
    assert sweeps.station_sweep(now=NOW).alarms_cleared == 1


def test_level_below_warning_and_falling_fast(world: Any) -> None:
    m = world.monitoring_b
    m.warning_depth_m = 35
    m.save()
    LevelThreshold.objects.create(monitoring_well=m, max_fall_m_per_day=0.3, window_days=5)
    values = [30.0 + 0.5 * i for i in range(8)]  # 0.5 m/day deeper: 33.5 at the end
    _series(world.device_b, "depth_to_water", values, step_min=1440)
    sweeps.check_sweep(now=NOW)
    sweeps.level_sweep(now=NOW)
    assert Alarm.objects.filter(kind="level_falling_fast", state="open").count() == 1
    assert not Alarm.objects.filter(kind="level_below_warning").exists()
    _series(world.device_b, "depth_to_water", [36.0], end=NOW + dt.timedelta(minutes=1))
    sweeps.check_sweep(now=NOW)
    sweeps.level_sweep(now=NOW)
    below = Alarm.objects.get(kind="level_below_warning")
    assert below.well == world.well_b and below.township == world.township_b


def test_health_figures(world: Any) -> None:
    day = timezone.localdate() - dt.timedelta(days=1)
    start = health.local_day_start(day)
    _series(world.device_a, "flow_rate", [1.0] * 12, end=start + dt.timedelta(hours=11))
    assert health.compute_day(day) == 2
    assert health.compute_day(day) == 2  # idempotent
    rows = {r.device_id: r for r in DeviceHealthDaily.objects.filter(day=day)}
    assert rows[world.device_a.pk].received == 12 and rows[world.device_a.pk].expected == 24
    assert rows[world.device_a.pk].online and not rows[world.device_b.pk].online
    county = health.figures(DeviceHealthDaily.objects.all(), "county", day, day)
    assert county[0].online_rate == 0.5 and county[0].completeness == 12 / 48
    towns = {
        f.key: f for f in health.figures(DeviceHealthDaily.objects.all(), "township", day, day)
    }
    assert towns[world.township_a.pk].online_rate == 1.0
    assert towns[world.township_b.pk].online_rate == 0.0
