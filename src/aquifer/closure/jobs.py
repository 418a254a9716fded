"""Periodic check of the closure programme.

``closure.closed_wells`` — a closed (or verified) well whose devices report flow, or whose
meter advances, after its closure raises ``closed_well_withdrawal`` (critical; key
``closed_well_withdrawal:entry:<id>``); the alarm clears when the condition no longer holds
(the entry left the closed states). Tolerances: ``AQUIFER["CLOSURE"]``
``CLOSED_FLOW_TOLERANCE_M3H`` and ``CLOSED_METER_TOLERANCE_M3`` (unconfirmed). Each raise
also calls the hook ``closure.hooks.closed_well_withdrawal`` (entry, alarm), for the
enforcement app to open a case once it lands.
"""

from __future__ import annotations

import datetime as dt

from aquifer.closure.hooks import closed_well_withdrawal
from aquifer.closure.models import ClosureEntry, Status
from aquifer.closure.services import telemetry_since_closure
from aquifer.core.audit import audit_context
from aquifer.core.jobs import periodic
from aquifer.monitoring import alarms
from aquifer.monitoring.models import OPEN_STATES, Alarm

__all__ = ["check_closed_wells"]

KIND = "closed_well_withdrawal"


def _key(entry_id: int) -> str:
    return f"{KIND}:entry:{entry_id}"


def check_closed_wells() -> dict[str, int]:
    """Raise / clear the closed-well alarms; the number raised and cleared."""
    raised = cleared = 0
    live: set[str] = set()
    entries = ClosureEntry.objects.filter(
        status__in=(Status.CLOSED, Status.VERIFIED), closed_at__isnull=False
    ).select_related("well", "township")
    for entry in entries:
        t = telemetry_since_closure(entry)
        key = _key(entry.pk)
        if t.withdrawing:
            live.add(key)
            alarm = alarms.raise_alarm(
                kind=KIND,
                key=key,
                message=KIND,
                params={
                    "well": entry.well.code,
                    "since": f"{entry.closed_at:%Y-%m-%d}",
                    "advance": t.meter_advance_m3 or 0.0,
                    "flow": t.max_flow_m3h or 0.0,
                },
                severity="critical",
                well=entry.well,
                data={
                    "entry": entry.pk,
                    "well": entry.well_id,
                    "meter_advance_m3": t.meter_advance_m3,
                    "max_flow_m3h": t.max_flow_m3h,
                },
            )
            closed_well_withdrawal(entry, alarm)
            raised += 1
    for a in Alarm.objects.filter(kind=KIND, state__in=OPEN_STATES).exclude(key__in=live):
        alarms.clear_alarm(kind=KIND, key=a.key, note="关停井无取水")
        cleared += 1
    return {"raised": raised, "cleared": cleared}


@periodic("closure.closed_wells", every=dt.timedelta(minutes=15))
def closed_wells_job() -> None:
    with audit_context(source="system", reason="closed-well check"):
        check_closed_wells()
