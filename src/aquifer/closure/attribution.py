"""How much of a well's level change comes from less pumping, and how much from the weather.

Pure (pandas and pastas, no Django). The provinces compare levels "under the same
precipitation, before and after treatment"; this does it per monitoring well with a pastas
transfer-function model: the head is explained by a recharge stress (precipitation and
evaporation, pastas' ``RechargeModel`` with the linear recharge) and a pumping stress (the
summed withdrawals of the wells within a radius, ``StressModel`` with a Hantush response,
``up=False``), plus a constant. The change of the head between a period before the
programme (the baseline year) and the last twelve months is then split into the change of
each stress's contribution; what the model does not explain is the residual.

Too short: with fewer than :data:`MIN_OBSERVATIONS` head observations, less than
:data:`MIN_YEARS` years of head, no head in the baseline or the last period, or weather that
does not cover the head period plus a year of warm-up, :func:`attribute` says so
(``enough_data`` False and the reason) instead of guessing.
"""

from __future__ import annotations

import datetime as dt
import logging
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "MIN_OBSERVATIONS",
    "MIN_YEARS",
    "Attribution",
    "attribute",
]

#: The least head data a model is fitted on (a setting would be overkill: the model needs
#: several seasons to tell the weather from pumping).
MIN_OBSERVATIONS = 24
MIN_YEARS = 3.0
WARMUP_DAYS = 365
FIT_YEARS = 8
#: The model's time step: weekly (a daily step costs ~5× the time for the same split).
FREQ = "7D"

_pastas: Any = None


def _ps() -> Any:
    global _pastas
    if _pastas is None:
        import pastas

        pastas.set_log_level("ERROR")
        logging.getLogger("pastas").setLevel(logging.ERROR)
        _pastas = pastas
    return _pastas


@dataclass
class Attribution:
    """The answer for one well. Changes are in metres of head (positive = higher)."""

    enough_data: bool
    message: str = ""  # why not enough data (a code: too_few_observations, …)
    observed_change_m: float | None = None
    weather_change_m: float | None = None
    pumping_change_m: float | None = None
    residual_m: float | None = None
    evp: float | None = None  # explained variance, percent
    rsq: float | None = None
    rmse_m: float | None = None
    n_observations: int = 0
    has_pumping: bool = False
    baseline: tuple[str, str] | None = None
    recent: tuple[str, str] | None = None
    # For the chart: dates (ISO), observed head, simulated head, contributions.
    chart: dict[str, list[Any]] = field(default_factory=dict)


def _too_short(code: str, n: int = 0) -> Attribution:
    return Attribution(False, code, n_observations=n)


def _daily(s: pd.Series) -> pd.Series:
    s = s.dropna().astype(float)
    s.index = pd.DatetimeIndex(s.index).normalize()
    return s.groupby(level=0).mean().asfreq("D")


