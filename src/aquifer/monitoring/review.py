"""Review of quality flags: a reviewer confirms a flag or overrides it with a reason.

Overriding removes the flag bit from the reading unless another, not overridden, finding of
the reading sets the same bit; the reading's value is never touched. Both the finding and the
reading's flags change are written to the audit trail with the reason; the sweeps never raise
an overridden finding again.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from aquifer.core import audit
from aquifer.monitoring.models import ReadingFinding, ReviewState
from aquifer.telemetry.models import Reading, ReadingFlag
from aquifer.telemetry.store import rebuild_rollups

__all__ = ["ReviewError", "review_finding"]


class ReviewError(ValueError):
    pass


def _snap(f: ReadingFinding) -> dict[str, Any]:
    return {"check_kind": f.check_kind, "review": f.review, "reason": f.reason, "flag": f.flag}


def review_finding(finding: ReadingFinding, user: Any, *, confirm: bool, reason: str) -> None:
    """Confirm (the reading is wrong) or override (it is right) a finding; reason required."""

    reason = (reason or "").strip()
    if not reason:
        raise ReviewError("a reason is required")
    before = _snap(finding)
    finding.review = ReviewState.CONFIRMED if confirm else ReviewState.OVERRIDDEN
    finding.reason = reason
    finding.reviewed_at = timezone.now()
    finding.reviewed_by = user if getattr(user, "pk", None) else None
    rebuild = False
    with transaction.atomic():
        finding.save(update_fields=["review", "reason", "reviewed_at", "reviewed_by"])
        audit.record("update", finding, before, _snap(finding), reason=reason)
        if not confirm and finding.flag:
            still = (
                ReadingFinding.objects.filter(reading_id=finding.reading_id, flag=finding.flag)
                .exclude(review=ReviewState.OVERRIDDEN)
                .exists()
            )
            reading = Reading.objects.select_for_update().get(pk=finding.reading_id)
            if not still and reading.flags & finding.flag:
                old = reading.flags
                reading.flags = old & ~finding.flag
                Reading.objects.filter(pk=reading.pk).update(flags=reading.flags)
                audit.record("update", reading, {"flags": old}, {"flags": reading.flags}, reason)
                rebuild = bool(old & int(ReadingFlag.REJECTED)) and not (
                    reading.flags & int(ReadingFlag.REJECTED)
                )
    if rebuild:
        rebuild_rollups(
            finding.device_id, finding.element, finding.observed_at, finding.observed_at
        )
