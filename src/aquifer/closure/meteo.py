"""Meteorological series in (Excel or CSV) and the attribution of one monitoring well.

:func:`import_series` reads a county station's daily precipitation or evaporation (mm/day) from
a two-column sheet — a date and a value, a header row allowed — all or nothing: a bad row is a
``ValidationError`` naming its row, and a day already stored with another value is refused
(nothing stored is silently changed) unless ``replace`` is asked for.

:func:`attribute_well` gathers a monitoring well's head (analysis's level series; depth to
water turned to −depth), the station's weather and the metered monthly withdrawals of the wells
within ``radius_m`` (accounting) and hands them to :func:`aquifer.closure.attribution.attribute`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections.abc import Iterable
from typing import Any

import pandas as pd
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl import load_workbook
from pyproj import Geod

from aquifer.accounting import service as accounting
from aquifer.analysis.levels import level_series
from aquifer.closure import conf
from aquifer.closure.attribution import Attribution, attribute
from aquifer.closure.models import MeteoSeries, MeteoValue
from aquifer.core.geometry import metres_to_degrees
from aquifer.registry.choices import WellPurpose
from aquifer.registry.models import MonitoringWell, Well

__all__ = ["attribute_well", "import_series", "programme_start", "read_rows", "wells_within"]

_GEOD = Geod(ellps="WGS84")
MAX_ROWS = 100_000


def _date(v: Any) -> dt.date | None:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    text = str(v or "").strip()
    if not text:
        return None
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M"):
        try:
            return dt.datetime.strptime(text[: len(text)], fmt).date()
        except ValueError:
            continue
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def read_rows(content: bytes, filename: str) -> list[tuple[int, Any, Any]]:
    """(row number, first cell, second cell) of a CSV or .xlsx file."""
    if filename.lower().endswith((".xlsx", ".xlsm")):
        try:
            wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises several kinds on a file that is not xlsx
            raise ValidationError({"file": _("无法读取 Excel 文件：%(e)s") % {"e": exc}}) from exc
        ws = wb.worksheets[0]
        return [
            (i, row[0] if len(row) > 0 else None, row[1] if len(row) > 1 else None)
            for i, row in enumerate(ws.iter_rows(values_only=True), start=1)
        ]
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("gb18030", errors="replace")
    return [
        (i, r[0] if len(r) > 0 else None, r[1] if len(r) > 1 else None)
        for i, r in enumerate(csv.reader(io.StringIO(text)), start=1)
    ]


def import_series(
    *,
    station: str,
    kind: str,
    content: bytes,
    filename: str,
    source: str = "",
    synthetic: bool = False,
    replace: bool = False,
) -> tuple[MeteoSeries, int]:
    """Store the file's daily values (mm/day) in the station's series; (series, rows added)."""
    if kind not in MeteoSeries.Kind.values:
        raise ValidationError({"kind": _("要素应为降水量或蒸发量。")})
    if not station.strip():
        raise ValidationError({"station": _("请填写站名。")})
    values: dict[dt.date, float] = {}
    for n, (i, a, b) in enumerate(read_rows(content, filename)):
        if n > MAX_ROWS:
            raise ValidationError({"file": _("文件超过 %(n)d 行。") % {"n": MAX_ROWS}})
        day = _date(a)
        if day is None:
            if i == 1:
                continue  # the header
            if a in (None, "") and b in (None, ""):
                continue
            raise ValidationError(
                {"file": _("第 %(i)d 行：日期“%(v)s”无法识别。") % {"i": i, "v": a}}
            )
        try:
            value = float(b)
        except (TypeError, ValueError):
            raise ValidationError(
                {"file": _("第 %(i)d 行：数值“%(v)s”不是数字。") % {"i": i, "v": b}}
            ) from None
        if not math.isfinite(value) or value < 0 or value > 1000:
            raise ValidationError(
                {"file": _("第 %(i)d 行：%(v)s 毫米/日不在 0–1000 之间。") % {"i": i, "v": value}}
            )
        if day in values and values[day] != value:
            raise ValidationError(
                {"file": _("第 %(i)d 行：日期 %(d)s 重复。") % {"i": i, "d": day}}
            )
        values[day] = value
    if not values:
        raise ValidationError({"file": _("文件中没有数据行。")})
    with transaction.atomic():
        series, _created = MeteoSeries.objects.get_or_create(
            station=station.strip()[:100],
            kind=kind,
            defaults={"source": source[:200], "is_synthetic": synthetic},
        )
        stored = dict(series.values.filter(day__in=list(values)).values_list("day", "value_mm"))
        changed = sorted(d for d, v in stored.items() if abs(v - values[d]) > 1e-9)
        if changed and not replace:
            raise ValidationError(
                {
                    "file": _("%(n)d 天已有不同的数值（如 %(d)s）；如需替换请选择“替换已有数值”。")
                    % {"n": len(changed), "d": changed[0]}
                }
            )
        if changed:
            for d in changed:
                series.values.filter(day=d).update(value_mm=values[d])
        new = [
            MeteoValue(series=series, day=d, value_mm=v)
            for d, v in values.items()
            if d not in stored
        ]
        MeteoValue.objects.bulk_create(new, batch_size=5000)
    return series, len(new)


def programme_start() -> dt.date:
    """The programme's start: the first day after its baseline year."""
    return dt.date(int(conf.get("BASELINE_YEAR")) + 1, 1, 1)


