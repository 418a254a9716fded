"""Closure settings: ``settings.AQUIFER["CLOSURE"]`` over these defaults (docs/closure.md)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

__all__ = ["DEFAULTS", "get"]

DEFAULTS: dict[str, Any] = {
    # Recovery classes (上升/弱上升/弱下降/下降) by level rise in metres against the same
    # period: UNCONFIRMED — the Water Resources Bulletin's bounds are not in our sources.
    "RECOVERY_RISE_M": 0.5,
    "RECOVERY_FALL_M": 0.5,
    # A closed well "reports flow" when a flow-rate reading above this (m³/h) or a meter
    # advance above CLOSED_METER_TOLERANCE_M3 arrives after its closure: UNCONFIRMED (meter
    # resolution and noise, the county's own choice).
    "CLOSED_FLOW_TOLERANCE_M3H": 0.0,
    "CLOSED_METER_TOLERANCE_M3": 0.5,
    # Verification: an inspection's GPS position at most this far from the well (metres):
    # UNCONFIRMED (a handheld GPS is good to ~10 m; the county's rule is not in our sources).
    "INSPECTION_MAX_DISTANCE_M": 100.0,
    # The programme's baseline year (recovery "against the baseline year"): the year the
    # charter was issued (阳水字〔2022〕100号).
    "BASELINE_YEAR": 2022,
}


def get(key: str) -> Any:
    own = getattr(settings, "AQUIFER", {}).get("CLOSURE", {})
    return own.get(key, DEFAULTS[key])
