"""The outbox: frames enqueued for their upstreams, and what each destination has.

:func:`enqueue` is called by the gateway for a device some enabled upstream forwards, after
the frame's readings are committed and before the device is acknowledged: a frame the device
was told is stored is in the outbox too. :class:`Selection` is the gateway's cached set of
forwarded devices (refreshed with its device cache).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from aquifer.telemetry.forwarding.frames import expects_reply
from aquifer.telemetry.models import OutboxFrame, OutboxStatus, Upstream

__all__ = ["Selection", "enqueue", "status_counts"]


def forwarded_devices() -> dict[int, list[tuple[int, str]]]:
    """Device id → the enabled upstreams forwarding it: (upstream id, protocol)."""
    out: dict[int, list[tuple[int, str]]] = {}
    through = Upstream.devices.through
    for up_id, dev_id, protocol in through.objects.filter(upstream__enabled=True).values_list(
        "upstream_id", "device_id", "upstream__protocol"
    ):
        out.setdefault(dev_id, []).append((up_id, protocol))
    return out


class Selection:
    """The gateway's view of :func:`forwarded_devices`, refreshed from the database."""

    def __init__(self) -> None:
        self.devices: dict[int, list[tuple[int, str]]] = {}

    def refresh(self) -> None:
        self.devices = forwarded_devices()

    def __contains__(self, device_id: object) -> bool:
        return device_id in self.devices


def enqueue(
    device_id: int, protocol: str, station: str, raw: bytes, received_at: datetime | None = None
) -> int:
    """Put ``raw`` (one frame as received) in the outbox of every enabled upstream that
    forwards ``device_id`` and speaks ``protocol``; committed on return. How many rows."""
    targets = [up for up, proto in forwarded_devices().get(device_id, []) if proto == protocol]
    if not targets:
        return 0
    reply = expects_reply(raw, protocol)
    when = received_at or timezone.now()
    with transaction.atomic():
        OutboxFrame.objects.bulk_create(
            OutboxFrame(upstream_id=up, device_id=device_id, station=station, raw=raw,
                        needs_reply=reply, received_at=when, next_attempt_at=when)
            for up in targets
        )  # fmt: skip
    return len(targets)


def status_counts(upstreams: Any = None) -> dict[int, Counter[str]]:
    """Upstream id → count of its outbox frames per status."""
    qs = OutboxFrame.objects.all()
    if upstreams is not None:
        qs = qs.filter(upstream__in=upstreams)
    out: dict[int, Counter[str]] = {}
    rows = qs.values("upstream_id", "status").order_by().annotate(n=Count("id"))
    for row in rows:
        out.setdefault(row["upstream_id"], Counter())[row["status"]] = row["n"]
    return out


OUTBOX_STATUSES = [s.value for s in OutboxStatus]
