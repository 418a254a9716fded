"""Rollup buckets (the local-time hour or day of a reading) and aggregates of the readings
in them, computed in Python (the chart's tail above the watermark, a rebuild)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta, tzinfo
from datetime import time as dtime
from typing import Any, Literal

from django.utils import timezone

__all__ = [
    "FIRST",
    "FIRST_AT",
    "LAST",
    "LAST_AT",
    "MAX",
    "MIN",
    "SUM",
    "Agg",
    "N",
    "Resolution",
    "bucket_end",
    "bucket_start",
]

Resolution = Literal["hourly", "daily"]
_HOUR = timedelta(hours=1)


def _tz() -> tzinfo:
    return timezone.get_default_timezone()


def bucket_start(ts: datetime, resolution: Resolution, tz: tzinfo | None = None) -> datetime:
    """The start (UTC) of the local-time hour or day that contains ``ts``."""
    local = ts.astimezone(tz or _tz())
    if resolution == "hourly":
        local = local.replace(minute=0, second=0, microsecond=0)
    else:
        local = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return local.astimezone(UTC)


def bucket_end(start: datetime, resolution: Resolution, tz: tzinfo | None = None) -> datetime:
    """The end (UTC, exclusive) of the bucket that starts at ``start``."""
    if resolution == "hourly":
        return start + _HOUR
    tz = tz or _tz()
    day = start.astimezone(tz).date() + timedelta(days=1)
    return datetime.combine(day, dtime(0), tzinfo=tz).astimezone(UTC)


# --- Aggregates -------------------------------------------------------------------------------
#
# A rollup row is [n, min, max, sum, first, last, first_at, last_at]. Only the readings a batch
# actually added (ON CONFLICT DO NOTHING decided that) are merged into the stored rows, so a
# resend changes nothing and every reading is counted exactly once.

Agg = list[Any]
N, MIN, MAX, SUM, FIRST, LAST, FIRST_AT, LAST_AT = range(8)


def _merge_value(agg: Agg | None, value: float, at: Any) -> Agg:
    if agg is None:
        return [1, value, value, value, value, value, at, at]
    agg[N] += 1
    if value < agg[MIN]:
        agg[MIN] = value
    if value > agg[MAX]:
        agg[MAX] = value
    agg[SUM] += value
    if at < agg[FIRST_AT]:
        agg[FIRST], agg[FIRST_AT] = value, at
    if at > agg[LAST_AT]:
        agg[LAST], agg[LAST_AT] = value, at
    return agg


def _merge_agg(agg: Agg | None, part: Agg) -> Agg:
    if agg is None:
        return list(part)
    agg[N] += part[N]
    agg[MIN] = min(agg[MIN], part[MIN])
    agg[MAX] = max(agg[MAX], part[MAX])
    agg[SUM] += part[SUM]
    if part[FIRST_AT] < agg[FIRST_AT]:
        agg[FIRST], agg[FIRST_AT] = part[FIRST], part[FIRST_AT]
    if part[LAST_AT] > agg[LAST_AT]:
        agg[LAST], agg[LAST_AT] = part[LAST], part[LAST_AT]
    return agg


def _rollups(
    items: Iterable[tuple[int, str, Any, Any, Any, float]],
) -> tuple[dict[tuple[int, str, Any], Agg], dict[tuple[int, str, Any], Agg]]:
    """Hourly and daily aggregates of ``(device, element, hour, day, at, value)`` items."""
    hourly: dict[tuple[int, str, Any], Agg] = {}
    day_of: dict[tuple[int, str, Any], Any] = {}
    for device, element, hour, day, at, value in items:
        key = (device, element, hour)
        hourly[key] = _merge_value(hourly.get(key), value, at)
        day_of[key] = day
    daily: dict[tuple[int, str, Any], Agg] = {}
    for key, agg in hourly.items():
        dkey = (key[0], key[1], day_of[key])
        daily[dkey] = _merge_agg(daily.get(dkey), agg)
    return hourly, daily


def _buckets_of(times: Iterable[datetime], dt: Callable[[datetime], Any]) -> list[tuple[Any, Any]]:
    """(local hour start, local day start) of each time, as ``dt`` makes them (SQLite:
    Django's UTC text), each hour and day computed once (any ``TIME_ZONE``)."""
    tz = _tz()
    hours: dict[tuple[Any, ...], Any] = {}  # local (date, hour, fold) -> hour start
    days: dict[Any, Any] = {}  # local date -> day start
    out = []
    for ts in times:
        local = ts.astimezone(tz)
        date = local.date()
        hour = hours.get(hkey := (date, local.hour, local.fold))
        if hour is None:
            hour = hours[hkey] = dt(bucket_start(local, "hourly", tz))
        day = days.get(date)
        if day is None:
            day = days[date] = dt(bucket_start(local, "daily", tz))
        out.append((hour, day))
    return out
