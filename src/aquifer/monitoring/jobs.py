"""Background jobs of the monitoring app (auto-discovered by :mod:`aquifer.core.jobs`).

All are idempotent: the check sweep works from a watermark, the others over the current
state or a whole day.
"""

from __future__ import annotations

import datetime as dt
import logging

from aquifer.core import audit
from aquifer.core.jobs import periodic

log = logging.getLogger(__name__)


@periodic("monitoring.checks", every=dt.timedelta(minutes=1))
def check_readings() -> None:
    """Quality checks over the readings stored since the last run."""
    from aquifer.monitoring.sweeps import check_sweep

    with audit.audit_context(source="system"):
        stats = check_sweep()
    if stats.readings:
        log.info("checks: %s", stats.as_dict())


@periodic("monitoring.offline", every=dt.timedelta(minutes=5))
def offline_and_battery() -> None:
    """Device online state; offline and low-battery alarms."""
    from aquifer.monitoring.sweeps import offline_sweep

    with audit.audit_context(source="system"):
        offline_sweep()


@periodic("monitoring.stations", every=dt.timedelta(minutes=5))
def unregistered_stations() -> None:
    """Alarms for frames from unregistered stations."""
    from aquifer.monitoring.sweeps import station_sweep

    with audit.audit_context(source="system"):
        station_sweep()


@periodic("monitoring.levels", every=dt.timedelta(hours=1))
def groundwater_levels() -> None:
    """Level below warning depth / falling fast alarms."""
    from aquifer.monitoring.sweeps import level_sweep

    with audit.audit_context(source="system"):
        level_sweep()


@periodic("monitoring.escalate", every=dt.timedelta(minutes=5))
def escalate() -> None:
    """Escalate to the bureau the alarms past their SLA."""
    from aquifer.monitoring.alarms import escalate_overdue

    with audit.audit_context(source="system"):
        escalate_overdue()


@periodic("monitoring.health", every=dt.timedelta(hours=1))
def network_health() -> None:
    """Yesterday's online rate and completeness per device (and missing days before it)."""
    from aquifer.monitoring.health import health_job

    health_job()
