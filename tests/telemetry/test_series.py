"""LTTB and the point reduction (pure), and the element vocabulary."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aquifer.telemetry import series as series_module
from aquifer.telemetry.elements import ELEMENTS, element
from aquifer.telemetry.series import lttb, lttb_starts, reduce_points


def reference_lttb(x: list[float], y: list[float], n_out: int) -> list[int]:
    """The textbook algorithm (Steinarsson 2013, his reference code), one point at a time.

    Bucket bounds are ``floor(i * every) + 1`` computed exactly in integers (the reference
    code's floating-point ``every`` can be off by one ulp at a boundary).
    """
    n = len(x)
    if n <= n_out:
        return list(range(n))

    def bound(i: int) -> int:  # floor(i * every) + 1, every = (n - 2) / (n_out - 2)
        return min((i * (n - 2)) // (n_out - 2) + 1, n)

    out, a = [0], 0
    for i in range(n_out - 2):
        avg_start, avg_end = bound(i + 1), bound(i + 2)
        cx = sum(x[avg_start:avg_end]) / (avg_end - avg_start)
        cy = sum(y[avg_start:avg_end]) / (avg_end - avg_start)
        best, best_area = -1, -1.0
        for j in range(bound(i), bound(i + 1)):
            area = abs((x[a] - cx) * (y[j] - y[a]) - (x[a] - x[j]) * (cy - y[a]))
            if area > best_area:
                best, best_area = j, area
        out.append(best)
        a = best
    out.append(n - 1)
    return out


series_strategy = st.integers(3, 400).flatmap(
    lambda n: st.tuples(
        st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=n, max_size=n),
        st.integers(3, n + 5),
        st.lists(st.floats(0.001, 100), min_size=n, max_size=n),
    )
)


# Integer-valued floats: sums are exact, so bucket means cannot differ by summation order
# (numpy sums pairwise) and ties between equal triangles are frequent.
integer_series = st.integers(3, 400).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(-1000, 1000).map(float), min_size=n, max_size=n),
        st.integers(3, n + 5),
        st.lists(st.integers(1, 100).map(float), min_size=n, max_size=n),
    )
)


@settings(max_examples=300, deadline=None)
@given(integer_series)
@pytest.mark.slow
def test_lttb_equals_the_reference_algorithm(case: tuple[list[float], int, list[float]]) -> None:
    y, n_out, gaps = case
    x = np.cumsum(gaps).tolist()  # increasing, irregular times
    expected = reference_lttb(x, y, n_out)
    assert lttb(x, y, n_out).tolist() == expected


@settings(max_examples=100, deadline=None)
@given(series_strategy)
def test_both_vectorised_paths_agree(case: tuple[list[float], int, list[float]]) -> None:
    y, n_out, gaps = case
    x = np.cumsum(gaps)
    table = lttb(x, y, n_out)
    old = series_module._TABLE_LIMIT
    series_module._TABLE_LIMIT = -1  # force the per-bucket loop
    try:
        loop = lttb(x, y, n_out)
    finally:
        series_module._TABLE_LIMIT = old
    assert table.tolist() == loop.tolist()


def test_lttb_keeps_first_last_and_the_extremes_of_spikes() -> None:
    rng = np.random.default_rng(7)
    x = np.arange(10_000, dtype=float)
    y = np.sin(x / 500) + rng.normal(0, 0.01, len(x))
    y[3217] = 25.0  # a spike
    y[7001] = -30.0  # a dip
    for n_out in (50, 200, 1000):
        idx = lttb(x, y, n_out)
        assert len(idx) == n_out
        assert idx[0] == 0 and idx[-1] == len(x) - 1
        assert np.all(np.diff(idx) > 0)
        assert 3217 in idx and 7001 in idx


def test_lttb_short_series_and_bad_arguments() -> None:
    assert lttb([1, 2, 3], [1, 2, 3], 5).tolist() == [0, 1, 2]
    assert lttb([1, 2, 3], [1, 2, 3], 3).tolist() == [0, 1, 2]
    assert lttb([1, 2, 3, 4], [1, 9, 2, 3], 2).tolist() == [0, 3]
    assert lttb([], [], 10).tolist() == []
    with pytest.raises(ValueError, match="length"):
        lttb([1, 2], [1], 10)
    with pytest.raises(ValueError, match="at least 2"):
        lttb([1, 2, 3], [1, 2, 3], 1)


def test_lttb_a_straight_line_keeps_its_ends() -> None:
    x = np.arange(100.0)
    idx = lttb(x, 2 * x + 1, 10)
    assert idx[0] == 0 and idx[-1] == 99 and len(idx) == 10


def test_buckets_cover_every_point_once() -> None:
    for n_in, n_out in ((10, 3), (1000, 7), (3653, 1000), (1001, 1000)):
        starts = lttb_starts(n_in, n_out)
        sizes = np.diff(np.append(starts, n_in))
        assert starts[0] == 0 and starts[-1] == n_in - 1 and len(starts) == n_out
        assert sizes.min() >= 1 and sizes.sum() == n_in


def test_reduce_points_keeps_the_envelope() -> None:
    rng = np.random.default_rng(1)
    n = 5000
    t = np.arange(n, dtype=np.int64) * 900_000_000  # 15 minutes in µs
    v = rng.normal(10, 1, n)
    lo, hi = v - rng.uniform(0, 1, n), v + rng.uniform(0, 1, n)
    hi[1234] = 99.0  # a spike inside a rollup bucket whose mean is unremarkable
    lo[4321] = -99.0
    rt, rv, rlo, rhi = reduce_points(t, v, lo, hi, 100)
    assert len(rt) == len(rv) == len(rlo) == len(rhi) == 100
    assert rt[0] == t[0] and rt[-1] == t[-1]
    assert rhi.max() == 99.0 and rlo.min() == -99.0
    assert np.all(rlo <= rv) and np.all(rv <= rhi)
    # Short series pass through unchanged.
    same = reduce_points(t[:10], v[:10], lo[:10], hi[:10], 100)
    assert np.array_equal(same[1], v[:10])


def test_lttb_is_fast_enough_for_a_chart() -> None:
    import time

    x = np.arange(350_400, dtype=float)
    y = np.sin(x / 1000)
    t0 = time.perf_counter()
    assert len(lttb(x, y, 1000)) == 1000
    assert len(lttb(x[:3653], y[:3653], 1000)) == 1000
    assert time.perf_counter() - t0 < 1.0


# --- Elements ---------------------------------------------------------------------------------


def test_the_element_vocabulary() -> None:
    expected_units = {
        "depth_to_water": "m",
        "water_level": "m",
        "water_temperature": "°C",
        "flow_rate": "m³/h",
        "cumulative_volume": "m³",
        "battery_voltage": "V",
        "ph": "",
        "conductivity": "µS/cm",
        "turbidity": "NTU",
        "dissolved_oxygen": "mg/L",
    }
    for key, unit in expected_units.items():
        assert ELEMENTS[key].unit == unit
        assert ELEMENTS[key].key == key
    assert ELEMENTS["depth_to_water"].name_zh == "地下水埋深"
    assert ELEMENTS["flow_rate"].name_zh == "瞬时流量"
    assert ELEMENTS["cumulative_volume"].cumulative
    assert not ELEMENTS["flow_rate"].cumulative
    for e in ELEMENTS.values():
        lo, hi = e.plausible
        assert lo < hi and e.name_zh and e.name_en
    assert ELEMENTS["ph"].in_range(7.0) and not ELEMENTS["ph"].in_range(14.5)
    with pytest.raises(KeyError, match="unknown element 'depth'"):
        element("depth")
