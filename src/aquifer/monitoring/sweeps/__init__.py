"""The monitoring sweeps: quality checks over new readings, device offline / battery / status,
unregistered stations, groundwater level alarms. Each is idempotent (run by the jobs in
:mod:`aquifer.monitoring.jobs`, by ``aquifer demo`` and by the benches).

- :func:`check_sweep` reads the readings stored since its watermark (by ``Reading.id``), runs
  :func:`aquifer.monitoring.checks.check_series` per device and element with a little stored
  context before them, sets ``SUSPECT`` / ``REJECTED`` bits on ``Reading.flags`` (only ever
  adds bits; values are never touched), records :class:`ReadingFinding` rows, keeps
  :class:`DeviceState` (last report, last values) and raises ``suspicious_reading`` alarms.
- :func:`offline_sweep` turns :class:`DeviceState` into online / late / offline, and raises or
  clears ``device_offline`` and ``low_battery`` alarms; :func:`station_sweep` alarms on frames
  from unregistered stations; :func:`level_sweep` on monitoring wells whose depth to water is
  beyond the warning depth or falls faster than its threshold.

One module per sweep: :mod:`~.readings` (checks over new readings), :mod:`~.devices` (offline,
battery), :mod:`~.status` (status bits), :mod:`~.levels` (level alarms), :mod:`~.stations`
(quarantined frames of unregistered stations); :mod:`~.common` (statistics, watermarks, the
alarm sync) beside them. Everything public is imported from here.
"""

from __future__ import annotations

from aquifer.monitoring.sweeps.common import SweepStats
from aquifer.monitoring.sweeps.devices import device_health_state as device_health_state
from aquifer.monitoring.sweeps.devices import offline_sweep
from aquifer.monitoring.sweeps.levels import level_sweep
from aquifer.monitoring.sweeps.readings import CONTEXT as CONTEXT
from aquifer.monitoring.sweeps.readings import check_sweep, configs
from aquifer.monitoring.sweeps.stations import station_sweep
from aquifer.monitoring.sweeps.status import STATUS_TROUBLE as STATUS_TROUBLE
from aquifer.monitoring.sweeps.status import report_device_status as report_device_status
from aquifer.monitoring.sweeps.status import report_status

__all__ = [
    "SweepStats",
    "check_sweep",
    "configs",
    "level_sweep",
    "offline_sweep",
    "report_status",
    "station_sweep",
]
