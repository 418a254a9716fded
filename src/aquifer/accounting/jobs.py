"""Periodic jobs of the accounting app (discovered by :mod:`aquifer.core.jobs`)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from aquifer.accounting import conf, service
from aquifer.core.jobs import periodic

__all__ = ["refresh_recent"]


@periodic("accounting.refresh", every=dt.timedelta(hours=1))
def refresh_recent() -> int:
    """Recompute the last ``RECOMPUTE_MONTHS`` months (this one included) for every well.

    Idempotent: it overwrites the stored figures of those months with a fresh computation.
    Returns the number of well-months stored.
    """
    today = timezone.localdate()
    n = max(int(conf.get("RECOMPUTE_MONTHS")), 1)
    by_year: dict[int, list[int]] = {}
    year, month = today.year, today.month
    for _ in range(n):
        by_year.setdefault(year, []).append(month)
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return sum(service.refresh(y, months) for y, months in by_year.items())
