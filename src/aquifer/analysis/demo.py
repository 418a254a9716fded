"""Demo data of the analysis app, on top of the registry demo (``aquifer demo``).

Idempotent: samples and soundings are matched by their natural keys and never duplicated;
trends and forecasts are recomputed for today (which replaces today's rows).

What is invented (all of it is **illustrative**, not measured):

- manual soundings of the demo's level monitoring wells, three a year for the eight years
  before the logger history, drawn from the same simulated wells as the loggers
  (``telemetry.simulator.depth_to_water``: seasonal swing, slow decline; each sounding is that
  day's mean, as the logger's daily rollups are), so old soundings and new logger readings
  tell one story;
- lab samples of the monitoring wells, twice a year (dry season in April, wet season in
  September) for three years, with values typical of the region's two groundwater types:
  deep **karst water** (岩溶水, Ordovician limestone, HCO₃–Ca·Mg type: hardness and dissolved
  solids moderate, sulfate raised where coal mining drains through the limestone) and shallow
  **pore water** (孔隙水, Quaternary loess and alluvium: nitrate from farming). The ranges are
  rounded values of the kind published for karst and pore water in south-east Shanxi, not
  data of any real well; every sample is flagged ``illustrative``.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

from django.utils import timezone

from aquifer.core import audit
from aquifer.registry.models import Device, MonitoringWell
from aquifer.telemetry import simulator
from aquifer.telemetry.simulator.registry import demo_sites

__all__ = ["build"]

#: (indicator, unit, karst range, pore-water range, decimals); ranges are (low, high).
INDICATORS: list[tuple[str, str, tuple[float, float], tuple[float, float], int]] = [
    ("pH", "", (7.2, 7.9), (7.3, 8.2), 2),
    ("总硬度（以CaCO3计）", "mg/L", (230, 420), (260, 440), 0),
    ("溶解性总固体", "mg/L", (320, 680), (400, 900), 0),
    ("硫酸盐", "mg/L", (60, 300), (50, 220), 0),
    ("氯化物", "mg/L", (8, 40), (20, 90), 1),
    ("硝酸盐（以N计）", "mg/L", (1.0, 8.0), (3.0, 16.0), 2),
    ("氨氮（以N计）", "mg/L", (0.02, 0.12), (0.02, 0.45), 3),
    ("氟化物", "mg/L", (0.2, 0.9), (0.3, 1.2), 2),
    ("铁", "mg/L", (0.03, 0.22), (0.03, 0.28), 3),
    ("锰", "mg/L", (0.01, 0.06), (0.01, 0.09), 3),
]
#: Non-detects at the lab's detection limit (mg/L): arsenic, lead, cadmium, hexavalent Cr.
NON_DETECTS = [("砷", 0.001), ("铅", 0.0025), ("镉", 0.0005), ("铬（六价）", 0.004)]
LAB = "晋城市水环境监测中心（示例）"


class _DemoBureau:
    """The demo's author: a bureau role for the scope checks (no account is needed)."""

    is_authenticated = True
    is_superuser = True
    pk = None

    def get_username(self) -> str:
        return "demo"


def _names() -> dict[str, str]:
    """The standard's own names for the indicators above (raises if one is unknown)."""
    from aquifer.analysis.quality import find_indicator

    return {n: find_indicator(n).name_cn for n, *_ in INDICATORS} | {
        n: find_indicator(n).name_cn for n, _ in NON_DETECTS
    }


