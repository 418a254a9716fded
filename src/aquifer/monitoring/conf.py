"""Monitoring settings: ``settings.AQUIFER["MONITORING"]`` over these defaults.

Every key is documented in docs/monitoring.md ("Settings").
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

__all__ = ["DEFAULTS", "get"]

DEFAULTS: dict[str, Any] = {
    # A device is offline when nothing was observed for OFFLINE_FACTOR × its reporting
    # interval, late after LATE_FACTOR × interval (the map's amber).
    "OFFLINE_FACTOR": 3.0,
    "LATE_FACTOR": 1.5,
    # Low battery: volts below which a device's battery is low (battery_voltage element), by
    # device kind ("default" for the others): a 12 V lead-acid RTU battery is nearly flat at
    # 11 V; a 3.6 V lithium logger would set its kind to ~3.3. Then the hysteresis above the
    # threshold before the alarm clears.
    "LOW_BATTERY_V": {"default": 11.0},
    "BATTERY_HYSTERESIS_V": 0.2,
    # Hours to resolve an alarm by severity; per kind overrides in SLA_HOURS_BY_KIND.
    "SLA_HOURS": {"critical": 4, "warning": 24, "info": 72},
    "SLA_HOURS_BY_KIND": {"unregistered_station": 48},
    # Default fall-rate threshold (m/day, depth increasing) when a monitoring well has none.
    "LEVEL_MAX_FALL_M_PER_DAY": 0.5,
    "LEVEL_FALL_WINDOW_DAYS": 7,
    # The check sweep reads at most this many new readings per run (then runs again).
    "SWEEP_BATCH": 500_000,
    # Severity of status bits the devices report (SL651 table 58 / SZY206 alarm word).
    "STATUS_SEVERITY": {
        "door_open": "critical",
        "door": "critical",
        "ac_power_off": "warning",
        "magnetic_interference": "critical",
        "flow_meter_fault": "warning",
        "level_meter_fault": "warning",
        "memory_fault": "warning",
        "temperature_meter_fault": "warning",
    },
}


def get(key: str) -> Any:
    """A monitoring setting: the installation's value, else the default."""
    own = getattr(settings, "AQUIFER", {}).get("MONITORING", {})
    return own[key] if key in own else DEFAULTS[key]
