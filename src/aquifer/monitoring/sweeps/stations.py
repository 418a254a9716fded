"""Frames from unregistered stations (quarantined, a possible illegal well):
:func:`station_sweep` raises one alarm per station and clears it once the station is
registered.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.utils import timezone

from aquifer.monitoring import alarms
from aquifer.monitoring.models import OPEN_STATES, Alarm
from aquifer.monitoring.sweeps.common import SweepStats, _mark, _set_mark, _sync, _Want
from aquifer.registry.models import Device
from aquifer.telemetry.models import QuarantinedFrame, QuarantineKind

__all__ = ["station_sweep"]


def station_sweep(now: dt.datetime | None = None) -> SweepStats:
    """Frames from unregistered stations (a possible illegal well) → one alarm per station;
    cleared when the station is registered."""

    now = now or timezone.now()
    stats = SweepStats()
    mark = _mark("stations")
    frames = list(
        QuarantinedFrame.objects.filter(id__gt=mark, kind=QuarantineKind.UNKNOWN_STATION)
        .order_by("id")
        .values_list("id", "station", "protocol", "remote_addr", "received_at")[:100_000]
    )
    by_station: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for f in frames:
        if f[1]:
            by_station[f[1]].append(f)
    registered = set(
        Device.objects.filter(station_address__in=list(by_station)).values_list(
            "station_address", flat=True
        )
    )
    wanted = {}
    for station, fs in by_station.items():
        if station in registered:
            continue
        last = fs[-1]
        wanted[f"unregistered_station:{station}"] = _Want(
            message="unregistered_station",
            params={"station": station, "frames": len(fs), "protocol": last[2], "source": last[3]},
            severity="warning",
            data={"station": station, "protocol": last[2], "remote_addr": last[3]},
        )
    raised, _ = _sync("unregistered_station", wanted, (), now)
    open_keys = Alarm.objects.filter(
        kind="unregistered_station", state__in=OPEN_STATES
    ).values_list("key", flat=True)
    now_registered = set(
        Device.objects.filter(
            station_address__in=[k.split(":", 1)[1] for k in open_keys]
        ).values_list("station_address", flat=True)
    )
    cleared = 0
    for s in now_registered:
        if alarms.clear_alarm(
            kind="unregistered_station", key=f"unregistered_station:{s}", note="station registered"
        ):
            cleared += 1
    if frames:
        _set_mark("stations", frames[-1][0])
    stats.readings, stats.alarms_raised, stats.alarms_cleared = len(frames), raised, cleared
    return stats
