"""The gateway's settings: :class:`GatewayConfig`, from ``settings.AQUIFER["GATEWAY"]``."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from typing import Any

__all__ = ["SETTINGS_KEYS", "GatewayConfig"]

#: settings.AQUIFER["GATEWAY"] key → GatewayConfig attribute.
SETTINGS_KEYS = {
    "HOST": "host",
    "SL651_PORT": "sl651_port",
    "SZY206_PORT": "szy206_port",
    "IDLE_TIMEOUT_S": "idle_timeout",
    "MAX_FRAME_BYTES": "max_frame",
    "BATCH_MAX_ROWS": "batch_max_rows",
    "BATCH_MAX_MS": "batch_max_ms",
    "DEVICE_REFRESH_S": "device_refresh",
    "DRAIN_TIMEOUT_S": "drain_timeout",
    "SL651_ACK_END": "sl651_ack_end",
    "MAX_QUARANTINE_PER_CONNECTION": "max_quarantine",
    "BACKLOG": "backlog",
    "WRITER": "writer",
}


@dataclass(frozen=True)
class GatewayConfig:
    """Gateway settings (``settings.AQUIFER["GATEWAY"]`` keys in :data:`SETTINGS_KEYS`).

    A port of ``None`` leaves that protocol's server off; ``0`` picks a free port.
    """

    host: str = "0.0.0.0"
    sl651_port: int | None = 5651
    szy206_port: int | None = 5206
    idle_timeout: float = 600.0
    max_frame: int = 8192
    batch_max_rows: int = 5000
    batch_max_ms: float = 10.0
    device_refresh: float = 60.0
    drain_timeout: float = 10.0
    sl651_ack_end: str = "ESC"
    max_quarantine: int = 100
    backlog: int = 2048
    #: Where ingest runs: ``"process"`` (a writer process, :mod:`aquifer.telemetry.writer`)
    #: or ``"thread"`` (a worker thread of the gateway's interpreter).
    writer: str = "process"

    @classmethod
    def from_settings(cls, **overrides: Any) -> GatewayConfig:
        """Defaults, then ``settings.AQUIFER["GATEWAY"]``, then ``overrides`` (not ``None``).

        The environment variable ``AQUIFER_GATEWAY_WRITER`` (``process`` or ``thread``)
        overrides the ``WRITER`` setting (benchmarks compare the two).
        """
        from django.conf import settings

        values: dict[str, Any] = {}
        configured = getattr(settings, "AQUIFER", {}).get("GATEWAY", {})
        for key, attr in SETTINGS_KEYS.items():
            if key in configured:
                values[attr] = configured[key]
        if os.environ.get("AQUIFER_GATEWAY_WRITER"):
            values["writer"] = os.environ["AQUIFER_GATEWAY_WRITER"]
        values.update({k: v for k, v in overrides.items() if v is not None})
        names = {f.name for f in fields(cls)}
        unknown = set(values) - names
        if unknown:
            raise ValueError(f"unknown gateway settings: {', '.join(sorted(unknown))}")
        config = cls(**values)
        if config.sl651_ack_end not in ("ESC", "EOT"):
            raise ValueError("SL651_ACK_END must be ESC (stay online) or EOT (may go offline)")
        if config.writer not in ("process", "thread"):
            raise ValueError("WRITER must be process or thread")
        return config
