"""Device health: :func:`offline_sweep` turns :class:`DeviceState` into online / late /
offline and raises or clears ``device_offline`` and ``low_battery`` alarms.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.utils import timezone

from aquifer.monitoring import conf
from aquifer.monitoring.models import DeviceState
from aquifer.monitoring.sweeps.common import SweepStats, _sync, _Want
from aquifer.registry.models import Device

__all__ = ["device_health_state", "offline_sweep"]


def device_health_state(last: dt.datetime | None, interval_min: int, now: dt.datetime) -> str:
    """online / late / offline / unknown from the last observation (LATE_ / OFFLINE_FACTOR)."""
    if last is None:
        return "unknown"
    age = (now - last).total_seconds()
    interval = 60.0 * interval_min
    if age <= float(conf.get("LATE_FACTOR")) * interval:
        return "online"
    if age <= float(conf.get("OFFLINE_FACTOR")) * interval:
        return "late"
    return "offline"


def offline_sweep(now: dt.datetime | None = None) -> SweepStats:
    """Online state of every active installed device; offline and low-battery alarms."""

    now = now or timezone.now()
    stats = SweepStats()
    devices = list(
        Device.objects.filter(active=True, well__isnull=False).select_related(
            "well__township", "well__owner"
        )
    )
    states = {s.device_id: s for s in DeviceState.objects.all()}
    by_state: dict[str, list[int]] = defaultdict(list)
    offline: dict[str, _Want] = {}
    battery: dict[str, _Want] = {}
    fine: list[str] = []
    battery_fine: list[str] = []
    thresholds = conf.get("LOW_BATTERY_V")
    hysteresis = float(conf.get("BATTERY_HYSTERESIS_V"))
    factor = float(conf.get("OFFLINE_FACTOR"))
    for d in devices:
        st = states.get(d.pk)
        last = st.last_observed_at if st else None
        state = device_health_state(last, d.reporting_interval_min, now)
        if st is not None and st.state != state:
            by_state[state].append(d.pk)
        key = f"device_offline:device:{d.pk}"
        if state == "offline" and last is not None:
            hours = (now - last).total_seconds() / 3600
            offline[key] = _Want(
                device=d,
                message="device_offline",
                params={
                    "station": d.station_address,
                    "hours": hours,
                    "last": f"{timezone.localtime(last):%Y-%m-%d %H:%M}",
                    "factor": factor,
                    "interval": d.reporting_interval_min,
                },
                severity="critical" if hours >= 72 else "warning",
                data={"last_observed_at": last.isoformat()},
                at=last + dt.timedelta(minutes=factor * d.reporting_interval_min),
            )
        else:
            fine.append(key)
        volts = (st.last_values.get("battery_voltage") if st else None) or None
        bkey = f"low_battery:device:{d.pk}"
        if volts is not None and volts[1] is not None:
            limit = float(thresholds.get(d.kind, thresholds["default"]))
            if volts[1] < limit:
                battery[bkey] = _Want(
                    device=d,
                    message="low_battery",
                    params={"station": d.station_address, "volts": volts[1], "limit": limit},
                    severity="warning",
                    data={"volts": volts[1], "at": volts[0]},
                )
            elif volts[1] >= limit + hysteresis:
                battery_fine.append(bkey)
    for state, ids in by_state.items():
        for k in range(0, len(ids), 900):
            DeviceState.objects.filter(device_id__in=ids[k : k + 900]).update(state=state)
    r1, c1 = _sync("device_offline", offline, fine, now)
    r2, c2 = _sync("low_battery", battery, battery_fine, now)
    stats.alarms_raised, stats.alarms_cleared = r1 + r2, c1 + c2
    stats.extra = {"devices": len(devices), "offline": len(offline), "low_battery": len(battery)}
    return stats
