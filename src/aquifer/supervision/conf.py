"""Supervision settings: ``settings.AQUIFER["SUPERVISION"]`` over these defaults.

Every key is documented in docs/supervision.md ("Settings"); a value no source confirms is
marked *unconfirmed* there and here.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

__all__ = ["DEFAULTS", "get"]

DEFAULTS: dict[str, Any] = {
    # Online metering is required where the permitted volume is at or above this (m³/a):
    # MWR guidance, "in principle" ≥ 5万 m³/a for groundwater (standards.md §3 [S34]); the
    # Shanxi threshold (取水规模) is not confirmed.
    "ONLINE_METER_THRESHOLD_M3": 50_000,
    # Data arrival rate target: the national monitoring programme's 95 % (issue 19).
    "ARRIVAL_RATE_TARGET": 0.95,
    # Defaults with no source (unconfirmed): share of monitoring wells stable or rising,
    # alarms handled within their SLA, rectifications closed on time, complaints answered on
    # time, plan tasks completed.
    "LEVELS_STABLE_TARGET": 0.6,
    "ALARM_SLA_TARGET": 0.9,
    "RECTIFICATION_ON_TIME_TARGET": 1.0,
    "COMPLAINTS_ON_TIME_TARGET": 1.0,
    "PLAN_COMPLETION_TARGET": 1.0,
    # Accountability (问责) opens when one order is sent back this many times, or a township
    # has this many orders overdue at once (unconfirmed: the county's rule is not published).
    "ACCOUNTABILITY_SENT_BACK": 2,
    "ACCOUNTABILITY_OVERDUE_ORDERS": 3,
    # Days an order's deadline is by default after its issue (unconfirmed).
    "RECTIFICATION_DAYS": 30,
}


def get(key: str) -> Any:
    conf = getattr(settings, "AQUIFER", {}).get("SUPERVISION", {})
    return conf.get(key, DEFAULTS[key])
