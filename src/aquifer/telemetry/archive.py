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
    bound = first_id_received_since(cutoff)
    deleted = 0
    while True:
        with transaction.atomic():
            old = RawFrame.objects.order_by("pk")
            if bound is not None:
                old = old.filter(pk__lt=bound)
            ids = list(old.values_list("id", flat=True)[:PRUNE_CHUNK])
            if not ids:
                return deleted
            deleted += RawFrame.objects.filter(pk__in=ids).delete()[0]


def first_id_received_since(cutoff: dt.datetime) -> int | None:
    """The first frame's id received at or after ``cutoff``: None when every frame is older.
    Frames are written in the order they are received, so ids ascend with ``received_at``
    (within a batch's second or two, nothing a retention of days could notice); a binary
    search over the key reads O(log n) rows and needs no index on the time."""
    frames = RawFrame.objects.order_by("pk")
    last = frames.values_list("pk", "received_at").last()
    if last is None or last[1] < cutoff:
        return None
    first = frames.values_list("pk", flat=True).first()
    assert first is not None
    best, lo, hi = last[0], first, last[0] - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        row = frames.filter(pk__gte=mid).values_list("pk", "received_at").first()
        assert row is not None  # ``best`` is at or after ``mid``
        if row[1] >= cutoff:
            best, hi = min(best, row[0]), mid - 1  # no id between mid and row[0]
        else:
            lo = row[0] + 1  # row[0] and every id before it are older
    return best
