"""Simulated devices in the registry (Django): picking or registering them. Imported by name
(``aquifer.telemetry.simulator.registry``): the package itself needs no Django."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from django.db import transaction

from aquifer.core.audit import audit_context
from aquifer.registry.demo import demo_device_secret
from aquifer.registry.models import Device

from .frames import SimDevice, kind_of, simulated_station
from .series import Site, site_for

#: How many deep production wells of the demo county pump outside an emergency: the realistic
#: violations ("deep withdrawal outside an emergency", R1.2) the alarm board shows.
DEEP_VIOLATIONS = 2
_METERING = ("flow_meter", "rtu")


def deep_violators() -> list[int]:
    """The wells (ids) whose pumps run although they draw deep groundwater: the first
    :data:`DEEP_VIOLATIONS` active, metered deep production wells by code (deterministic)."""
    return list(
        Device.objects.filter(
            active=True,
            kind__in=_METERING,
            well__layer="deep",
            well__status="active",
            well__monitoring__isnull=True,
            well__owner__isnull=False,
        )
        .order_by("well__code")
        .values_list("well_id", flat=True)
        .distinct()[:DEEP_VIOLATIONS]
    )


def demo_sites(stations: Iterable[str]) -> dict[str, Site]:
    """The simulated well behind each station as the demo county runs it.

    :func:`~aquifer.telemetry.simulator.series.site_for`, except that the pump of a deep well
    stands still (duty 0: deep groundwater is the emergency reserve, drawn only in a declared
    emergency) unless the well is one of :func:`deep_violators`. Every part of the demo that
    makes readings (history, meter history, recent readings, live devices) goes through here,
    so they all tell one story.
    """
    wanted = list(dict.fromkeys(stations))
    violators = set(deep_violators())
    deep = {
        station
        for station, well in Device.objects.filter(
            station_address__in=wanted, well__layer="deep"
        ).values_list("station_address", "well_id")
        if well not in violators
    }
    out = {}
    for station in wanted:
        site = site_for(station)
        out[station] = dataclasses.replace(site, duty=0.0) if station in deep else site
    return out


# --- devices in the registry (Django) -----------------------------------------------------------

_PROTOCOL_NAMES = {"sl651": "SL651", "szy206": "SZY206", "mqtt": "MQTT", "http": "HTTP"}


def select_devices(protocol: str, n: int, *, register: bool = False) -> list[SimDevice]:
    """``n`` registered, active devices of ``protocol`` to simulate, with their demo secrets.

    Demo devices first (by station address). With ``register``, missing ones are created as
    simulated stations (:func:`register_devices`). Blocking (database).
    """
    name = _PROTOCOL_NAMES[protocol.lower()]
    rows = list(
        Device.objects.filter(protocol=name, active=True)
        .order_by("station_address")
        .values_list("station_address", "kind")[:n]
    )
    out = [SimDevice(s, protocol, demo_device_secret(name, s), kind_of(k)) for s, k in rows]
    sites = demo_sites(d.station for d in out)
    for d in out:
        d.site = sites[d.station]
    if len(out) < n and register:
        out += register_devices(protocol, n - len(out), skip={d.station for d in out})
    return out


def register_devices(
    protocol: str, n: int, *, skip: set[str] | None = None, kind: str = "rtu"
) -> list[SimDevice]:
    """Create ``n`` simulated devices of ``protocol`` that do not exist yet (bureau context:
    no well, audit source ``simulator``); returns them with their secrets. Blocking."""

    name = _PROTOCOL_NAMES[protocol.lower()]
    skip = set(skip or ())
    out: list[SimDevice] = []
    k = 0
    with transaction.atomic(), audit_context(source="simulator", reason="aquifer simulate"):
        while len(out) < n:
            chunk = [simulated_station(protocol, i) for i in range(k + 1, k + n - len(out) + 1)]
            k += len(chunk)
            existing = {
                d.station_address: d for d in Device.objects.filter(station_address__in=chunk)
            }
            for station in chunk:
                device = existing.get(station)
                if station in skip or (
                    device is not None and (device.protocol != name or not device.active)
                ):
                    continue
                secret = demo_device_secret(name, station)
                if device is None:
                    device = Device(
                        kind=kind,
                        protocol=name,
                        station_address=station,
                        model_name="模拟设备 (simulator)",
                        reporting_interval_min=60,
                    )
                    device.set_secret(secret)
                    device.full_clean()
                    device.save()
                out.append(SimDevice(station, protocol, secret, kind))
    return out
