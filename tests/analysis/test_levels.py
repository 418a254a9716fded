"""The trend job on the readings store and manual soundings; forecasts; zone status."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest
from django.utils import timezone

from aquifer.analysis import levels, trends
from aquifer.analysis.models import LevelForecast, LevelMeasurement, WellTrend, ZoneTrend
from aquifer.telemetry import store

TZ = dt.timezone(dt.timedelta(hours=8))
ON = dt.date(2026, 6, 15)


def _daily_depth(device_id: int, years: int, slope_per_year: float, seed: int = 1) -> int:
    """Daily depth readings ending on ON: a trend, a seasonal cycle, noise."""
    rng = np.random.default_rng(seed)
    start = dt.datetime(ON.year - years, ON.month, 1, 8, tzinfo=TZ)
    days = (dt.datetime(ON.year, ON.month, ON.day, 8, tzinfo=TZ) - start).days
    rows = []
    for d in range(0, days, 2):
        t = start + dt.timedelta(days=d)
        yr = d / 365.25
        v = 30 + slope_per_year * yr + 0.6 * np.sin(2 * np.pi * yr) + rng.normal(0, 0.05)
        rows.append(store.ReadingRow(device_id, "depth_to_water", t, float(v)))
    return store.ingest(rows)


@pytest.fixture
def falling_well(world: Any) -> Any:
    """Well B's level logger: depth growing 0.8 m/a over 6 years (a falling level)."""
    _daily_depth(world.device_b.pk, 6, 0.8)
    return world.monitoring_b


def test_job_stores_trend_per_well_and_zone(world: Any, falling_well: Any) -> None:
    counts = levels.compute_trends(ON)
    assert counts["wells"] == 2
    t = WellTrend.objects.get(monitoring_well=falling_well, computed_on=ON)
    assert t.element == "depth_to_water" and t.sources == "logger"
    assert t.trend == "increasing"  # depth increases
    assert t.test == "seasonal"
    assert t.slope_per_year == pytest.approx(0.8, abs=0.1)
    assert t.level_slope_per_year == pytest.approx(-0.8, abs=0.1)
    assert t.same_month_change is not None and t.same_month_change < -0.5
    assert t.status == "falling"
    # Well A has no level data at all: said, not guessed.
    ta = WellTrend.objects.get(monitoring_well=world.monitoring_a, computed_on=ON)
    assert ta.status == "not enough data" and ta.trend == "not enough data"
    # Well B lies in the prohibited zone around Huangcheng? Its zone row exists either way.
    z = ZoneTrend.objects.get(zone=world.zone, computed_on=ON)
    if world.well_b.zone_id == world.zone.pk:
        assert z.status == "falling" and z.falling == 1
    else:
        assert z.status == "not enough data" and z.wells == 0


def test_job_is_idempotent_per_day(world: Any, falling_well: Any) -> None:
    levels.compute_trends(ON)
    levels.compute_trends(ON)
    assert WellTrend.objects.filter(computed_on=ON).count() == 2
    assert ZoneTrend.objects.filter(computed_on=ON).count() == 1


def test_matches_pure_assessment(world: Any, falling_well: Any) -> None:
    """What the job stores is trends.assess on the same monthly means."""
    levels.compute_trends(ON)
    s = levels.level_series(falling_well)
    a = trends.assess(s.times, s.values, "depth")
    t = WellTrend.objects.get(monitoring_well=falling_well, computed_on=ON)
    assert t.trend == a.trend and t.status == a.status
    assert t.p == pytest.approx(a.p) and t.slope_per_year == pytest.approx(a.slope_per_year)


def test_manual_soundings_irregular(world: Any) -> None:
    """Manual soundings three times a year on irregular days over 8 years: a rising level.

    (Twice a year is too few for the 5-year window's 12 monthly means: "not enough data".)
    """
    mw = world.monitoring_a
    n = 0
    for y in range(2018, 2027):
        for month, day, extra in ((4, 3 + y % 7, 0.5), (8, 20 - y % 5, 0.0), (12, 11, 0.2)):
            if dt.date(y, month, day) > ON:
                continue
            depth = 40 - 0.4 * (y - 2018) + extra
            LevelMeasurement.objects.create(
                monitoring_well=mw,
                element="depth_to_water",
                measured_at=dt.datetime(y, month, day, 9, tzinfo=TZ),
                value=depth,
            )
            n += 1
    levels.compute_trends(ON)
    t = WellTrend.objects.get(monitoring_well=mw, computed_on=ON)
    assert t.sources == "manual"
    assert t.months == n
    assert t.test == "original"
    assert t.status == "rising"
    assert t.level_slope_per_year == pytest.approx(0.4, abs=0.05)


def test_too_short_is_not_enough_data(world: Any) -> None:
    rows = [
        store.ReadingRow(
            world.device_b.pk, "depth_to_water", dt.datetime(2026, m, 5, tzinfo=TZ), 30.0 + m
        )
        for m in range(1, 6)
    ]
    store.ingest(rows)
    levels.compute_trends(ON)
    t = WellTrend.objects.get(monitoring_well=world.monitoring_b, computed_on=ON)
    assert t.status == "not enough data" and t.p is None and t.slope_per_year is None


