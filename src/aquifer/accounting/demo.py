"""Demo accounting on top of the registry demo (``aquifer demo``).

``build()`` gives every flow meter and RTU in the demo county a meter history where it has none
— a year of ``cumulative_volume`` readings every 6 hours from the simulator's meter model
(:func:`aquifer.telemetry.simulator.readings_at`, so the live simulated devices carry on where
the history ends) — then computes and stores the monthly withdrawal of every well for last year
and this year (:func:`aquifer.accounting.service.refresh`). Wells without a meter are estimated,
as in production (quota share or the per-purpose default).

Idempotent: the readings grid is fixed to whole days and the store ignores readings it already
holds; refreshing overwrites the computed figures with the same values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from aquifer.registry.models import Device
from aquifer.telemetry import simulator
from aquifer.telemetry.models import ReadingDaily
from aquifer.telemetry.simulator.registry import demo_sites
from aquifer.telemetry.store import ReadingRow, ingest, refresh_rollups

__all__ = ["build"]

STEP_HOURS = 6  # = the default gap threshold: a 6-hourly series has no gaps
DAYS = 365


def _meter_history(log: Callable[[str], None]) -> int:
    from django.utils import timezone

    refresh_rollups()
    have = set(
        ReadingDaily.objects.filter(element="cumulative_volume")
        .values_list("device_id", flat=True)
        .distinct()
    )
    devices = [
        (pk, station, kind)
        for pk, station, kind in Device.objects.filter(
            active=True, well__isnull=False, kind__in=["flow_meter", "rtu"]
        ).values_list("pk", "station_address", "kind")
        if pk not in have
    ]
    tz = timezone.get_current_timezone()
    end = dt.datetime.combine(timezone.localdate(), dt.time(), tzinfo=tz)
    times = [
        end - dt.timedelta(hours=STEP_HOURS * k) for k in range(DAYS * 24 // STEP_HOURS, 0, -1)
    ]
    sites = demo_sites(station for _pk, station, _kind in devices)
    stored = 0
    for n, (pk, station, kind) in enumerate(devices, start=1):
        site = sites[station]
        sim_kind = simulator.kind_of(kind)
        rows = []
        for t in times:
            value = simulator.readings_at(sim_kind, site, t).get("cumulative_volume")
            if value is not None:
                rows.append(ReadingRow(pk, "cumulative_volume", t, value))
        stored += ingest(rows)
        if n % 50 == 0 or n == len(devices):
            log(f"accounting demo: meter history {n}/{len(devices)}")
    refresh_rollups()
    return stored


def build(log: Callable[[str], None] = print) -> None:
    """Meter histories where missing, then last year's and this year's monthly figures."""
    from django.utils import timezone

    from aquifer.accounting import service

    stored = _meter_history(log)
    this = timezone.localdate().year
    n = service.refresh(this - 1) + service.refresh(this)
    county = service.totals("county", this).get(None, service.ZERO)
    log(
        f"accounting demo: {stored} meter readings added; {n} well-months computed; "
        f"{this} so far {county.total_m3:,.0f} m³ ({county.estimated_m3:,.0f} m³ estimated)"
    )
