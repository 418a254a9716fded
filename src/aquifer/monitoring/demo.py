"""Demo data of the monitoring app, on top of the registry demo and its reading history.

:func:`build` gives the alarm board and the health pages something realistic to show:

- the last ``RECENT_DAYS`` days of readings of every active installed device at its own
  reporting interval (the registry's history is every six hours, for a few devices), from
  the simulator's models, except for a few devices that stopped reporting one to three days
  ago (offline alarms) and a few whose battery runs flat;
- incidents through the ordinary paths: a meter reset with a registered meter change (no
  alarm) and two without (tampering), level spikes, a sinking battery, status bits (door open,
  power cut), frames from two unregistered stations, fall-rate thresholds on monitoring wells;
- then every sweep over all of it: checks (flags, findings, suspicious-reading alarms),
  offline and battery, stations, levels, escalation, and the daily health figures of the
  whole days of those readings; and a few alarms acknowledged or resolved by the demo
  bureau account.

Idempotent: readings are stored once, alarms are one per condition, meter changes and
thresholds are looked up before they are created.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

from aquifer.core.audit import audit_context
from aquifer.core.models import User
from aquifer.core.roles import Role
from aquifer.registry.models import Device, MonitoringWell
from aquifer.telemetry import simulator
from aquifer.telemetry.models import QuarantinedFrame, Reading
from aquifer.telemetry.simulator.registry import demo_sites
from aquifer.telemetry.store import ReadingRow, ingest, quarantine, refresh_rollups

__all__ = ["build"]

RECENT_DAYS = 3
SEED = 20260401


def _recent_readings(
    devices: list[Any],
    silent: set[int],
    weak: set[int],
    now: dt.datetime,
    log: Callable[[str], None],
) -> int:

    rng = random.Random(SEED)
    stored = 0
    start = now - dt.timedelta(days=RECENT_DAYS)
    sites = demo_sites(d.station_address for d in devices)
    for n, d in enumerate(devices, start=1):
        step = dt.timedelta(minutes=d.reporting_interval_min)
        stop = now - dt.timedelta(hours=rng.uniform(26, 72)) if d.pk in silent else now
        t = start.replace(minute=0, second=0, microsecond=0)
        site = sites[d.station_address]
        kind = simulator.kind_of(d.kind)
        rows = []
        while t <= stop:
            values = simulator.readings_at(kind, site, t)
            if d.pk in weak and "battery_voltage" in values:  # a battery running flat
                left = (now - t) / (now - start)
                values["battery_voltage"] = round(10.6 + 0.8 * left, 2)
            rows += [ReadingRow(d.pk, el, t, v) for el, v in values.items()]
            t += step
        stored += ingest(rows) if rows else 0
        if n % 50 == 0:
            log(f"recent readings {n}/{len(devices)}")
    refresh_rollups()
    return stored


def _incidents(devices: list[Any], now: dt.datetime) -> None:
    from aquifer.monitoring.models import LevelThreshold, MeterChange
    from aquifer.monitoring.sweeps import report_status

    meters = [d for d in devices if d.kind in ("flow_meter", "rtu")][:3]
    loggers = [d for d in devices if d.kind == "level_logger"][:4]
    t0 = (now - dt.timedelta(hours=5)).replace(minute=7, second=0, microsecond=0)
    for i, d in enumerate(meters):
        last = (
            Reading.objects.filter(device=d, element="cumulative_volume", observed_at__lt=t0)
            .order_by("-observed_at")
            .values_list("value", flat=True)
            .first()
        )
        if last is None:
            continue
        if i == 0 and not MeterChange.objects.filter(device=d).exists():
            MeterChange.objects.create(
                device=d,
                changed_at=t0 - dt.timedelta(minutes=5),
                old_final=last,
                new_initial=0,
                old_serial="LXS-80E-0311",
                new_serial="LXS-80E-1207",
                note="旧表计量失准，更换新表（演示）",
            )
        ingest([ReadingRow(d.pk, "cumulative_volume", t0, 0.0 if i < 2 else last * 0.6)])
    for i, d in enumerate(loggers[:2]):
        t = (now - dt.timedelta(hours=3 + i)).replace(minute=13, second=0, microsecond=0)
        ingest([ReadingRow(d.pk, "depth_to_water", t, 2000.0 if i == 0 else 0.5)])
    if len(devices) >= 6:
        report_status(devices[-1], {"door_closed": False, "ac_power_off": False}, now)
        report_status(devices[-2], {"door_closed": True, "ac_power_off": True}, now)
    for station in ("00140529F1", "00140529F2"):
        if not QuarantinedFrame.objects.filter(station=station).exists():
            for _ in range(3):
                quarantine(
                    "unknown_station",
                    "station not registered (demo)",
                    protocol="SL651",
                    remote_addr="10.20.30.40:40001",
                    station=station,
                )
    for m in MonitoringWell.objects.filter(monitors_level=True).order_by("pk")[:20]:
        LevelThreshold.objects.get_or_create(
            monitoring_well=m, defaults={"max_fall_m_per_day": 0.05, "window_days": 7}
        )


#: The bureau's tuning of the checks to its sensors (county-wide CheckSettings): the demo's
#: pumping wells draw down up to 3 m while the pump runs (not a spike), its quality sondes
#: report pH and dissolved oxygen with some scatter, and turbidity in whole NTU (a constant
#: value there is no fault).
DEMO_CHECK_SETTINGS: dict[str, dict[str, Any]] = {
    "depth_to_water": {"spike_min_delta": 3.5},
    "ph": {"spike_min_delta": 0.6},
    "dissolved_oxygen": {"spike_min_delta": 1.5},
    "turbidity": {"stuck_min_count": None},
}


def _tune_checks() -> None:
    from aquifer.monitoring.models import CheckSettings

    for element, overrides in DEMO_CHECK_SETTINGS.items():
        CheckSettings.objects.get_or_create(
            element=element, device=None, defaults={"overrides": overrides}
        )


def _lifecycle(log: Callable[[str], None]) -> None:
    from aquifer.monitoring import alarms
    from aquifer.monitoring.models import Alarm, AlarmEvent, AlarmState

    user = User.objects.filter(role=Role.BUREAU).order_by("pk").first()
    if user is None or AlarmEvent.objects.filter(user__isnull=False).exists():
        return  # no bureau account, or done by an earlier run
    open_ = list(Alarm.objects.filter(state=AlarmState.OPEN).order_by("pk")[:6])
    for i, a in enumerate(open_):  # (a standing condition resolved by hand would reopen)
        alarms.acknowledge(a, user, "已通知乡镇水管员现场核查（演示）")
        if a.kind == "suspicious_reading" and i % 2:  # an event, not a standing condition
            alarms.resolve(a, user, "现场检查，已恢复（演示）")
    log(f"alarm lifecycle on {len(open_)} alarms")


def build(log: Callable[[str], None] = print) -> None:
    """Add the monitoring demo (see the module docstring); idempotent."""
    from django.utils import timezone

    from aquifer.monitoring import alarms, health, sweeps

    now = timezone.now()
    devices = list(
        Device.objects.filter(active=True, well__isnull=False).order_by("station_address")
    )
    rng = random.Random(SEED)
    # A few, not a flood: some 1.5 % of the devices fell silent, as many have a flat battery.
    silent = {d.pk for d in devices if rng.random() < 0.015}
    weak = {d.pk for d in devices if d.pk not in silent and rng.random() < 0.015}
    with audit_context(source="demo"):
        _tune_checks()
        stored = _recent_readings(devices, silent, weak, now, log)
        log(f"recent readings: {stored} new")
        _incidents(devices, now)
        total = 0
        while True:
            stats = sweeps.check_sweep(now=now)
            total += stats.readings
            if not stats.readings:
                break
            log(f"checked {total} readings")
        sweeps.offline_sweep(now)
        sweeps.station_sweep(now)
        sweeps.level_sweep(now)
        alarms.escalate_overdue(now)
        health.health_job(timezone.localdate(), backfill_days=RECENT_DAYS - 1)
        _lifecycle(log)
    log("monitoring demo ready")
