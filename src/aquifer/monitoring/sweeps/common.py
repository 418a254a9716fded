"""What the sweeps share: their statistics (:class:`SweepStats`), watermarks, and raising /
clearing a kind of alarm in one transaction (:func:`_sync`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from aquifer.monitoring import alarms
from aquifer.monitoring.models import OPEN_STATES, Alarm, Watermark

__all__ = ["SweepStats"]


@dataclass
class SweepStats:
    readings: int = 0
    series: int = 0
    flagged: int = 0
    findings: int = 0
    alarms_raised: int = 0
    alarms_cleared: int = 0
    extra: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "readings": self.readings,
            "series": self.series,
            "flagged": self.flagged,
            "findings": self.findings,
            "alarms_raised": self.alarms_raised,
            "alarms_cleared": self.alarms_cleared,
            **self.extra,
        }


def _epoch(t: dt.datetime) -> int:
    return int(t.timestamp())


def _mark(name: str) -> int:
    return Watermark.objects.get_or_create(name=name)[0].position


def _set_mark(name: str, position: int) -> None:
    Watermark.objects.filter(name=name).update(position=position, updated_at=timezone.now())


@dataclass
class _Want:
    message: str  # code in monitoring.messages, rendered with params
    params: dict[str, Any]
    severity: str = "warning"
    device: Any = None
    well: Any = None
    township: Any = None
    data: dict[str, Any] | None = None
    at: dt.datetime | None = None  # when the condition began (else: now)


def _sync(
    kind: str, wanted: Mapping[str, _Want], clear: Iterable[str], now: dt.datetime
) -> tuple[int, int]:
    """Raise the ``wanted`` alarms of ``kind`` (repeats bumped in one UPDATE) and clear the
    open ones keyed in ``clear``. Returns (newly opened, cleared)."""
    with transaction.atomic():  # one commit for the lot (SQLite synchronous=FULL: one fsync)
        return _sync_in_transaction(kind, wanted, clear, now)


def _sync_in_transaction(
    kind: str, wanted: Mapping[str, _Want], clear: Iterable[str], now: dt.datetime
) -> tuple[int, int]:
    open_alarms = dict(
        Alarm.objects.filter(kind=kind, state__in=OPEN_STATES).values_list("key", "id")
    )
    repeat = [open_alarms[k] for k in wanted if k in open_alarms]
    for k in range(0, len(repeat), 900):
        Alarm.objects.filter(pk__in=repeat[k : k + 900]).update(count=F("count") + 1, last_seen=now)
    raised = 0
    for key, want in wanted.items():
        if key in open_alarms:
            continue
        alarms.raise_alarm(
            kind=kind,
            key=key,
            message=want.message,
            params=want.params,
            severity=want.severity,
            township=want.township,
            device=want.device,
            well=want.well,
            data=want.data,
            at=min(want.at, now) if want.at else now,
        )
        raised += 1
    cleared = 0
    for key in clear:
        if key in open_alarms and key not in wanted:
            alarms.clear_alarm(kind=kind, key=key, note="condition cleared")
            cleared += 1
    return raised, cleared
