"""Network health figures (在线率, 数据完整率) per device, township and county, per day.

Definitions (as the Chinese monitoring platforms compute them; docs/monitoring.md):

- A device is **expected** on a day when it is active and installed on a well; it is expected
  to send ``1440 / reporting_interval_min`` reports that day (应报条数).
- **Received** (实报条数) is the number of reports that day: the most readings of any one
  element of the device that day (a report carries each element once), capped at expected.
- **Online** (在线): the device reported at least once that day.
- **Online rate** (在线率) of a township or the county = online devices / expected devices.
- **Completeness** (数据完整率) = Σ received / Σ expected over the devices.

Days are the bureau's days (00:00–24:00 Beijing time), as in the readings' daily rollups.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Max, Q, QuerySet, Sum
from django.utils import timezone

from aquifer.monitoring.models import DeviceHealthDaily
from aquifer.registry.models import Device
from aquifer.telemetry.models import ReadingDaily
from aquifer.telemetry.store import refresh_rollups

__all__ = ["DayFigure", "compute_day", "figures", "local_day_start"]


def local_day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(settings.TIME_ZONE))


def compute_day(day: dt.date) -> int:
    """Store every expected device's figures for ``day`` (idempotent: replaces them)."""

    refresh_rollups()  # the day's counts up to the last reading
    devices = list(
        Device.objects.filter(active=True, well__isnull=False).values_list(
            "pk", "reporting_interval_min", "well__township_id"
        )
    )
    start = local_day_start(day)
    received = dict(
        ReadingDaily.objects.filter(bucket=start, device_id__in=[d[0] for d in devices])
        .values("device_id")
        .annotate(m=Max("n"))
        .values_list("device_id", "m")
    )
    rows = []
    for pk, interval, township_id in devices:
        expected = max(1, 1440 // max(1, interval))
        got = min(expected, int(received.get(pk) or 0))
        rows.append(
            DeviceHealthDaily(
                device_id=pk,
                township_id=township_id,
                day=day,
                expected=expected,
                received=got,
                online=got > 0,
            )
        )
    DeviceHealthDaily.objects.bulk_create(
        rows,
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["device", "day"],
        update_fields=["township", "expected", "received", "online"],
    )
    return len(rows)


def health_job(today: dt.date | None = None, backfill_days: int = 7) -> int:
    """Yesterday's figures and any of the ``backfill_days`` before that are missing."""
    today = today or timezone.localdate()
    done = set(
        DeviceHealthDaily.objects.filter(day__gte=today - dt.timedelta(days=backfill_days))
        .values_list("day", flat=True)
        .distinct()
    )
    n = 0
    for k in range(1, backfill_days + 1):
        day = today - dt.timedelta(days=k)
        if k == 1 or day not in done:
            n += compute_day(day)
    return n


@dataclass(frozen=True)
class DayFigure:
    day: dt.date
    key: int | None  # township id, device id, or None for the county
    devices: int
    online: int
    expected: int
    received: int

    @property
    def online_rate(self) -> float | None:
        return self.online / self.devices if self.devices else None

    @property
    def completeness(self) -> float | None:
        return self.received / self.expected if self.expected else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "key": self.key,
            "devices": self.devices,
            "online": self.online,
            "expected": self.expected,
            "received": self.received,
            "online_rate": self.online_rate,
            "completeness": self.completeness,
        }


def figures(
    qs: QuerySet[DeviceHealthDaily], level: str, start: dt.date, end: dt.date
) -> list[DayFigure]:
    """Daily figures from ``qs`` (already scoped) between start and end inclusive, per
    ``level``: "county" (one series), "township" or "device"."""
    qs = qs.filter(day__gte=start, day__lte=end)
    group = {"county": [], "township": ["township_id"], "device": ["device_id"]}[level]
    rows = (
        qs.values("day", *group)
        .annotate(
            devices=Count("id"),
            online_n=Count("id", filter=Q(online=True)),
            exp=Sum("expected"),
            rec=Sum("received"),
        )
        .order_by("day", *group)
    )
    return [
        DayFigure(
            day=r["day"],
            key=r[group[0]] if group else None,
            devices=r["devices"],
            online=r["online_n"],
            expected=r["exp"] or 0,
            received=r["rec"] or 0,
        )
        for r in rows
    ]
