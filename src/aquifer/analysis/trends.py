"""Groundwater level trends: Mann-Kendall, seasonal Mann-Kendall, Sen's slope, recovery status.

Pure functions over numpy arrays (no Django). The tests are vectorised over many series at
once (a 2-D array, one row per well) and give the same numbers as pymannkendall 1.4
(``original_test`` + ``sens_slope``, ``seasonal_test`` + ``seasonal_sens_slope``), which
``tests/analysis/test_trends.py`` checks to 1e-9.

- Mann-Kendall (Mann 1945; Kendall 1975; Gilbert 1987):
  :math:`S = \\sum_{i<j} \\operatorname{sgn}(x_j - x_i)`,
  :math:`\\operatorname{Var}(S) = [n(n-1)(2n+5) - \\sum_t t(t-1)(2t+5)]/18` over tie groups of
  size t, :math:`Z = (S - \\operatorname{sgn} S)/\\sqrt{\\operatorname{Var} S}`,
  :math:`p = 2(1 - \\Phi(|Z|))`, :math:`\\tau = S / (n(n-1)/2)`. Missing values are skipped.
- Seasonal Mann-Kendall (Hirsch & Slack 1984): S, Var(S) and the pair counts summed over the
  12 calendar months, each month a series of its own over the years.
- Sen's slope (Theil 1950; Sen 1968): the median of :math:`(x_j - x_i)/(j - i)` over all pairs
  (seasonal: over the pairs within each month, Hipel & McLeod 1994), in the series' own time
  steps; :func:`assess` reports it per year.

Data: irregular manual measurements and logger series alike are first reduced to **monthly
means on a calendar-month grid** (:func:`monthly_means`), months without data left empty
(NaN). Mann-Kendall skips the empty months; Sen's slope keeps their positions, so a slope is
per month of real time however unevenly the months were measured. A series with fewer than
``min_months`` monthly means is "not enough data"; the seasonal test is used when every calendar
month has at least ``seasonal_min_years`` monthly means.

Recovery status (止降返升), in water-level terms (a falling depth to water is a rising level):
see :func:`recovery_status` and ``docs/analysis.md``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from statistics import NormalDist
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

__all__ = [
    "NOT_ENOUGH_DATA",
    "MKResult",
    "StatusParams",
    "TrendAssessment",
    "assess",
    "assess_many",
    "mann_kendall",
    "mann_kendall_many",
    "monthly_means",
    "recovery_status",
    "same_month_change",
    "seasonal_mann_kendall",
    "seasonal_mann_kendall_many",
    "zone_status",
]

FloatArray = npt.NDArray[np.float64]
Trend = Literal["increasing", "decreasing", "no trend", "not enough data"]
Status = Literal["falling", "stabilised", "rising", "not enough data"]

#: The word for a series too short to test.
NOT_ENOUGH_DATA: Final = "not enough data"


@dataclass(frozen=True, slots=True)
class MKResult:
    """Arrays of Mann-Kendall results, one entry per series (pymannkendall's field names)."""

    trend: npt.NDArray[np.str_]
    h: npt.NDArray[np.bool_]
    p: FloatArray
    z: FloatArray
    tau: FloatArray
    s: FloatArray
    var_s: FloatArray
    slope: FloatArray
    intercept: FloatArray
    n: npt.NDArray[np.int64]


# --- The tests, vectorised over rows ---------------------------------------------------------


def _pairs(n: int) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    i, j = np.triu_indices(n, k=1)
    return i, j


def _tie_sum(x: FloatArray) -> FloatArray:
    """Per row, :math:`\\sum_t t(t-1)(2t+5)` over the groups of equal non-NaN values."""
    srt = np.sort(x, axis=1)  # NaN last; NaN != NaN so it never ties
    m, n = srt.shape
    if n == 0:
        return np.zeros(m)
    new_run = np.ones((m, n), dtype=bool)
    new_run[:, 1:] = srt[:, 1:] != srt[:, :-1]
    idx = np.broadcast_to(np.arange(n), (m, n))
    start = np.maximum.accumulate(np.where(new_run, idx, 0), axis=1)
    k = (idx - start).astype(np.float64)  # position within the run, 0-based
    # f(t) = t(t-1)(2t+5) telescopes: f(k+1) - f(k) = 6k^2 + 6k... summed over k < t.
    f_next = (k + 1) * k * (2 * k + 7)
    f_here = k * (k - 1) * (2 * k + 5)
    step = np.where(np.isnan(srt), 0.0, f_next - f_here)
    return np.asarray(step.sum(axis=1))


def _s_var_n(x: FloatArray, chunk: int) -> tuple[FloatArray, FloatArray, FloatArray]:
    m, n = x.shape
    i, j = _pairs(n)
    s = np.empty(m)
    for a in range(0, m, chunk):
        d = x[a : a + chunk, j] - x[a : a + chunk, i]
        s[a : a + chunk] = np.nansum(np.sign(d), axis=1)
    cnt = (~np.isnan(x)).sum(axis=1).astype(np.float64)
    var_s = (cnt * (cnt - 1) * (2 * cnt + 5) - _tie_sum(x)) / 18
    return s, var_s, cnt


def _sen(x: FloatArray, groups: int, chunk: int) -> FloatArray:
    """Median pairwise slope per row; ``groups`` > 1 pools the pairs of interleaved columns."""
    m, n = x.shape
    i, j = _pairs(n // groups)
    out = np.empty(m)
    for a in range(0, m, chunk):
        blk = x[a : a + chunk].reshape(-1, n // groups, groups)  # rows, years, seasons
        d = (blk[:, j, :] - blk[:, i, :]) / (j - i)[None, :, None]
        d = d.reshape(d.shape[0], -1)
        has_nan = np.isnan(d).any()
        out[a : a + chunk] = np.nanmedian(d, axis=1) if has_nan else np.median(d, axis=1)
    return out


def _finish(
    s: FloatArray,
    var_s: FloatArray,
    denom: FloatArray,
    slope: FloatArray,
    intercept: FloatArray,
    n: FloatArray,
    alpha: float,
) -> MKResult:
    with np.errstate(divide="ignore", invalid="ignore"):
        sd = np.sqrt(var_s)
        z = np.where(s > 0, (s - 1) / sd, np.where(s < 0, (s + 1) / sd, 0.0))
        tau = s / denom
    p = np.array([math.erfc(abs(v) / math.sqrt(2)) for v in z.tolist()])
    h = np.abs(z) > NormalDist().inv_cdf(1 - alpha / 2)
    trend = np.where(h & (z < 0), "decreasing", np.where(h & (z > 0), "increasing", "no trend"))
    return MKResult(trend, h, p, z, tau, s, var_s, slope, intercept, n.astype(np.int64))


def _intercept(x: FloatArray, slope: FloatArray, per: int) -> FloatArray:
    with np.errstate(all="ignore"):
        pos = np.where(np.isnan(x), np.nan, np.arange(x.shape[1], dtype=np.float64))
        if np.isnan(x).any():
            med_x = np.nanmedian(x, axis=1)
            med_pos = np.nanmedian(pos, axis=1)
        else:
            med_x, med_pos = np.median(x, axis=1), np.median(pos, axis=1)
    return np.asarray(med_x - med_pos / per * slope)


def mann_kendall_many(x: FloatArray, alpha: float = 0.05, chunk: int = 256) -> MKResult:
    """Mann-Kendall test and Sen's slope for every row of ``x`` (NaN = missing).

    Parameters
    ----------
    x : numpy.ndarray, shape (series, time)
        Equally spaced series; NaN marks a missing step.
    alpha : float
        Significance level of the two-sided test.
    chunk : int
        Rows per block (memory: ``chunk × n(n-1)/2`` doubles).

    Returns
    -------
    MKResult
        As pymannkendall's ``original_test`` (with ``sens_slope``): slope per time step.
    """
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    s, var_s, n = _s_var_n(x, chunk)
    slope = _sen(x, 1, chunk)
    return _finish(s, var_s, n * (n - 1) / 2, slope, _intercept(x, slope, 1), n, alpha)


def seasonal_mann_kendall_many(
    x: FloatArray, period: int = 12, alpha: float = 0.05, chunk: int = 256
) -> MKResult:
    """Seasonal Mann-Kendall (Hirsch & Slack 1984) and seasonal Sen's slope for every row.

    Row ``r`` is cut into consecutive cycles of ``period`` steps (padded with NaN at the end),
    step ``k`` of every cycle forming season ``k``; S, Var(S) and the pair counts are summed
    over the seasons, and the slope is the median of the within-season pairwise slopes, per
    cycle — as pymannkendall's ``seasonal_test`` and ``seasonal_sens_slope``.
    """
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    m, n = x.shape
    pad = (-n) % period
    xp = np.pad(x, ((0, 0), (0, pad)), constant_values=np.nan)
    years = xp.shape[1] // period
    # One row per (series, season): shape (m * period, years).
    seasons = xp.reshape(m, years, period).transpose(0, 2, 1).reshape(m * period, years)
    s, var_s, cnt = _s_var_n(seasons, max(1, chunk * period))
    s = s.reshape(m, period).sum(axis=1)
    var_s = var_s.reshape(m, period).sum(axis=1)
    denom = (cnt * (cnt - 1) / 2).reshape(m, period).sum(axis=1)
    slope = _sen(xp, period, chunk)
    n_all = (~np.isnan(x)).sum(axis=1).astype(np.float64)
    return _finish(s, var_s, denom, slope, _intercept(x, slope, period), n_all, alpha)


def mann_kendall(x: Sequence[float] | FloatArray, alpha: float = 0.05) -> MKResult:
    """:func:`mann_kendall_many` for one series (results are length-1 arrays)."""
    return mann_kendall_many(np.asarray(x, dtype=np.float64)[None, :], alpha)


def seasonal_mann_kendall(
    x: Sequence[float] | FloatArray, period: int = 12, alpha: float = 0.05
) -> MKResult:
    """:func:`seasonal_mann_kendall_many` for one series (results are length-1 arrays)."""
    return seasonal_mann_kendall_many(np.asarray(x, dtype=np.float64)[None, :], period, alpha)


# --- Monthly means ---------------------------------------------------------------------------


def monthly_means(
    times: Sequence[datetime], values: Sequence[float] | FloatArray
) -> tuple[datetime, FloatArray]:
    """Mean of the values in each calendar month, on a gap-free monthly grid.

    Parameters
    ----------
    times, values
        Observations in any order and spacing (manual soundings, logger readings); NaN values
        are ignored. Times are taken as local (China Standard Time) wall-clock times.

    Returns
    -------
    first_month : datetime
        The first day of the first month with data.
    means : numpy.ndarray
        One value per month from ``first_month`` to the last month with data; NaN for months
        without any observation.
    """
    if len(times) != len(values):
        raise ValueError("times and values differ in length")
    v = np.asarray(values, dtype=np.float64)
    idx = np.array([t.year * 12 + t.month - 1 for t in times], dtype=np.int64)
    ok = ~np.isnan(v)
    if not ok.any():
        return datetime(1970, 1, 1), np.empty(0)
    idx, v = idx[ok], v[ok]
    lo = int(idx.min())
    k = idx - lo
    size = int(k.max()) + 1
    total = np.bincount(k, weights=v, minlength=size)
    count = np.bincount(k, minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return datetime(lo // 12, lo % 12 + 1, 1), means


# --- Recovery status -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatusParams:
    """Parameters of the trend test and of the recovery-status rule (all design choices).

    Attributes
    ----------
    alpha : float
        Significance level of the Mann-Kendall tests.
    min_months : int
        Fewest monthly means for any test; fewer is "not enough data".
    seasonal_min_years : int
        The seasonal test is used when every calendar month has at least this many monthly
        means; otherwise the plain test on the monthly series.
    window_years : int
        The recent window the status is judged on (the last ``window_years`` × 12 months).
    min_slope : float
        m/a; a significant level trend slower than this counts as stabilised.
    min_change : float
        m; the same-month change (last 12 months against the same months of the earlier
        ``baseline_years`` years) must exceed this, in the trend's direction.
    baseline_years : int
        Earlier years compared with the last 12 months.
    min_change_months : int
        Fewest calendar months with both a recent and an earlier value for the change.
    """

    alpha: float = 0.05
    min_months: int = 12
    seasonal_min_years: int = 2
    window_years: int = 5
    min_slope: float = 0.05
    min_change: float = 0.10
    baseline_years: int = 3
    min_change_months: int = 2


def same_month_change(monthly: FloatArray, baseline_years: int, min_months: int) -> FloatArray:
    """Per row: mean over calendar months of (last 12 months − mean of the same month in the
    ``baseline_years`` years before), NaN where fewer than ``min_months`` months compare.

    ``monthly`` rows end at the same month (the grid's last month is "this month").
    """
    m, n = monthly.shape
    if n < 24:
        return np.full(m, np.nan)
    recent = monthly[:, n - 12 :]
    earlier = []
    for y in range(1, baseline_years + 1):
        a = n - 12 * (y + 1)
        if a < 0:
            break
        earlier.append(monthly[:, a : a + 12])
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices are expected
        base = np.nanmean(np.stack(earlier), axis=0)
        diff = recent - base
        ok = (~np.isnan(diff)).sum(axis=1)
        change = np.nanmean(diff, axis=1)
    return np.where(ok >= min_months, change, np.nan)


def recovery_status(
    level_trend: str, level_slope_per_year: float, level_change: float, params: StatusParams
) -> Status:
    """The recovery status (止降返升) of a well, in water-level terms.

    Rule (``docs/analysis.md``): over the recent window, with the level's Mann-Kendall trend,
    its Sen slope (m/a) and the same-month change (m, positive = level higher than in earlier
    years):

    - **rising** (回升): trend "increasing", slope ≥ ``min_slope`` and change ≥ ``min_change``;
    - **falling** (下降): trend "decreasing", slope ≤ −``min_slope`` and change ≤ −``min_change``;
    - **stabilised** (止降/稳定): anything else;
    - "not enough data" when the trend or the change could not be computed.

    A depth to water is turned into a level first: the level's trend is the opposite of the
    depth's, its slope and change the negatives.
    """
    if level_trend == NOT_ENOUGH_DATA or not math.isfinite(level_change):
        return "not enough data"
    if (
        level_trend == "increasing"
        and level_slope_per_year >= params.min_slope
        and level_change >= params.min_change
    ):
        return "rising"
    if (
        level_trend == "decreasing"
        and level_slope_per_year <= -params.min_slope
        and level_change <= -params.min_change
    ):
        return "falling"
    return "stabilised"


@dataclass(frozen=True, slots=True)
class TrendAssessment:
    """A well's trend over its whole monthly series and its recovery status.

    ``trend``, ``p``, ``tau``, ``z`` and ``slope_per_year`` are of the values as given (depth
    or level); ``status`` is in level terms.
    """

    trend: Trend
    test: Literal["seasonal", "original", "none"]
    p: float | None
    tau: float | None
    z: float | None
    slope_per_year: float | None
    months: int
    status: Status
    window_trend: Trend
    window_slope_per_year: float | None
    same_month_change: float | None

    def to_dict(self) -> dict[str, object]:
        return {
            "trend": self.trend,
            "p": self.p,
            "tau": self.tau,
            "z": self.z,
            "slope_per_year": self.slope_per_year,
            "status": self.status,
            "test": self.test,
            "months": self.months,
            "window_trend": self.window_trend,
            "window_slope_per_year": self.window_slope_per_year,
            "same_month_change": self.same_month_change,
        }


def _tests(
    monthly: FloatArray, params: StatusParams
) -> tuple[npt.NDArray[np.str_], FloatArray, FloatArray, FloatArray, FloatArray, list[str]]:
    """Trend, p, tau, z, slope per year and test name per row (seasonal where allowed)."""
    m, n = monthly.shape
    count = (~np.isnan(monthly)).sum(axis=1)
    pad = (-n) % 12
    per_month = (
        (~np.isnan(np.pad(monthly, ((0, 0), (0, pad)), constant_values=np.nan)))
        .reshape(m, -1, 12)
        .sum(axis=1)
    )
    seasonal = (per_month.min(axis=1) >= params.seasonal_min_years) & (count >= params.min_months)
    enough = count >= params.min_months
    trend = np.full(m, NOT_ENOUGH_DATA, dtype=object)
    p, tau, z, slope = (np.full(m, np.nan) for _ in range(4))
    test = ["none"] * m
    plain = enough & ~seasonal
    for mask, name in ((seasonal, "seasonal"), (plain, "original")):
        if not mask.any():
            continue
        if name == "seasonal":
            r = seasonal_mann_kendall_many(monthly[mask], 12, params.alpha)
            per_year = r.slope  # per cycle = per year
        else:
            r = mann_kendall_many(monthly[mask], params.alpha)
            per_year = r.slope * 12  # per month → per year
        trend[mask], p[mask], tau[mask], z[mask], slope[mask] = r.trend, r.p, r.tau, r.z, per_year
        for i in np.flatnonzero(mask):
            test[i] = name
    return trend.astype(str), p, tau, z, slope, test


def assess_many(
    monthly: FloatArray,
    value_is: Literal["depth", "level"] = "depth",
    params: StatusParams | None = None,
) -> list[TrendAssessment]:
    """Trend and recovery status for many wells whose monthly means end in the same month.

    Parameters
    ----------
    monthly : numpy.ndarray, shape (wells, months)
        Monthly means (:func:`monthly_means`), NaN where a month has no data, all rows on the
        same calendar grid.
    value_is : {"depth", "level"}
        Depth to water (埋深, m below ground, larger = deeper) or water level (水位, m above a
        datum). The status is about the level: a decreasing depth is a rising level.
    params : StatusParams, optional
    """
    params = params or StatusParams()
    x = np.atleast_2d(np.asarray(monthly, dtype=np.float64))
    trend, p, tau, z, slope, test = _tests(x, params)
    window = x[:, max(0, x.shape[1] - 12 * params.window_years) :]
    w_trend, _, _, _, w_slope, _ = _tests(window, params)
    change = same_month_change(x, params.baseline_years, params.min_change_months)
    sign = -1.0 if value_is == "depth" else 1.0
    flip = {"increasing": "decreasing", "decreasing": "increasing"}
    out = []
    for i in range(x.shape[0]):
        lt = str(w_trend[i])
        level_trend = flip.get(lt, lt) if value_is == "depth" else lt
        status = recovery_status(
            level_trend, sign * float(w_slope[i]), sign * float(change[i]), params
        )
        out.append(
            TrendAssessment(
                trend=str(trend[i]),  # type: ignore[arg-type]
                test=test[i],  # type: ignore[arg-type]
                p=_num(p[i]),
                tau=_num(tau[i]),
                z=_num(z[i]),
                slope_per_year=_num(slope[i]),
                months=int((~np.isnan(x[i])).sum()),
                status=status,
                window_trend=lt,  # type: ignore[arg-type]
                window_slope_per_year=_num(w_slope[i]),
                same_month_change=_num(change[i]),
            )
        )
    return out


def _num(v: float) -> float | None:
    return None if not math.isfinite(v) else float(v)


def assess(
    times: Sequence[datetime],
    values: Sequence[float] | FloatArray,
    value_is: Literal["depth", "level"] = "depth",
    params: StatusParams | None = None,
) -> TrendAssessment:
    """Trend and recovery status of one well from raw observations (any spacing).

    The observations are reduced to monthly means (:func:`monthly_means`) and passed to
    :func:`assess_many`.
    """
    _, means = monthly_means(times, values)
    return assess_many(means[None, :] if means.size else np.empty((1, 0)), value_is, params)[0]


# --- Zone status -------------------------------------------------------------------------------


def zone_status(statuses: Sequence[str], min_wells: int = 1) -> Status:
    """A zone's recovery status from its monitoring wells' statuses (docs/analysis.md).

    Only wells with a status of their own count ("not enough data" is left out). With fewer
    than ``min_wells`` such wells the zone has "not enough data"; otherwise it is **falling**
    when more than half of them are falling, **rising** when more than half are rising, and
    **stabilised** otherwise (a split zone is not called rising or falling).

    >>> zone_status(["rising", "rising", "falling"])
    'rising'
    >>> zone_status(["rising", "falling"])
    'stabilised'
    >>> zone_status(["not enough data"])
    'not enough data'
    """
    assessed = [s for s in statuses if s != NOT_ENOUGH_DATA]
    if len(assessed) < max(1, min_wells):
        return "not enough data"
    half = len(assessed) / 2
    if sum(s == "falling" for s in assessed) > half:
        return "falling"
    if sum(s == "rising" for s in assessed) > half:
        return "rising"
    return "stabilised"
