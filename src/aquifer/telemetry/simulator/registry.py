"""Simulated devices in the registry (Django): picking or registering them. Imported by name
(``aquifer.telemetry.simulator.registry``): the package itself needs no Django."""

from __future__ import annotations

from django.db import transaction

from aquifer.core.audit import audit_context
from aquifer.registry.demo import demo_device_secret
from aquifer.registry.models import Device

from .frames import SimDevice, kind_of, simulated_station

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
