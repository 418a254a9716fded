"""Periodic jobs of the rights app (discovered by :mod:`aquifer.core.jobs`). Each is
idempotent: it acts only on what is due and changes its state when it does."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.utils import timezone

from aquifer.core.audit import audit_context
from aquifer.core.jobs import periodic
from aquifer.rights import services
from aquifer.rights.models import AuctionRound, Listing, ListingStatus, RoundStatus

__all__ = ["clear_due_rounds", "close_due_listings", "complete_due_trades", "revert_due_leases"]


def _each_due(due: Iterable[Any], act: Callable[[Any], object], reason: str) -> int:
    """Run ``act`` on each due item as the system; one the rules refuse is left for the next
    run. The number done."""
    n = 0
    with audit_context(source="system", reason=reason):
        for item in due:
            try:
                act(item)
                n += 1
            except services.MarketError:
                continue
    return n


@periodic("rights.complete_trades", every=dt.timedelta(hours=1))
def complete_due_trades() -> int:
    """Complete trades whose announcement (公示) has ended with no objection open."""
    with audit_context(source="system", reason="announcement ended"):
        return services.complete_due()


@periodic("rights.close_listings", every=dt.timedelta(hours=1))
def close_due_listings() -> int:
    """Close listings past their closing time: bids win by price, then time."""
    due = Listing.objects.filter(status=ListingStatus.OPEN, closes_at__lte=timezone.now())
    return _each_due(due, services.close_listing, "listing closed")


@periodic("rights.clear_rounds", every=dt.timedelta(hours=1))
def clear_due_rounds() -> int:
    """Clear auction rounds past their closing time at one uniform price."""
    due = AuctionRound.objects.filter(status=RoundStatus.OPEN, closes_at__lte=timezone.now())
    return _each_due(due, services.clear_round, "auction closed")


@periodic("rights.revert_leases", every=dt.timedelta(days=1))
def revert_due_leases() -> int:
    """After a lease's last year, put both permits' quotas back."""
    with audit_context(source="system", reason="lease ended"):
        return services.revert_leases()
