"""Background jobs of township supervision (run by ``aquifer.core.jobs``)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from aquifer.core.audit import audit_context
from aquifer.core.jobs import periodic
from aquifer.supervision import services

__all__ = ["daily_supervision"]


@periodic("supervision.daily", every=dt.timedelta(hours=6))
def daily_supervision() -> None:
    """Computed progress of this year's approved plans; overdue tasks notified (once);
    overdue rectification orders escalated (once) and accountability opened where due.
    Idempotent: each notice is sent once, progress is recomputed."""
    with audit_context(source="system"):
        services.compute_progress(timezone.localdate().year)
        services.notify_overdue_tasks()
        services.escalate_overdue_orders()