def test_forecast_cached_and_not_enough_data(world: Any, falling_well: Any) -> None:
    f = levels.compute_forecast(falling_well, ON)
    assert f.enough_data and f.method == "harmonic"
    assert f.rmse is not None and f.rmse < 0.3
    assert f.nse is not None and f.evp is not None
    assert len(f.points["values"]) == 12
    assert f.points["months"][0] == "2026-06-01"  # data until May: forecast from June
    again = levels.compute_forecast(falling_well, ON)
    assert again.pk == f.pk and LevelForecast.objects.count() == 1
    empty = levels.compute_forecast(world.monitoring_a, ON)
    assert not empty.enough_data and empty.message == "not enough data"
    assert empty.points["values"] == []


def test_zone_status_rule() -> None:
    z = trends.zone_status
    assert z([]) == "not enough data"
    assert z(["not enough data", "not enough data"]) == "not enough data"
    assert z(["falling"]) == "falling"
    assert z(["falling", "falling", "rising"]) == "falling"
    assert z(["rising", "rising", "stabilised"]) == "rising"
    assert z(["rising", "falling"]) == "stabilised"
    assert z(["rising", "not enough data"]) == "rising"
    assert z(["rising"], min_wells=2) == "not enough data"


def test_today_default(world: Any) -> None:
    levels.compute_trends()
    assert WellTrend.objects.filter(computed_on=timezone.localdate()).count() == 2


def test_zone_status_from_its_wells(world: Any) -> None:
    """Two falling wells and one without data inside the zone: the zone is falling."""
    from aquifer.core.audit import audit_context
    from aquifer.registry.models import Device, MonitoringWell, Well

    from ..conftest import HUANGCHENG

    made = []
    with audit_context(source="test"):
        for i in range(3):
            w = Well(code=f"W-Z-{i}", depth_m=60, layer="shallow", purpose="monitoring")
            w.set_location(HUANGCHENG[0] + 0.002 * i, HUANGCHENG[1])
            w.save()
            d = Device.objects.create(
                kind="level_logger", protocol="MQTT", station_address=f"zone-{i}", well=w
            )
            MonitoringWell.objects.create(well=w)
            made.append((w, d))
    assert all(w.zone_id == world.zone.pk for w, _d in made)
    _daily_depth(made[0][1].pk, 6, 0.9, seed=2)
    _daily_depth(made[1][1].pk, 6, 0.7, seed=3)
    levels.compute_trends(ON)
    z = ZoneTrend.objects.get(zone=world.zone, computed_on=ON)
    assert (z.wells, z.wells_assessed, z.falling) == (3, 2, 2)
    assert z.status == "falling"
    assert z.level_slope_per_year == pytest.approx(-0.8, abs=0.15)


def test_month_means_match_the_series_grid(world: Any, falling_well: Any) -> None:
    """The batched months of many wells are the single-well monthly grid's values: logger daily
    means and soundings in one month together, the element picked as the series picks it."""
    from aquifer.registry.models import MonitoringWell

    for day, depth in ((dt.date(2025, 6, 3), 33.0), (dt.date(2022, 6, 20), 29.0)):
        LevelMeasurement.objects.create(
            monitoring_well=falling_well,
            element="depth_to_water",
            measured_at=dt.datetime(day.year, day.month, day.day, 9, tzinfo=TZ),
            value=depth,
        )
    # Well A: water level only (no depth at all), one sounding at a month's first local hour.
    LevelMeasurement.objects.create(
        monitoring_well=world.monitoring_a,
        element="water_level",
        measured_at=dt.datetime(2025, 6, 1, 0, 30, tzinfo=TZ),
        value=812.5,
    )
    store.refresh_rollups()  # the daily means both read
    months = [dt.date(2026, 6, 1), dt.date(2025, 6, 1), dt.date(2022, 6, 1), dt.date(2025, 5, 1)]
    got = levels.month_means(MonitoringWell.objects.all(), months)
    for mw in (falling_well, world.monitoring_a):
        series = levels.level_series(mw)
        first, grid = levels.monthly_grid(series, ON)
        element, by_month = got[mw.pk]
        assert element == series.element
        for m in months:
            k = (m.year - first.year) * 12 + m.month - first.month
            want = grid[k] if 0 <= k < grid.size and np.isfinite(grid[k]) else None
            assert by_month.get(m) == (None if want is None else pytest.approx(want))
    assert got[world.monitoring_a.pk] == ("water_level", {dt.date(2025, 6, 1): 812.5})
    assert got[falling_well.pk][1][dt.date(2022, 6, 1)] != 29.0  # daily means count too


def test_latest_well_trends_newest_day_of_the_wells_asked(world: Any, falling_well: Any) -> None:
    from aquifer.registry.models import MonitoringWell

    levels.compute_trends(ON - dt.timedelta(days=1))
    levels.compute_trends(ON)
    latest = levels.latest_well_trends(MonitoringWell.objects.filter(pk=falling_well.pk))
    assert list(latest) == [falling_well.pk] and latest[falling_well.pk].computed_on == ON
    assert {t.computed_on for t in levels.latest_well_trends().values()} == {ON}
