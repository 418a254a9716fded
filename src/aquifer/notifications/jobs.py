"""Background jobs of the notifications app (run by ``aquifer.core.jobs``)."""

from __future__ import annotations

import datetime as dt

from aquifer.core.jobs import periodic
from aquifer.notifications.service import deliver

__all__ = ["retry_deliveries"]


@periodic("notifications.retry", every=dt.timedelta(minutes=1))
def retry_deliveries() -> None:
    """Send every due e-mail and SMS delivery: new ones a crash left behind and failed ones
    whose back-off has run out. Idempotent: a delivery is claimed before it is sent."""
    while True:
        counts = deliver()
        if counts["sent"] + counts["failed"] < 1000:
            break
