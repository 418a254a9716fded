"""Telemetry's part of the demo county: a past for the charts (``aquifer demo``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.db import models
from django.utils import timezone

from aquifer.registry.models import Device
from aquifer.telemetry import simulator
from aquifer.telemetry.simulator.registry import demo_sites, select_devices
from aquifer.telemetry.store import ReadingRow, ingest, refresh_rollups

__all__ = ["build_history"]


def build_history(
    days: int = 365, step_hours: int = 6, live_devices: int = 10, log: Callable[[str], None] = print
) -> int:
    """Give the demo's charts a past: ``days`` of readings every ``step_hours`` for the devices
    on monitoring wells and for those ``aquifer demo`` simulates live (so live readings carry
    on where the history ends). Values come from the simulator's models (seasons, pumping,
    a meter that only grows). Idempotent: the grid is fixed to whole days, and the store
    ignores readings it already holds. Returns the number of readings newly stored.
    """
    live = {
        d.station
        for protocol in ("sl651", "szy206")
        for d in select_devices(protocol, live_devices // 2)
    }
    devices = list(
        Device.objects.filter(active=True)
        .filter(models.Q(well__monitoring__isnull=False) | models.Q(station_address__in=live))
        .values_list("pk", "station_address", "kind")
        .distinct()
    )
    tz = timezone.get_current_timezone()
    end = dt.datetime.combine(timezone.localdate(), dt.time(), tzinfo=tz)
    times = [
        end - dt.timedelta(hours=step_hours * k) for k in range(days * 24 // step_hours, 0, -1)
    ]
    sites = demo_sites(station for _pk, station, _kind in devices)
    stored = 0
    for n, (pk, station, kind) in enumerate(devices, start=1):
        site = sites[station]
        kind = simulator.kind_of(kind)
        rows = [
            ReadingRow(pk, element, t, value)
            for t in times
            for element, value in simulator.readings_at(kind, site, t).items()
        ]
        stored += ingest(rows)
        log(f"{n}/{len(devices)}")
    refresh_rollups()
    return stored
