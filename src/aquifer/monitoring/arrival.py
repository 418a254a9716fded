"""Data arrival rate (到报率) per device, township and county over a period.

The national groundwater monitoring programme's measure: **received reports / expected
reports**. A device is expected to report ``1440 / reporting_interval_min`` times a day
(应报条数) on each day of the period it is active, installed on a well and — when its
installation date is known — installed; a day's received reports (实报条数) are the most
readings of any one element of the device that day (a report carries each element once),
capped at the expected number. Days are the bureau's days, as in the readings' daily rollups.

The days whose figures the daily health job has stored (``monitoring.DeviceHealthDaily``:
expected and received per device and day, the same definitions) are read from them with one
SQL aggregate grouped by device, township or county; the days after the last stored day
(today's, or when the job has not run) are computed from the daily rollups; days before
the last stored day that the job did not store count as not monitored
(``telemetry_readingdaily``) with one more. So the number of queries does not grow with the
number of devices or days. ``TARGET`` (95 %) is the programme's figure (issue 19).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Count, DateField, F, Func, Max, QuerySet, Sum

from aquifer.monitoring.health import local_day_start
from aquifer.monitoring.models import DeviceHealthDaily
from aquifer.registry.models import Device, Well
from aquifer.telemetry.models import ReadingDaily
from aquifer.telemetry.store import refresh_rollups

__all__ = ["TARGET", "Arrival", "arrival_rates", "by_device", "summarise"]

#: The national monitoring programme reports arrival above 95 % (issue 19 point 5).
TARGET = 0.95
#: Windows longer than this read the stored daily figures by a scan on SQLite (see _stored).
LONG_WINDOW_DAYS = 62


@dataclass(frozen=True)
class Arrival:
    key: int | None  # device id, township id, or None for the county
    devices: int
    expected: int
    received: int

    @property
    def rate(self) -> float | None:
        return self.received / self.expected if self.expected else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "devices": self.devices,
            "expected": self.expected,
            "received": self.received,
            "rate": self.rate,
        }


@dataclass(frozen=True)
class DeviceArrival:
    device_id: int
    township_id: int | None
    per_day: int
    days: int
    received: int

    @property
    def expected(self) -> int:
        return self.per_day * self.days


def by_device(
    devices: QuerySet[Device], start: dt.date, end: dt.date, *, refresh: bool = True
) -> list[DeviceArrival]:
    """Each device of ``devices`` (already scoped) that was expected in ``[start, end]``
    (days, inclusive), with its received reports: one query."""
    if end < start:
        return []
    if refresh:
        refresh_rollups()  # the counts up to the last reading
    ids_sql, ids_params = (
        devices.filter(active=True, well__isnull=False).values("pk").query.sql_with_params()
    )
    d, w, r = Device._meta.db_table, Well._meta.db_table, ReadingDaily._meta.db_table
    qn = connection.ops.quote_name
    per_day = "(1440 / d.reporting_interval_min)"
    sql = f"""
        SELECT d.id, w.township_id, {per_day}, d.installed_on,
               COALESCE(SUM(CASE WHEN x.m > {per_day} THEN {per_day} ELSE x.m END), 0)
        FROM {qn(d)} d
        JOIN {qn(w)} w ON w.id = d.well_id
        LEFT JOIN (
            SELECT device_id, bucket, MAX(n) AS m FROM {qn(r)}
            WHERE bucket >= %s AND bucket < %s GROUP BY device_id, bucket
        ) x ON x.device_id = d.id
        WHERE d.id IN ({ids_sql})
        GROUP BY d.id, w.township_id, d.reporting_interval_min, d.installed_on
    """
    adapt = connection.ops.adapt_datetimefield_value
    bounds = [adapt(local_day_start(start)), adapt(local_day_start(end + dt.timedelta(days=1)))]
    params = [*bounds, *ids_params]
    out = []
    with connection.cursor() as cur:
        cur.execute(sql, params)
        for pk, township_id, n, installed_on, received in cur.fetchall():
            first = start
            if installed_on is not None:
                if isinstance(installed_on, str):
                    installed_on = dt.date.fromisoformat(installed_on)
                first = max(start, installed_on)
            days = max(0, (end - first).days + 1)
            if days == 0:
                continue
            out.append(DeviceArrival(pk, township_id, max(1, int(n)), days, int(received)))
    return out


def summarise(rows: Iterable[DeviceArrival], level: str) -> list[Arrival]:
    """Device rows summed per ``level``: "device", "township" or "county"."""
    acc: dict[int | None, list[int]] = {}
    for row in rows:
        key = {"device": row.device_id, "township": row.township_id, "county": None}[level]
        a = acc.setdefault(key, [0, 0, 0])
        a[0] += 1
        a[1] += row.expected
        a[2] += min(row.received, row.expected)
    return [
        Arrival(key, n, exp, rec)
        for key, (n, exp, rec) in sorted(acc.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))
    ]


def _stored(
    devices: QuerySet[Device], start: dt.date, end: dt.date, level: str
) -> tuple[dict[int | None, list[int]], dt.date | None]:
    """Sums of the stored daily figures per level key (devices, expected, received), and
    the last day stored: one query."""
    key = {"device": "device_id", "township": "township_id", "county": None}[level]
    qs = DeviceHealthDaily.objects.all()
    if connection.vendor == "sqlite" and (end - start).days > LONG_WINDOW_DAYS:
        # A long window is most of the table: scan it rather than follow the (day, township)
        # index row by row, which SQLite's planner (no statistics) would choose — 20 times
        # slower for a year (bench/assessment.py). ``+day`` hides the column from the index.
        day = Func(F("day"), template="(+%(expressions)s)", output_field=DateField())
        qs = qs.alias(d=day).filter(d__gte=start, d__lte=end)
    else:
        qs = qs.filter(day__gte=start, day__lte=end)
    if devices.query.where:  # a scoped or filtered set of devices
        qs = qs.filter(device_id__in=devices.values("pk"))
    figures = {
        "n": Count("device_id", distinct=True),
        "exp": Sum("expected"),
        "rec": Sum("received"),
        "last": Max("day"),
    }
    rows = list(qs.values(key).annotate(**figures)) if key else [qs.aggregate(**figures)]
    acc: dict[int | None, list[int]] = {}
    last: dt.date | None = None
    for r in rows:
        if not r["exp"]:
            continue
        acc[r[key] if key else None] = [r["n"], r["exp"], r["rec"]]
        last = r["last"] if last is None or r["last"] > last else last
    return acc, last


def arrival_rates(
    devices: QuerySet[Device],
    start: dt.date,
    end: dt.date,
    level: str = "township",
    *,
    refresh: bool = True,
) -> list[Arrival]:
    """The arrival rate of ``devices`` between ``start`` and ``end`` (inclusive) per level:
    the stored daily figures, then the rollups for the days after the last stored day
    (merged first unless ``refresh`` is False: the home page reads them as they stand)."""
    if end < start:
        return []
    acc, last = _stored(devices, start, end, level)
    rest = (last + dt.timedelta(days=1)) if last is not None else start
    if rest <= end:
        for a in summarise(by_device(devices, rest, end, refresh=refresh), level):
            n = acc.setdefault(a.key, [0, 0, 0])
            n[0] = max(n[0], a.devices)
            n[1] += a.expected
            n[2] += a.received
    return [
        Arrival(key, n, exp, rec)
        for key, (n, exp, rec) in sorted(acc.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))
    ]
