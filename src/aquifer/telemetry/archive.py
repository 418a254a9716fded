"""The raw-frame archive (:class:`~aquifer.telemetry.models.RawFrame`): what reads and prunes
it. The gateway writes it through :func:`aquifer.telemetry.store.ingest` (the frames of a
batch in the readings' transaction).

Bounded: :func:`prune` deletes the frames received more than ``RAW_FRAME_RETENTION_DAYS``
(:mod:`aquifer.telemetry.conf`, a county setting) ago, in chunks, as the
``telemetry.raw_frames`` job. Frames attached to an enforcement case are not held back: the
case's evidence is a copy (hex as received, its SHA-256 and the content hash in the case's
chain), so pruning the archive row changes nothing the case shows or verifies. The database
refuses UPDATE (and TRUNCATE on PostgreSQL) of archive rows; DELETE is the job's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from aquifer.telemetry import conf
from aquifer.telemetry.models import RawFrame

__all__ = ["ArchivedFrame", "frames_of", "prune"]

#: Rows deleted per transaction by :func:`prune` (short write transactions beside ingest).
PRUNE_CHUNK = 5000


@dataclass(frozen=True, slots=True)
class ArchivedFrame:
    id: int
    device_id: int
    protocol: str
    received_at: dt.datetime
    observed_at: dt.datetime | None
    raw_hex: str
    remote_addr: str


def frames_of(
    device_id: int, start: dt.datetime, end: dt.datetime, limit: int = 200
) -> list[ArchivedFrame]:
    """The archived frames of ``device_id`` that reported observations from ``start`` to
    ``end`` (the frames behind its readings of that window), oldest first, at most
    ``limit``."""
    rows = (
        RawFrame.objects.filter(device_id=device_id, observed_at__gte=start, observed_at__lte=end)
        .order_by("observed_at", "id")
        .values_list("id", "protocol", "received_at", "observed_at", "raw", "remote_addr")[:limit]
    )
    return [
        ArchivedFrame(i, device_id, p, r, o, bytes(raw).hex().upper(), a)
        for i, p, r, o, raw, a in rows
    ]


def prune(now: dt.datetime | None = None, days: int | None = None) -> int:
    """Delete the frames received before ``now - days`` (default: the retention setting);
    how many."""
    days = int(conf.get("RAW_FRAME_RETENTION_DAYS") if days is None else days)
    if days < 1:
        raise ValueError(f"RAW_FRAME_RETENTION_DAYS: {days} is not a positive number of days")
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(
                RawFrame.objects.filter(received_at__lt=cutoff)
                .order_by("received_at")
                .values_list("id", flat=True)[:PRUNE_CHUNK]
            )
            if not ids:
                return deleted
            deleted += RawFrame.objects.filter(pk__in=ids).delete()[0]
