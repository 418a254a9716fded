"""Enforcement settings: ``settings.AQUIFER["ENFORCEMENT"]`` over these defaults.

Every value that standards.md does not confirm is marked *unconfirmed* here and in
docs/enforcement.md ("Settings"); the bureau sets them from its own rules.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

__all__ = ["DEFAULTS", "get"]

DEFAULTS: dict[str, Any] = {
    # Procedure deadlines, in calendar days (unconfirmed: standards.md gives none of them; the
    # 行政处罚法 figures they resemble are not in our sources).
    "FILING_DAYS": 7,  # unconfirmed: from a case opened to the filing decision (立案)
    "STATEMENT_DAYS": 5,  # unconfirmed: the party's statement / hearing request after notice
    "DECISION_DAYS": 90,  # unconfirmed: from filing to the decision
    "PAYMENT_DAYS": 15,  # unconfirmed: from the decision to payment / remedy
    "REVIEW_DAYS": 60,  # unconfirmed: after the decision until it is final (复议期)
    "WARN_DAYS": 3,  # unconfirmed: warn this many days before a deadline passes
    # County discretionary bands (自由裁量基准), unconfirmed: a band is a share of the article's
    # range; the proposal is the band's midpoint.
    "BANDS": {
        "light": [0.0, 0.3],
        "ordinary": [0.3, 0.7],
        "serious": [0.7, 1.0],
    },
    # Metering: permitted volume (m³/a) at or above which a well must report online.
    # Unconfirmed: Shanxi's 取水规模 is not found (standards.md §3.1 art. 22); 50 000 is the
    # MWR guidance and Shaanxi's figure quoted there.
    "ONLINE_THRESHOLD_M3": 50_000,
    # A flow meter counts as online when it reported within this many days (unconfirmed).
    "ONLINE_WITHIN_DAYS": 3,
    # 以电折水: a metered month below (1 - tolerance) × kWh × coefficient is a suspected bypass
    # or faulty meter (unconfirmed).
    "BYPASS_TOLERANCE": 0.5,
    # Months of metered volume and kWh a coefficient is fitted from, at least (unconfirmed).
    "MIN_FIT_MONTHS": 3,
    # Pollution sources within this radius (m) of a monitoring well are named by its quality
    # warning (unconfirmed).
    "SOURCE_RADIUS_M": 2000,
    # Alarm kind → case kind, for "open a case from this alarm" (closure's kind included).
    "ALARM_CASE_KINDS": {
        "unregistered_station": "unapproved_works",
        "prohibited_withdrawal": "unpermitted_withdrawal",
        "deep_withdrawal": "unpermitted_withdrawal",
        "quota_100": "unpermitted_withdrawal",
        "closed_well_withdrawal": "closed_well_pumping",
        "device_status": "meter_interference",
        "suspicious_reading": "meter_interference",
        "device_offline": "meter_faulty",
        "metering_missing": "no_meter",
        "suspected_bypass": "meter_interference",
    },
}


def get(key: str) -> Any:
    return {**DEFAULTS, **settings.AQUIFER.get("ENFORCEMENT", {})}[key]
