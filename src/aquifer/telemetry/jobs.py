"""Periodic jobs of the telemetry app (discovered by :mod:`aquifer.core.jobs`)."""

from __future__ import annotations

import datetime as dt

from aquifer.core.jobs import periodic
from aquifer.telemetry import archive, store

__all__ = ["prune_raw_frames", "refresh_rollups"]


@periodic("telemetry.rollups", every=dt.timedelta(seconds=10))
def refresh_rollups() -> int:
    """Merge the readings stored since the last run into the hourly and daily rollups (those
    the HTTP and MQTT ingest stored; the gateway's writer process merges its own as it goes).

    Idempotent: the watermark moves in the transaction that merges. Returns the readings
    merged."""
    return store.refresh_rollups()


@periodic("telemetry.raw_frames", every=dt.timedelta(hours=6))
def prune_raw_frames() -> int:
    """Delete the archived raw frames older than ``RAW_FRAME_RETENTION_DAYS`` (evidence keeps
    its own copy). Returns how many were deleted."""
    return archive.prune()
