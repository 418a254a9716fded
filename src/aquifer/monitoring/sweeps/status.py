"""Status and tamper bits a device reports (door open, power cut, magnetic interference,
meter faults): ``device_status`` alarms, raised and cleared as reported.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.utils import timezone

from aquifer.monitoring import conf
from aquifer.monitoring.models import DeviceState
from aquifer.monitoring.sweeps.common import _sync, _Want
from aquifer.registry.models import Device

__all__ = ["STATUS_TROUBLE", "report_device_status", "report_status"]


#: Status bits that mean trouble, normalised across SL651 (table 58) and SZY206 (alarm word):
#: key as the decoder names it → (alarm bit, value that means trouble, Chinese label).
STATUS_TROUBLE: dict[str, tuple[str, bool, str]] = {
    "door_closed": ("door_open", False, "箱门打开"),
    "door": ("door_open", True, "箱门打开"),
    "ac_power_off": ("ac_power_off", True, "交流电停电"),
    "magnetic_interference": ("magnetic_interference", True, "磁干扰"),
    "flow_meter_fault": ("flow_meter_fault", True, "流量仪表故障"),
    "level_meter_fault": ("level_meter_fault", True, "水位仪表故障"),
    "memory_fault": ("memory_fault", True, "存储器故障"),
    "temperature_meter_fault": ("temperature_meter_fault", True, "水温仪表故障"),
}


def report_device_status(device_id: int, bits: Mapping[str, bool], at: dt.datetime) -> int:
    """Telemetry's ``device_status`` hook: :func:`report_status` for a device id."""
    device = Device.objects.filter(pk=device_id).select_related("well").first()
    return 0 if device is None else report_status(device, bits, at)


def report_status(device: Any, bits: Mapping[str, bool], at: dt.datetime | None = None) -> int:
    """Alarm on the status / tamper bits a device reported (door open, power cut, magnetic
    interference, meter faults); clear those reported fine. Returns alarms newly opened.

    ``bits`` as the decoders give them (``sl651.status_bits``, SZY206 alarm word names).
    """
    at = at or timezone.now()
    severity = conf.get("STATUS_SEVERITY")
    wanted: dict[str, _Want] = {}
    clear: list[str] = []
    seen: dict[str, bool] = {}
    for name, value in bits.items():
        if name not in STATUS_TROUBLE:
            continue
        bit, trouble_when, _label = STATUS_TROUBLE[name]
        trouble = bool(value) == trouble_when
        seen[bit] = seen.get(bit, False) or trouble
        key = f"device_status:device:{device.pk}:{bit}"
        if trouble:
            wanted[key] = _Want(
                device=device,
                message="device_status",
                params={"station": device.station_address, "bit": bit},
                severity=str(severity.get(bit, "warning")),
                data={"bit": bit},
            )
        else:
            clear.append(key)
    state, _ = DeviceState.objects.get_or_create(device_id=device.pk)
    DeviceState.objects.filter(pk=state.pk).update(status_bits={**state.status_bits, **seen})
    raised, _c = _sync("device_status", wanted, clear, at)
    return raised