def attribute(
    head: pd.Series,
    precipitation_mm: pd.Series,
    evaporation_mm: pd.Series,
    pumping_m3_per_day: pd.Series | None,
    *,
    programme_start: dt.date,
    until: dt.date | None = None,
) -> Attribution:
    """Fit the model and split the head change from the year before ``programme_start`` to
    the last twelve months before ``until`` (default: the last head observation).

    ``head``: observed head (m, higher = more water; pass −depth for depth to water).
    ``precipitation_mm``, ``evaporation_mm``: daily series (mm/day). ``pumping_m3_per_day``:
    the summed withdrawal of the wells nearby as a daily rate (None or all zero: no pumping
    stress, said in ``has_pumping``).
    """
    h = head.dropna().astype(float)
    h.index = pd.DatetimeIndex(h.index)
    h = h.sort_index()
    h = h[~h.index.duplicated()]
    # The fit looks back at most FIT_YEARS before the programme (bounded cost per well).
    h = h[h.index >= pd.Timestamp(programme_start) - pd.Timedelta(days=int(365.25 * FIT_YEARS))]
    if until is not None:
        h = h[h.index <= pd.Timestamp(until) + pd.Timedelta(days=1)]
    n = int(h.size)
    if n < MIN_OBSERVATIONS:
        return _too_short("too_few_observations", n)
    span_years = (h.index[-1] - h.index[0]).days / 365.25
    if span_years < MIN_YEARS:
        return _too_short("too_short_period", n)
    start = pd.Timestamp(programme_start)
    base_from, base_to = start - pd.Timedelta(days=365), start
    end = h.index[-1]
    recent_from = end - pd.Timedelta(days=365)
    if recent_from <= start:
        return _too_short("no_period_after_programme", n)
    if h[(h.index >= base_from) & (h.index < base_to)].size == 0:
        return _too_short("no_baseline_observations", n)
    prec = _daily(precipitation_mm) / 1000.0  # m/day, as pastas' examples
    evap = _daily(evaporation_mm) / 1000.0
    need_from = h.index[0] - pd.Timedelta(days=WARMUP_DAYS)
    for s in (prec, evap):
        if s.empty or s.index[0] > need_from or s.index[-1] < end.normalize():
            return _too_short("weather_does_not_cover", n)
    prec = prec.fillna(0.0)
    evap = evap.interpolate(limit_direction="both")
    ps = _ps()
    ml = ps.Model(h, name="head", freq=FREQ)
    ps.RechargeModel(
        ml, prec, evap, rfunc=ps.Exponential(), recharge=ps.rch.Linear(), name="weather"
    )
    has_pumping = pumping_m3_per_day is not None and float(pumping_m3_per_day.abs().sum()) > 0
    if has_pumping:
        assert pumping_m3_per_day is not None
        q = _daily(pumping_m3_per_day).ffill().fillna(0.0)
        if q.index[0] > need_from:
            # Before the first metered month nobody knows: hold the first rate.
            pad = pd.date_range(need_from.normalize(), q.index[0] - pd.Timedelta(days=1), freq="D")
            q = pd.concat([pd.Series(float(q.iloc[0]), index=pad), q])
        if q.index[-1] < end.normalize():
            pad = pd.date_range(q.index[-1] + pd.Timedelta(days=1), end.normalize(), freq="D")
            q = pd.concat([q, pd.Series(float(q.iloc[-1]), index=pad)])
        ps.StressModel(ml, q, rfunc=ps.Hantush(), name="pumping", up=False, settings="well")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # Tolerances 1e-4 (scipy's default 1e-8): the split moves by under a millimetre on the
        # pastas example data, the fit takes ~20 % less time.
        ml.solve(report=False, ftol=1e-4, xtol=1e-4)
    sim = ml.simulate()
    weather = ml.get_contribution("weather")
    pumping = ml.get_contribution("pumping") if has_pumping else None

    def mean(s: pd.Series, a: pd.Timestamp, b: pd.Timestamp) -> float:
        part = s[(s.index >= a) & (s.index < b)]
        return float(part.mean()) if part.size else float("nan")

    obs = mean(h, recent_from, end + pd.Timedelta(days=1)) - mean(h, base_from, base_to)
    dw = mean(weather, recent_from, end + pd.Timedelta(days=1)) - mean(weather, base_from, base_to)
    dp = 0.0
    if pumping is not None:
        dp = mean(pumping, recent_from, end + pd.Timedelta(days=1)) - mean(
            pumping, base_from, base_to
        )
    stats = ml.stats
    weekly = sim
    obs_weekly = h.reindex(weekly.index, method="nearest", tolerance=pd.Timedelta(days=3))
    chart = {
        "dates": [d.date().isoformat() for d in weekly.index],
        "observed": [None if not np.isfinite(v) else round(float(v), 3) for v in obs_weekly],
        "simulated": [round(float(v), 3) for v in weekly],
        "weather": [round(float(v), 3) for v in weather.reindex(weekly.index)],
        "pumping": (
            [round(float(v), 3) for v in pumping.reindex(weekly.index)]
            if pumping is not None
            else []
        ),
    }
    return Attribution(
        True,
        observed_change_m=round(obs, 3),
        weather_change_m=round(dw, 3),
        pumping_change_m=round(dp, 3) if has_pumping else None,
        residual_m=round(obs - dw - dp, 3),
        evp=round(float(stats.evp()), 1),
        rsq=round(float(stats.rsq()), 3),
        rmse_m=round(float(stats.rmse()), 3),
        n_observations=n,
        has_pumping=has_pumping,
        baseline=(base_from.date().isoformat(), base_to.date().isoformat()),
        recent=(recent_from.date().isoformat(), end.date().isoformat()),
        chart=chart,
    )
