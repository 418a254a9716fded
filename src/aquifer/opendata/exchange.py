"""Exchange files for the national groundwater monitoring network: the monitoring wells'
daily levels (from the daily rollups) and their quality samples, as CSV or Excel, in the
layout of ``AQUIFER["OPENDATA"]["EXCHANGE"]`` (:mod:`aquifer.opendata.conf`; UNCONFIRMED:
no published layout was found, docs/open-data.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils import timezone

from aquifer.analysis.models import QualityResult
from aquifer.core.exports import Column
from aquifer.core.scoping import visible_to
from aquifer.opendata.conf import opendata_setting
from aquifer.registry.models import Well
from aquifer.telemetry.models import ReadingDaily

__all__ = ["LEVEL_FIELDS", "QUALITY_FIELDS", "columns", "daily_levels", "quality_results"]

LEVEL_ELEMENTS = ("depth_to_water", "water_level")


def _day(r: Any) -> str:
    return timezone.localtime(r.bucket).date().isoformat()


#: What a daily-level column may hold: field → value of one daily rollup row.
LEVEL_FIELDS: dict[str, Callable[[Any], Any]] = {
    "station": lambda r: r.device.well.code,
    "name": lambda r: r.device.well.name,
    "device": lambda r: r.device.station_address,
    "date": _day,
    "element": lambda r: r.element,
    "mean": lambda r: round(r.sum / r.n, 3) if r.n else None,
    "min": lambda r: r.min,
    "max": lambda r: r.max,
    "first": lambda r: r.first,
    "last": lambda r: r.last,
    "n": lambda r: r.n,
}

#: What a quality column may hold: field → value of one lab result.
QUALITY_FIELDS: dict[str, Callable[[Any], Any]] = {
    "station": lambda q: q.sample.well.code,
    "name": lambda q: q.sample.well.name,
    "sample_id": lambda q: q.sample.sample_id,
    "sampled_at": lambda q: timezone.localtime(q.sample.sampled_at).strftime("%Y-%m-%d %H:%M"),
    "lab": lambda q: q.sample.lab,
    "indicator": lambda q: q.indicator,
    "value": lambda q: q.value if q.value is not None else q.value_text,
    "unit": lambda q: q.unit,
    "below_detection": lambda q: int(q.below_detection),
    "klass": lambda q: q.klass,
    "sample_klass": lambda q: q.sample.klass,
}


def columns(kind: str) -> list[Column]:
    """The columns of ``kind`` ("LEVELS" or "QUALITY") in the configured layout."""
    fields = LEVEL_FIELDS if kind == "LEVELS" else QUALITY_FIELDS
    out: list[Column] = []
    for field, header in opendata_setting("EXCHANGE")[kind]:
        if field not in fields:
            raise ValueError(f"OPENDATA EXCHANGE {kind}: unknown field {field!r}")
        out.append((field, header, fields[field]))
    return out


def _range(start: date, end: date) -> tuple[datetime, datetime]:
    tz = timezone.get_default_timezone()
    return (
        datetime.combine(start, time(), tz),
        datetime.combine(end + timedelta(days=1), time(), tz),
    )


def monitoring_wells(user: Any) -> Any:
    return visible_to(user, "view", Well).filter(monitoring__isnull=False)


def daily_levels(user: Any, start: date, end: date) -> Iterable[Any]:
    """Daily rollups of the level elements of the monitoring wells ``user`` may see, for the
    local days ``start`` … ``end``, by station and day."""
    t0, t1 = _range(start, end)
    return (
        ReadingDaily.objects.filter(
            device__well__in=monitoring_wells(user), element__in=LEVEL_ELEMENTS,
            bucket__gte=t0, bucket__lt=t1,
        )
        .select_related("device__well")
        .order_by("device__well__code", "bucket", "element", "device_id")
    )  # fmt: skip


def quality_results(user: Any, start: date, end: date) -> Iterable[Any]:
    """The lab results of the monitoring wells' samples taken ``start`` … ``end``."""
    t0, t1 = _range(start, end)
    return (
        QualityResult.objects.filter(
            sample__well__in=monitoring_wells(user), sample__sampled_at__gte=t0,
            sample__sampled_at__lt=t1,
        )
        .select_related("sample__well")
        .order_by("sample__well__code", "sample__sampled_at", "sample_id", "id")
    )  # fmt: skip
