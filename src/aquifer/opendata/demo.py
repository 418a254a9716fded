"""Demo data of the open-data app: one upstream platform, switched off (a demo must not send
frames anywhere), forwarding the first five monitoring-well devices — so the forwarding page
shows how a destination is configured. Keyed by name: a second run adds nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aquifer.core.audit import audit_context
from aquifer.registry.models import Device
from aquifer.telemetry.models import Upstream

__all__ = ["build"]

NAME = "省水资源监控平台（演示）"


def build(log: Callable[[str], Any] = print) -> None:
    with audit_context(source="demo"):
        up, created = Upstream.objects.get_or_create(
            name=NAME,
            defaults={"host": "127.0.0.1", "port": 6100, "protocol": "SL651", "enabled": False},
        )
        if created:
            devices = Device.objects.filter(protocol="SL651", well__monitoring__isnull=False)
            up.devices.add(*devices.order_by("id")[:5])
    log(f"{NAME}: {up.devices.count()} devices, {'on' if up.enabled else 'off'}")
