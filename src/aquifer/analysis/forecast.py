"""Level forecasts for a monitoring well, with their skill measured on held-back data.

Pure functions over monthly means (no Django). Two models:

- ``harmonic``: the series alone — a straight line plus the annual cycle (two harmonics) fitted
  by least squares to the monthly means,
  :math:`h(t) = a + b t + \\sum_{k=1}^{K} [c_k \\cos(2\\pi k t/12) + s_k \\sin(2\\pi k t/12)]`,
  ``t`` in months, K = 2, or fewer when the data cover fewer calendar months
  (:func:`harmonics_for`). Its band is ±1.96 × the residual standard deviation.

Why not pastas: Aquifer stores no precipitation or evaporation series, so pastas (Collenteur et
al. 2019) could only model the series alone (a constant and a linear trend). On the held-back
year of real public series the harmonic model is more accurate than that pastas model and than
the naive baseline (``tests/analysis/test_real_data.py``); pastas' recharge models are the way
forward once meteorological series are stored.

Skill (:func:`evaluate`): the model is fitted to all but the last ``holdout`` months and its
prediction of those months compared with what was measured — RMSE, NSE (Nash–Sutcliffe,
:math:`1 - \\sum (o - p)^2 / \\sum (o - \\bar o)^2`) and EVP (explained variance,
:math:`100 \\cdot \\max(0, 1 - \\operatorname{var}(o - p)/\\operatorname{var}(o))`, pastas'
definition), beside the RMSE of the naive forecast "the same month last year" (``baseline``).
A forecast is given only when the series has at least ``min_months`` monthly means (default
36) and the held-back months at least ``min_holdout_points``; otherwise "not enough data".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = [
    "NOT_ENOUGH_DATA",
    "Fit",
    "Forecast",
    "evaluate",
    "forecast",
    "harmonic_fit",
    "harmonics_for",
    "metrics",
]

FloatArray = npt.NDArray[np.float64]
NOT_ENOUGH_DATA: Final = "not enough data"


@dataclass(frozen=True, slots=True)
class Fit:
    """A fitted model's prediction on a monthly grid (index 0 = the series' first month)."""

    method: str
    predict: FloatArray  # over the fitted months and the requested horizon
    sigma: float


@dataclass(frozen=True, slots=True)
class Forecast:
    """A forecast with its skill on held-back data (``None`` fields when not enough data)."""

    method: str
    enough_data: bool
    message: str = ""
    first_month: date | None = None
    months: list[date] = field(default_factory=list)  # forecast months
    values: list[float] = field(default_factory=list)
    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    fitted: list[float | None] = field(default_factory=list)  # over the observed months
    rmse: float | None = None
    nse: float | None = None
    evp: float | None = None
    baseline_rmse: float | None = None
    holdout_months: int = 0


def _month(first: date, k: int) -> date:
    m = first.year * 12 + first.month - 1 + k
    return date(m // 12, m % 12 + 1, 1)


def _design(t: FloatArray, harmonics: int) -> FloatArray:
    cols = [np.ones_like(t), t]
    for k in range(1, harmonics + 1):
        w = 2 * math.pi * k * t / 12
        cols += [np.cos(w), np.sin(w)]
    return np.column_stack(cols)


def harmonics_for(monthly: FloatArray, first_month: date, most: int = 2) -> int:
    """How many annual harmonics the data can carry: each needs two more distinct calendar
    months with data (three soundings a year, in April, August and December, carry one)."""
    y = np.asarray(monthly, dtype=np.float64)
    months = {(first_month.month - 1 + i) % 12 for i in np.flatnonzero(~np.isnan(y))}
    return max(0, min(most, (len(months) - 1) // 2))


def harmonic_fit(
    monthly: FloatArray, horizon: int, first_month: date, harmonics: int | None = None
) -> Fit:
    """Least-squares line plus annual harmonics on the months that have a mean.

    ``first_month`` sets the calendar phase so that January is the same season every year.
    ``harmonics`` defaults to :func:`harmonics_for` the data (at most two).
    """
    y = np.asarray(monthly, dtype=np.float64)
    if harmonics is None:
        harmonics = harmonics_for(y, first_month)
    n = y.size
    t = np.arange(n + horizon, dtype=np.float64) + (first_month.month - 1)
    x = _design(t, harmonics)
    ok = ~np.isnan(y)
    coef, *_ = np.linalg.lstsq(x[:n][ok], y[ok], rcond=None)
    pred = x @ coef
    resid = y[ok] - pred[:n][ok]
    dof = max(1, int(ok.sum()) - x.shape[1])
    sigma = float(math.sqrt(float(resid @ resid) / dof))
    return Fit("harmonic", np.asarray(pred), sigma)


def metrics(observed: FloatArray, predicted: FloatArray) -> tuple[float, float, float]:
    """RMSE, NSE and EVP (percent) over the pairs where both are finite."""
    o = np.asarray(observed, dtype=np.float64)
    p = np.asarray(predicted, dtype=np.float64)
    ok = np.isfinite(o) & np.isfinite(p)
    o, p = o[ok], p[ok]
    if o.size == 0:
        return math.nan, math.nan, math.nan
    err = o - p
    rmse = float(math.sqrt(float(np.mean(err**2))))
    var_o = float(np.var(o))
    ss = float(np.sum((o - o.mean()) ** 2))
    nse = 1 - float(np.sum(err**2)) / ss if ss > 0 else math.nan
    evp = 100 * max(0.0, 1 - float(np.var(err)) / var_o) if var_o > 0 else math.nan
    return rmse, nse, evp


def _baseline(monthly: FloatArray, start: int) -> FloatArray:
    """The same month one year earlier (NaN where missing), for months ``start``..end."""
    y = np.asarray(monthly, dtype=np.float64)
    out = np.full(y.size - start, np.nan)
    for i in range(start, y.size):
        if i - 12 >= 0:
            out[i - start] = y[i - 12]
    return out


def evaluate(
    monthly: FloatArray, first_month: date, holdout: int = 12, harmonics: int | None = None
) -> tuple[float, float, float, float]:
    """Skill of :func:`harmonic_fit` on the last ``holdout`` months: RMSE, NSE, EVP, and the
    RMSE of the same-month-last-year baseline on the same months."""
    y = np.asarray(monthly, dtype=np.float64)
    train = y[: y.size - holdout]
    fit = harmonic_fit(train, holdout, first_month, harmonics)
    test = y[y.size - holdout :]
    rmse, nse, evp = metrics(test, fit.predict[train.size :])
    base = _baseline(y, y.size - holdout)
    b_rmse, _, _ = metrics(test, base)
    return rmse, nse, evp, b_rmse


def forecast(
    monthly: FloatArray,
    first_month: date,
    horizon: int = 12,
    holdout: int = 12,
    min_months: int = 36,
    min_holdout_points: int = 6,
) -> Forecast:
    """Forecast ``horizon`` months past the series' last month with the harmonic model, and
    its skill on the last ``holdout`` months (fitted without them).

    "Not enough data" (no forecast) when fewer than ``min_months`` monthly means, or fewer
    than ``min_holdout_points`` of them in the held-back months.
    """
    y = np.asarray(monthly, dtype=np.float64)
    count = int((~np.isnan(y)).sum())
    tail = int((~np.isnan(y[max(0, y.size - holdout) :])).sum())
    if count < min_months or tail < min_holdout_points or y.size <= holdout:
        return Forecast("harmonic", False, NOT_ENOUGH_DATA, first_month)
    rmse, nse, evp, b_rmse = evaluate(y, first_month, holdout)
    fit = harmonic_fit(y, horizon, first_month)
    future = fit.predict[y.size :]
    band = 1.96 * fit.sigma
    return Forecast(
        "harmonic",
        True,
        "",
        first_month,
        [_month(first_month, y.size + k) for k in range(horizon)],
        [float(v) for v in future],
        [float(v - band) for v in future],
        [float(v + band) for v in future],
        [float(v) for v in fit.predict[: y.size]],
        _finite(rmse),
        _finite(nse),
        _finite(evp),
        _finite(b_rmse),
        holdout,
    )


def _finite(v: float) -> float | None:
    return float(v) if math.isfinite(v) else None
