"""Periodic jobs of the portal (discovered by :mod:`aquifer.core.jobs`)."""

from __future__ import annotations

import datetime as dt

from aquifer.core.audit import audit_context
from aquifer.core.jobs import periodic
from aquifer.portal import services, snapshot

__all__ = ["complaints_overdue", "forget_addresses", "refresh_snapshot"]


@periodic("portal.snapshot", every=dt.timedelta(hours=1))
def refresh_snapshot() -> int:
    """Recompute the public wells' snapshot (the portal reads nothing else)."""
    return snapshot.refresh()


@periodic("portal.complaints_overdue", every=dt.timedelta(hours=1))
def complaints_overdue() -> int:
    """Notify the township or the bureau of complaints past their reply deadline (once)."""
    with audit_context(source="system"):
        return services.notify_overdue()


@periodic("portal.forget_addresses", every=dt.timedelta(hours=6))
def forget_addresses() -> int:
    """Drop the rate limit's filings older than two days (hashed addresses, nothing else)."""
    return services.forget_addresses()
