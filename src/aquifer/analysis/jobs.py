"""Background jobs of the analysis app (auto-discovered by ``aquifer.core.jobs``).

Both are idempotent over their day: running again replaces that day's rows.
"""

from __future__ import annotations

import datetime as dt
import logging

from aquifer.core import audit
from aquifer.core.jobs import periodic

log = logging.getLogger(__name__)


@periodic("analysis.trends", every=dt.timedelta(hours=24))
def compute_trends() -> None:
    """Level trend and recovery status of every monitoring well and zone, for today."""
    from aquifer.analysis import levels

    with audit.audit_context(source="system"):
        counts = levels.compute_trends()
    log.info("trends computed: %s", counts)


@periodic("analysis.forecasts", every=dt.timedelta(days=7))
def compute_forecasts() -> None:
    """Level forecasts of every monitoring well (cached per well and day)."""
    from aquifer.analysis import levels

    with audit.audit_context(source="system"):
        n = levels.compute_forecasts()
    log.info("forecasts computed: %d", n)
