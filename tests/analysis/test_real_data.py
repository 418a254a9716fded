"""Correctness on real public groundwater series (tests/analysis/data/README.md).

- Our trend tests agree with pymannkendall 1.4 on the monthly means of real, irregular manual
  observations (plain and seasonal tests, Sen's slopes).
- The job, fed the same observations as manual soundings through the database, stores the same
  numbers.
- The forecast's series-alone model beats pastas' series-alone model (constant + linear trend)
  and the naive "same month last year" on the held-back last 12 months.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pymannkendall as mk
import pytest

from aquifer.analysis import forecast as fc
from aquifer.analysis import trends

DATA = Path(__file__).parent / "data"


def load(name: str) -> pd.Series:
    df = pd.read_csv(DATA / name, parse_dates=[0])
    df.columns = ["date", "head"]
    return df.set_index("date")["head"].astype(float)


SERIES = {
    "B32C0639001.csv": "no trend",
    "notebook9_head_1960_1976.csv": "decreasing",
}


def _monthly(s: pd.Series) -> tuple[dt.datetime, np.ndarray]:
    return trends.monthly_means(list(s.index.to_pydatetime()), s.to_numpy())


@pytest.mark.parametrize("name", SERIES)
def test_monthly_means_match_pandas(name: str) -> None:
    s = load(name)
    first, m = _monthly(s)
    ref = s.resample("MS").mean()
    assert first == ref.index[0].to_pydatetime()
    np.testing.assert_allclose(m, ref.to_numpy(), rtol=0, atol=1e-12, equal_nan=True)


def _close(a: float, b: float) -> None:
    assert a == pytest.approx(b, abs=1e-9)


@pytest.mark.parametrize("name", SERIES)
def test_agrees_with_pymannkendall(name: str) -> None:
    _, m = _monthly(load(name))
    ours = trends.mann_kendall(m)
    ref = mk.original_test(m)
    sen = mk.sens_slope(m)
    assert ours.trend[0] == ref.trend == SERIES[name]
    for a, b in ((ours.z[0], ref.z), (ours.tau[0], ref.Tau), (ours.s[0], ref.s),
                 (ours.var_s[0], ref.var_s), (ours.slope[0], sen.slope),
                 (ours.intercept[0], sen.intercept)):  # fmt: skip
        _close(float(a), float(b))
    assert ours.p[0] == pytest.approx(ref.p, abs=1e-9)
    sea = trends.seasonal_mann_kendall(m)
    sref = mk.seasonal_test(m, period=12)
    assert sea.trend[0] == sref.trend
    for a, b in ((sea.z[0], sref.z), (sea.tau[0], sref.Tau), (sea.s[0], sref.s),
                 (sea.var_s[0], sref.var_s), (sea.slope[0], sref.slope),
                 (sea.intercept[0], sref.intercept)):  # fmt: skip
        _close(float(a), float(b))


@pytest.mark.parametrize("name", SERIES)
def test_assess_on_real_series(name: str) -> None:
    s = load(name)
    a = trends.assess(list(s.index.to_pydatetime()), s.to_numpy(), "level")
    assert a.trend == SERIES[name] and a.test == "seasonal"
    _, m = _monthly(s)
    assert a.slope_per_year == pytest.approx(mk.seasonal_sens_slope(m, period=12).slope, abs=1e-9)
    assert a.status in ("falling", "stabilised", "rising")


def test_job_stores_pymannkendall_numbers(world: Any) -> None:
    """The real series as manual soundings of a monitoring well, through compute_trends."""
    from aquifer.analysis import levels
    from aquifer.analysis.models import LevelMeasurement, WellTrend

    s = load("notebook9_head_1960_1976.csv")
    tz = dt.timezone(dt.timedelta(hours=8))
    LevelMeasurement.objects.bulk_create(
        LevelMeasurement(
            monitoring_well=world.monitoring_a,
            element="water_level",
            measured_at=t.to_pydatetime().replace(tzinfo=tz),
            value=float(v),
        )
        for t, v in s.items()
    )
    on = dt.date(1976, 12, 31)
    levels.compute_trends(on)
    stored = WellTrend.objects.get(monitoring_well=world.monitoring_a, computed_on=on)
    _, m = _monthly(s)
    ref = mk.seasonal_test(m, period=12)
    assert stored.element == "water_level" and stored.sources == "manual"
    assert stored.trend == ref.trend == "decreasing"
    assert stored.z == pytest.approx(ref.z, abs=1e-9)
    assert stored.slope_per_year == pytest.approx(ref.slope, abs=1e-9)
    # A level: the level slope is the slope itself (no sign flip).
    assert stored.level_slope_per_year == pytest.approx(stored.window_slope_per_year)


def _import_pastas() -> Any:
    """pastas (a test dependency only: the ``test`` extra), its INFO lines turned down."""
    import pastas

    pastas.set_log_level("ERROR")
    logging.getLogger("pastas").setLevel(logging.ERROR)
    return pastas


def _pastas_series_alone(train: pd.Series, test_months: pd.DatetimeIndex) -> np.ndarray:
    """pastas 2.0 on the series alone: constant + linear trend, monthly means of its simulation."""
    ps = _import_pastas()
    ml = ps.Model(train.dropna(), name="series-alone")
    trend = ps.LinearTrend(
        tstart=str(train.index[0].date()), tend=str(train.index[-1].date()), name="trend"
    )
    ml.add_stressmodel(trend)
    ml.solve(report=False)
    end = test_months[-1] + pd.offsets.MonthEnd(1)
    sim = ml.simulate(tmin=test_months[0], tmax=end)
    return sim.resample("MS").mean().reindex(test_months).to_numpy()


@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.parametrize("name", SERIES)
def test_forecast_at_least_as_good_as_pastas_series_alone(name: str) -> None:
    s = load(name)
    first, m = _monthly(s)
    holdout = 12
    rmse, _nse, _evp, baseline = fc.evaluate(m, first.date(), holdout)
    months = pd.date_range(first, periods=m.size, freq="MS")
    cut = months[m.size - holdout]
    p = _pastas_series_alone(s[s.index < cut], months[m.size - holdout :])
    p_rmse, _p_nse, _ = fc.metrics(m[m.size - holdout :], p)
    assert math.isfinite(rmse) and math.isfinite(p_rmse)
    assert rmse <= p_rmse
    assert rmse <= baseline * 1.05  # no worse than "same month last year" (5 % slack)


def test_forecast_not_enough_data() -> None:
    s = load("B32C0639001.csv")
    first, m = _monthly(s)
    short = m[:30]
    f = fc.forecast(short, first.date())
    assert not f.enough_data and f.message == fc.NOT_ENOUGH_DATA and f.values == []
    f = fc.forecast(m, first.date())
    assert f.enough_data and len(f.values) == 12 and f.rmse is not None
    assert all(lo <= v <= hi for lo, v, hi in zip(f.lower, f.values, f.upper, strict=True))