def wells_within(mw: MonitoringWell, radius_m: float) -> list[Well]:
    """Abstraction wells (not monitoring wells) within ``radius_m`` of the monitoring well."""
    lon, lat = mw.well.lon, mw.well.lat
    d = metres_to_degrees(radius_m, lat)
    near = Well.objects.filter(
        lon__gte=lon - d, lon__lte=lon + d, lat__gte=lat - d, lat__lte=lat + d
    ).exclude(purpose=WellPurpose.MONITORING)
    out = []
    for w in near:
        _a, _b, dist = _GEOD.inv(lon, lat, w.lon, w.lat)
        if abs(dist) <= radius_m:
            out.append(w)
    return out


def _series(kind: str, station: str | None) -> pd.Series:
    qs = MeteoSeries.objects.filter(kind=kind)
    if station:
        qs = qs.filter(station=station)
    series = qs.order_by("station").first()
    if series is None:
        return pd.Series(dtype=float)
    rows = list(series.values.order_by("day").values_list("day", "value_mm"))
    return pd.Series([v for _d, v in rows], index=pd.DatetimeIndex([d for d, _v in rows]))


def pumping_series(wells: Iterable[Well], years: range) -> pd.Series:
    """The summed monthly withdrawals (metered + estimated) of the wells as a daily rate
    (m³/day), one value per month start."""
    ids = [w.pk for w in wells]
    if not ids:
        return pd.Series(dtype=float)
    index, rate = [], []
    for year in years:
        vols = accounting.monthly(year, ids)
        for m in range(12):
            total = sum(float(v[m].metered_m3) + float(v[m].estimated_m3) for v in vols.values())
            days = accounting.year_month_days(year, m + 1)
            index.append(pd.Timestamp(year, m + 1, 1))
            rate.append(total / days)
    return pd.Series(rate, index=pd.DatetimeIndex(index))


def attribute_well(
    mw: MonitoringWell,
    *,
    radius_m: float = 1000.0,
    station: str | None = None,
    until: dt.date | None = None,
) -> Attribution:
    series = level_series(mw)
    if not series.times:
        return Attribution(False, "too_few_observations")
    sign = -1.0 if series.value_is == "depth" else 1.0
    head = pd.Series([sign * v for v in series.values], index=pd.DatetimeIndex(series.times))
    start = programme_start()
    first = head.index.min().year - 1
    last = (until or head.index.max().date()).year
    wells = wells_within(mw, radius_m)
    q = pumping_series(wells, range(first, last + 1)) if wells else None
    return attribute(
        head,
        _series(MeteoSeries.Kind.PRECIPITATION, station),
        _series(MeteoSeries.Kind.EVAPORATION, station),
        q,
        programme_start=start,
        until=until,
    )
