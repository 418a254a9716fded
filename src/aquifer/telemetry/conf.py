"""Telemetry settings: ``settings.AQUIFER["TELEMETRY"]`` over these defaults.

The rollup pacing keys (``ROLLUP_*``) are read by :mod:`aquifer.telemetry.store.rollups`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

__all__ = ["DEFAULTS", "get"]

DEFAULTS: dict[str, Any] = {
    # The raw-frame archive (RawFrame) keeps a registered device's frames this many days after
    # they were received; the telemetry.raw_frames job deletes older ones. A county setting,
    # unconfirmed: no source we hold sets how long the bureau must keep frames as received;
    # 400 days covers a water year and the review period of a case opened late in it. Evidence
    # attached to a case keeps its own copy of the hex, whatever this says.
    "RAW_FRAME_RETENTION_DAYS": 400,
}


def get(key: str) -> Any:
    return {**DEFAULTS, **getattr(settings, "AQUIFER", {}).get("TELEMETRY", {})}[key]