def build_soundings(log: Callable[[str], None] = print, years: int = 8) -> int:
    """Three manual soundings a year for ``years`` years before the logger history."""
    from aquifer.analysis.models import LevelMeasurement

    tz = timezone.get_current_timezone()
    today = timezone.localdate()
    logger_start = today - dt.timedelta(days=365)
    existing = set(LevelMeasurement.objects.values_list("monitoring_well_id", "measured_at"))
    new = []
    wells = MonitoringWell.objects.filter(monitors_level=True).select_related("well")
    stations: dict[int, str] = {}  # the well's level-reporting device, as the logger history
    for well_id, station, kind in (
        Device.objects.filter(well__monitoring__isnull=False, active=True)
        .order_by("-pk")
        .values_list("well_id", "station_address", "kind")
    ):
        if "depth_to_water" in simulator.KINDS.get(simulator.kind_of(kind), ()):
            stations[well_id] = station
    sites = demo_sites(stations.values())
    for mw in wells:
        station = stations.get(mw.well_id) or f"demo-{mw.well.code}"
        site = sites.get(station) or simulator.site_for(station)
        rng = random.Random(f"sounding-{mw.well.code}")
        for y in range(logger_start.year - years, logger_start.year + 1):
            for month in (4, 8, 12):
                day = rng.randint(5, 25)
                at = dt.datetime(y, month, day, 12, tzinfo=tz)
                if at.date() >= logger_start or (mw.pk, at) in existing:
                    continue
                # The day's mean of the simulated well (00, 06, 12, 18 h, as the logger
                # history's daily means), so soundings and logger rollups agree.
                day_mean = (
                    sum(simulator.depth_to_water(at.replace(hour=h), site) for h in (0, 6, 12, 18))
                    / 4
                )
                new.append(
                    LevelMeasurement(
                        monitoring_well=mw,
                        element="depth_to_water",
                        measured_at=at,
                        value=round(day_mean, 2),
                        note="示例数据（人工测量）",
                    )
                )
    LevelMeasurement.objects.bulk_create(new, batch_size=2000)
    log(f"analysis: {len(new)} manual soundings")
    return len(new)


def _value(rng: random.Random, lo: float, hi: float, decimals: int, drift: float) -> float:
    v = lo + (hi - lo) * min(1.0, max(0.0, rng.betavariate(2.2, 2.8) + drift))
    return round(v, decimals) if decimals else float(round(v))


def build_samples(log: Callable[[str], None] = print, years: int = 3) -> int:
    """Two lab samples a year for ``years`` years of every monitoring well (illustrative)."""
    from aquifer.analysis import samples
    from aquifer.analysis.models import QualitySample

    names = _names()
    today = timezone.localdate()
    tz = timezone.get_current_timezone()
    user: Any = _DemoBureau()
    have = set(QualitySample.objects.values_list("sample_id", flat=True))
    created = 0
    newest: dict[int, Any] = {}
    wells = MonitoringWell.objects.select_related("well").order_by("well__code")
    with audit.audit_context(source="demo"):
        for mw in wells:
            well = mw.well
            karst = well.layer == "deep"
            rng = random.Random(f"quality-{well.code}")
            mining = rng.random() < 0.15  # sulfate raised by mine drainage
            farmed = rng.random() < 0.25  # nitrate from fertiliser
            for y in range(today.year - years, today.year + 1):
                for month in (4, 9):
                    at = dt.datetime(y, month, rng.randint(8, 22), 10, tzinfo=tz)
                    if at.date() > today:
                        continue
                    sid = f"DEMO-WQ-{well.code}-{y}{month:02d}"
                    if sid in have:
                        continue
                    drift = 0.04 * (y - today.year + years)
                    inds = []
                    for name, unit, k_range, p_range, dec in INDICATORS:
                        lo, hi = k_range if karst else p_range
                        extra = 0.0
                        if name == "硫酸盐" and mining:
                            extra = 0.45 + drift
                        if name.startswith("硝酸盐") and farmed:
                            extra = 0.35 + drift
                        value = _value(rng, lo, hi, dec, extra)
                        inds.append(samples.IndicatorInput(names[name], value, unit))
                    for name, dl in NON_DETECTS:
                        inds.append(samples.IndicatorInput(names[name], None, "mg/L", dl, True))
                    data = samples.SampleInput(sid, well, at, LAB, inds, illustrative=True)
                    checked = samples.validate_sample(data, user)
                    sample = samples.store_sample(checked, warn=False)
                    created += 1
                    if mw.pk not in newest or sample.sampled_at > newest[mw.pk].sampled_at:
                        newest[mw.pk] = sample
        warned = sum(samples.warn_if_needed(s) for s in newest.values())
    log(f"analysis: {created} quality samples (illustrative), {warned} warnings")
    return created


def build(log: Callable[[str], None] = print) -> None:
    """Soundings, quality samples, today's trends and forecasts for the demo county."""
    from aquifer.analysis import levels

    build_soundings(log)
    build_samples(log)
    with audit.audit_context(source="demo"):
        counts = levels.compute_trends()
        n = levels.compute_forecasts()
    log(f"analysis: trends of {counts['wells']} wells and {counts['zones']} zones, {n} forecasts")
