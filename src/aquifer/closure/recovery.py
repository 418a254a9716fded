"""Recovery reported as the water administration reports it (issue 16, point 6).

Per level monitoring well, for a report month: the monthly mean level (depth to water or
water level, as measured), its change against the same month of the year before and against
the same month of the programme's baseline year (``AQUIFER["CLOSURE"]["BASELINE_YEAR"]``),
each in water-level terms (positive = higher) and in the bulletin's classes
(:mod:`aquifer.closure.classes`, bounds unconfirmed), beside the Mann-Kendall recovery status
the analysis app stores. Zones and townships, shallow and deep apart, take the mean change of
their wells with data. The report exports as one Excel sheet in that layout.

This lives in the closure app (not analysis) because its baseline is the programme's and its
readers are the programme's; it reads analysis's level series and stored trends.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aquifer.analysis.levels import latest_well_trends, month_means
from aquifer.analysis.models import LevelElement, RecoveryStatus
from aquifer.closure import conf
from aquifer.closure.classes import RecoveryClass, classify, mean_change, rise
from aquifer.registry.models import MonitoringWell

__all__ = ["CLASS_LABELS", "Group", "Report", "WellRow", "export_rows", "report"]

CLASS_LABELS: dict[str, Any] = {
    RecoveryClass.RISE: gettext_lazy("上升"),
    RecoveryClass.SLIGHT_RISE: gettext_lazy("弱上升"),
    RecoveryClass.SLIGHT_FALL: gettext_lazy("弱下降"),
    RecoveryClass.FALL: gettext_lazy("下降"),
}


def label(c: RecoveryClass | None) -> str:
    return str(CLASS_LABELS[c]) if c is not None else "—"


@dataclass
class WellRow:
    mw: MonitoringWell
    value_is: str
    current: float | None
    last_year: float | None
    baseline: float | None
    change_year: float | None
    change_baseline: float | None
    class_year: RecoveryClass | None
    class_baseline: RecoveryClass | None
    mk_status: str

    @property
    def mk_label(self) -> str:
        try:
            return str(RecoveryStatus(self.mk_status).label)
        except ValueError:
            return self.mk_status or "—"


@dataclass
class Group:
    key: Any  # a Township or a Zone
    layer: str
    wells: list[WellRow] = field(default_factory=list)
    change_year: float | None = None
    change_baseline: float | None = None
    class_year: RecoveryClass | None = None
    class_baseline: RecoveryClass | None = None


@dataclass
class Report:
    month: dt.date
    baseline_year: int
    wells: list[WellRow]
    townships: list[Group]
    zones: list[Group]


def report(month: dt.date, wells: Any = None) -> Report:
    """The recovery report for the month of ``month`` (a queryset of monitoring wells, or all
    level monitoring wells)."""
    month = month.replace(day=1)
    base_year = int(conf.get("BASELINE_YEAR"))
    up, down = float(conf.get("RECOVERY_RISE_M")), float(conf.get("RECOVERY_FALL_M"))
    qs = wells if wells is not None else MonitoringWell.objects.all()
    qs = (
        qs.filter(monitors_level=True)
        .select_related("well", "well__township", "well__zone")
        .defer("well__township__boundary", "well__zone__geometry")  # not shown; decoded per row
        .order_by("well__code")
    )
    last_year = month.replace(year=month.year - 1)
    base_month = month.replace(year=base_year) if base_year < month.year else None
    asked = [month, last_year] + ([base_month] if base_month is not None else [])
    means = month_means(qs, asked)  # one read for every well in scope
    mk = latest_well_trends(qs)
    rows: list[WellRow] = []
    for mw in qs:
        element, by_month = means.get(mw.pk, (LevelElement.DEPTH.value, {}))
        value_is = "depth" if element == LevelElement.DEPTH else "level"
        cur = by_month.get(month)
        prev = by_month.get(last_year)
        base = by_month.get(base_month) if base_month is not None else None
        cy, cb = rise(prev, cur, value_is), rise(base, cur, value_is)
        trend = mk.get(mw.pk)
        rows.append(
            WellRow(
                mw,
                value_is,
                cur,
                prev,
                base,
                None if cy is None else round(cy, 3),
                None if cb is None else round(cb, 3),
                classify(cy, up, down),
                classify(cb, up, down),
                trend.status if trend is not None else "",
            )
        )
    groups: dict[tuple[str, int, str], Group] = {}
    for r in rows:
        w = r.mw.well
        keys: list[tuple[str, int, Any]] = [("township", w.township_id, w.township)]
        if w.zone_id:
            keys.append(("zone", w.zone_id, w.zone))
        for kind, pk, obj in keys:
            g = groups.setdefault((kind, pk, w.layer), Group(obj, w.layer))
            g.wells.append(r)
    for g in groups.values():
        g.change_year = mean_change([r.change_year for r in g.wells])
        g.change_baseline = mean_change([r.change_baseline for r in g.wells])
        g.class_year = classify(g.change_year, up, down)
        g.class_baseline = classify(g.change_baseline, up, down)
    by_kind: dict[str, list[Group]] = defaultdict(list)
    for (kind, _pk, _layer), g in sorted(
        groups.items(), key=lambda kv: (kv[0][0], str(kv[1].key.code), kv[0][2])
    ):
        by_kind[kind].append(g)
    return Report(month, base_year, rows, by_kind["township"], by_kind["zone"])


def _fmt(v: float | None) -> Any:
    return "" if v is None else round(v, 2)


def export_rows(rep: Report) -> tuple[list[tuple[str, str, Any]], list[Any]]:
    """Columns (in the core export shape) and rows: the wells, then each township and zone
    (shallow and deep apart), as the county reports upward."""
    columns: list[tuple[str, str, Any]] = [
        ("level", _("级别"), lambda r: r[0]),
        ("name", _("名称"), lambda r: r[1]),
        ("layer", _("含水层"), lambda r: r[2]),
        ("wells", _("监测井数"), lambda r: r[3]),
        ("current", _("本期 (m)"), lambda r: r[4]),
        ("last_year", _("上年同期 (m)"), lambda r: r[5]),
        ("change_year", _("较上年同期变幅 (m)"), lambda r: r[6]),
        ("class_year", _("类别（较上年同期）"), lambda r: r[7]),
        ("change_baseline", _("较基准年同期变幅 (m)"), lambda r: r[8]),
        ("class_baseline", _("类别（较基准年）"), lambda r: r[9]),
        ("mk", _("Mann-Kendall 状态"), lambda r: r[10]),
    ]
    layers = {"shallow": _("浅层"), "deep": _("深层")}
    out: list[Any] = []
    for r in rep.wells:
        out.append(
            (
                _("监测井"),
                r.mw.well.code,
                layers.get(r.mw.well.layer, r.mw.well.layer),
                1,
                _fmt(r.current),
                _fmt(r.last_year),
                _fmt(r.change_year),
                label(r.class_year),
                _fmt(r.change_baseline),
                label(r.class_baseline),
                r.mk_label,
            )
        )
    for level, groups in ((_("乡镇"), rep.townships), (_("分区"), rep.zones)):
        for g in groups:
            out.append(
                (
                    level,
                    str(g.key),
                    layers.get(g.layer, g.layer),
                    len(g.wells),
                    "",
                    "",
                    _fmt(g.change_year),
                    label(g.class_year),
                    _fmt(g.change_baseline),
                    label(g.class_baseline),
                    "",
                )
            )
    return columns, out
