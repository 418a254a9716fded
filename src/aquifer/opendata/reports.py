"""Read-only figures of the open-data pages and API: what each forwarding destination has."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aquifer.core.scoping import visible_to
from aquifer.telemetry.forwarding.outbox import status_counts
from aquifer.telemetry.models import OutboxFrame, OutboxStatus, Upstream

STATUSES = [s.value for s in OutboxStatus]


def destinations(user: Any) -> list[dict[str, Any]]:
    """Each upstream the user may see, with its frames per status and its oldest waiting."""
    ups = list(visible_to(user, "view", Upstream).order_by("name"))
    counts = status_counts(ups)
    out = []
    for up in ups:
        c: Mapping[str, int] = counts.get(up.pk, {})
        oldest = (
            OutboxFrame.objects.filter(upstream=up)
            .exclude(status=OutboxStatus.ACKNOWLEDGED)
            .order_by("id")
            .values_list("received_at", flat=True)
            .first()
        )
        out.append(
            {
                "id": up.pk,
                "name": up.name,
                "host": up.host,
                "port": up.port,
                "protocol": up.protocol,
                "enabled": up.enabled,
                "devices": up.devices.count(),
                "counts": {s: int(c.get(s, 0)) for s in STATUSES},
                "oldest_waiting": oldest,
            }
        )
    return out
