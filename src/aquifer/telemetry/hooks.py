"""Telemetry's hooks (:mod:`aquifer.core.hooks`): what the gateway tells the apps above it."""

from __future__ import annotations

from aquifer.core.hooks import Hook

__all__ = ["device_status"]

#: Called with a device id, the status bits its frame reported (``sl651.status_bits``, SZY206
#: alarm word names) and the time, whenever they differ from the device's previous frame;
#: each function returns the alarms it newly opened. Monitoring answers (door, power, tamper).
device_status: Hook[int] = Hook("telemetry.device_status")
