"""Periodic jobs of the enforcement app (core/jobs.py)."""

from __future__ import annotations

import datetime as dt

from aquifer.core.jobs import periodic
from aquifer.enforcement import compliance, services


@periodic("enforcement.deadlines", every=dt.timedelta(hours=1))
def deadlines() -> int:
    """Warn of case deadlines that pass within WARN_DAYS or have passed."""
    return services.warn_deadlines()


@periodic("enforcement.metering", every=dt.timedelta(days=1))
def metering() -> tuple[int, int]:
    """Raise and clear the metering compliance alarms."""
    return compliance.raise_metering_alarms()
