"""Accounting settings: ``settings.AQUIFER["ACCOUNTING"]`` over these defaults.

Every key is documented in docs/accounting.md ("Settings").
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

__all__ = ["DEFAULTS", "get"]

DEFAULTS: dict[str, Any] = {
    # A step between two meter readings longer than this (hours) is a gap: its volume (the
    # register difference) is spread linearly and, where it straddles a month, flagged estimated.
    "GAP_HOURS": 6.0,
    # Register capacity for rollover detection (m³; None: registers never wrap). A drop of more
    # than half of it between two readings is a wrap-around, not a reading running backwards.
    "ROLLOVER_M3": None,
    # Readings in a row below the last accepted one before it is taken as an unregistered reset.
    "BACKWARDS_CONFIRM": 3,
    # Unmetered wells (no cumulative meter): estimated as the well's share of its permits'
    # annual quota × this factor (1.0: the permitted volume is taken as used) ...
    "UNMETERED_QUOTA_FACTOR": 1.0,
    # ... and, for a well under no active permit, this annual volume (m³) by well purpose.
    "UNMETERED_DEFAULT_M3": {
        "domestic": 20_000.0,
        "agricultural": 30_000.0,
        "industrial": 50_000.0,
        "service": 10_000.0,
        "ecological": 10_000.0,
        "emergency": 0.0,
        "monitoring": 0.0,
    },
    # Well statuses whose unmetered wells are estimated (closed and sealed ones take nothing).
    "UNMETERED_STATUSES": ["active"],
    # A stored month is final (not recomputed on read) this many days after its end; the job
    # recomputes the last RECOMPUTE_MONTHS months every run regardless.
    "FINAL_AFTER_DAYS": 7,
    "RECOMPUTE_MONTHS": 2,
    # A non-final month read for all wells (totals) is recomputed when older than this
    # (minutes); asked for named wells, it is recomputed on every read.
    "FRESH_MINUTES": 10,
    # How far (days) before a period the service looks for the reading that opens it.
    "LOOKBACK_DAYS": 62,
    # Township and county totals by month for the public, anonymous callers and water users
    # (R5.1 gives them annual totals; True is the bureau's decision to publish monthly ones).
    "PUBLIC_MONTHLY": False,
}


def get(key: str) -> Any:
    """The setting ``key`` (AQUIFER["ACCOUNTING"][key], else the default)."""
    overrides = settings.AQUIFER.get("ACCOUNTING", {})
    return overrides.get(key, DEFAULTS[key])
