"""Trend tests against pymannkendall, irregular data, not-enough-data and the status rule."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pymannkendall as mk
import pytest

from aquifer.analysis.trends import (
    NOT_ENOUGH_DATA,
    StatusParams,
    assess,
    assess_many,
    mann_kendall,
    monthly_means,
    recovery_status,
    same_month_change,
    seasonal_mann_kendall,
)

RNG = np.random.default_rng(14848)
T = np.arange(120)


def _with_gaps(x: np.ndarray) -> np.ndarray:
    y = x.copy()
    y[RNG.random(x.size) < 0.25] = np.nan
    return y


SERIES = {
    "linear+noise": 0.02 * T + RNG.normal(0, 0.5, 120),
    "falling": 15 - 0.01 * T + RNG.normal(0, 0.05, 120),
    "seasonal": np.sin(2 * np.pi * T / 12) + 0.004 * T + RNG.normal(0, 0.1, 120),
    "ties": np.round(RNG.normal(0, 1, 84)),
    "constant": np.full(36, 3.0),
    "short": RNG.normal(0, 1, 26),
    "odd length": RNG.normal(0, 1, 31) + 0.05 * np.arange(31),
    "gaps": _with_gaps(0.01 * T + RNG.normal(0, 0.3, 120)),
    "noise": RNG.normal(0, 1, 60),
}


@pytest.mark.parametrize("name", SERIES)
def test_original_equals_pymannkendall(name: str) -> None:
    x = SERIES[name]
    ref, sen = mk.original_test(x), mk.sens_slope(x)
    got = mann_kendall(x)
    assert got.trend[0] == ref.trend and bool(got.h[0]) == bool(ref.h)
    for ours, theirs in [
        (got.p, ref.p),
        (got.z, ref.z),
        (got.tau, ref.Tau),
        (got.s, ref.s),
        (got.var_s, ref.var_s),
        (got.slope, sen.slope),
        (got.intercept, sen.intercept),
    ]:
        assert ours[0] == pytest.approx(theirs, abs=1e-9, rel=1e-12)


@pytest.mark.parametrize("name", SERIES)
def test_seasonal_equals_pymannkendall(name: str) -> None:
    x = SERIES[name]
    ref, sen = mk.seasonal_test(x, period=12), mk.seasonal_sens_slope(x, period=12)
    got = seasonal_mann_kendall(x, 12)
    assert got.trend[0] == ref.trend
    for ours, theirs in [
        (got.p, ref.p),
        (got.z, ref.z),
        (got.tau, ref.Tau),
        (got.s, ref.s),
        (got.var_s, ref.var_s),
        (got.slope, sen.slope),
        (got.intercept, sen.intercept),
    ]:
        assert ours[0] == pytest.approx(theirs, abs=1e-9, rel=1e-12)


def test_many_rows_equal_one_by_one() -> None:
    from aquifer.analysis.trends import mann_kendall_many

    x = np.stack([SERIES["linear+noise"], SERIES["gaps"], SERIES["seasonal"]])
    many = mann_kendall_many(x, chunk=2)
    for i in range(3):
        one = mann_kendall(x[i])
        assert many.s[i] == one.s[0] and many.slope[i] == one.slope[0]


def test_monthly_means_of_irregular_soundings() -> None:
    times = [datetime(2020, 1, 3), datetime(2020, 1, 20), datetime(2020, 4, 9)]
    first, means = monthly_means(times, [10.0, 12.0, 9.0])
    assert first == datetime(2020, 1, 1)
    assert means[0] == 11.0 and np.isnan(means[1]) and np.isnan(means[2]) and means[3] == 9.0


def test_irregular_manual_measurements_give_slope_per_real_year() -> None:
    # Soundings at random days over 8 years; depth grows 0.5 m a year.
    days = np.sort(RNG.choice(8 * 365, size=40, replace=False))
    times = [datetime(2016, 1, 1) + timedelta(days=int(d)) for d in days]
    depth = [20 + 0.5 * d / 365.25 + RNG.normal(0, 0.05) for d in days]
    r = assess(times, depth, "depth")
    assert r.trend == "increasing" and r.test == "original"
    assert r.slope_per_year == pytest.approx(0.5, abs=0.05)


def test_logger_series_uses_the_seasonal_test() -> None:
    days = np.arange(6 * 365)
    times = [datetime(2018, 1, 1) + timedelta(days=int(d)) for d in days]
    level = 800 + 0.3 * days / 365.25 + 2 * np.sin(2 * np.pi * days / 365.25)
    r = assess(times, level, "level")
    assert r.test == "seasonal" and r.trend == "increasing"
    assert r.slope_per_year == pytest.approx(0.3, abs=0.03)
    assert r.status == "rising"


def test_not_enough_data() -> None:
    times = [datetime(2024, m, 1) for m in range(1, 12)]
    r = assess(times, list(range(11)), "depth")
    assert r.trend == NOT_ENOUGH_DATA and r.p is None and r.status == NOT_ENOUGH_DATA
    ok = assess([*times, datetime(2024, 12, 1)], list(range(12)), "depth")
    assert ok.trend == "increasing"
    assert assess([], [], "depth").trend == NOT_ENOUGH_DATA
    strict = assess(
        [*times, datetime(2024, 12, 1)], list(range(12)), "depth", StatusParams(min_months=13)
    )
    assert strict.trend == NOT_ENOUGH_DATA


def test_depth_falling_is_level_rising() -> None:
    x = 30 - 0.02 * np.arange(96) * 12 / 12 + RNG.normal(0, 0.02, 96)  # depth −0.24 m/a
    [depth] = assess_many(x[None, :], "depth")
    [level] = assess_many(x[None, :], "level")
    assert depth.trend == level.trend == "decreasing"
    assert depth.status == "rising" and level.status == "falling"


def test_same_month_change() -> None:
    x = np.concatenate([np.full(36, 10.0), np.full(12, 11.0)])[None, :]
    assert same_month_change(x, 3, 2)[0] == pytest.approx(1.0)
    assert np.isnan(same_month_change(x[:, :20], 3, 2)[0])


@pytest.mark.parametrize(
    ("trend", "slope", "change", "status"),
    [
        ("increasing", 0.3, 0.5, "rising"),
        ("increasing", 0.01, 0.5, "stabilised"),  # too slow
        ("increasing", 0.3, 0.05, "stabilised"),  # not higher than earlier years
        ("increasing", 0.3, -0.5, "stabilised"),
        ("no trend", 0.3, 0.5, "stabilised"),
        ("decreasing", -0.3, -0.5, "falling"),
        ("decreasing", -0.3, 0.0, "stabilised"),
        ("decreasing", -0.3, float("nan"), NOT_ENOUGH_DATA),
        (NOT_ENOUGH_DATA, 0.0, 0.0, NOT_ENOUGH_DATA),
    ],
)
def test_status_rule(trend: str, slope: float, change: float, status: str) -> None:
    assert recovery_status(trend, slope, change, StatusParams()) == status


def test_status_thresholds_are_parameters() -> None:
    assert recovery_status("increasing", 0.3, 0.5, StatusParams(min_change=1.0)) == "stabilised"
    assert recovery_status("increasing", 0.3, 0.5, StatusParams(min_slope=0.5)) == "stabilised"


def test_stopped_falling_then_recovering() -> None:
    # Depth fell (level down) for 6 years, then recovered for 4: the recent window decides.
    months = np.arange(120)
    depth = np.where(months < 72, 20 + 0.05 * months, 23.6 - 0.04 * (months - 72))
    [r] = assess_many(depth[None, :] + RNG.normal(0, 0.02, 120), "depth")
    assert r.window_trend == "decreasing" and r.status == "rising"
