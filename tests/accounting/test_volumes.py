"""The pure volume core: conservation, additivity, breaks, rollover, backwards readings, gaps."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aquifer.accounting.volumes import (
    Config,
    MeterBreak,
    VolumeFlag,
    segments,
    unmetered,
    volumes,
)

H = 3600.0
DAY = 86400.0

increments = st.lists(st.tuples(st.floats(60, 3 * H), st.floats(0, 50)), min_size=1, max_size=60)


def build(
    incs: list[tuple[float, float]], t0: float = 0.0, v0: float = 100.0
) -> list[tuple[float, float]]:
    pts = [(t0, v0)]
    for dt, dv in incs:
        t, v = pts[-1]
        pts.append((t + dt, v + dv))
    return pts


@given(increments, st.lists(st.floats(0.01, 0.99), max_size=8))
def test_conservation_and_additivity(incs: list[tuple[float, float]], cuts: list[float]) -> None:
    pts = build(incs)
    t_end = pts[-1][0]
    coarse = volumes(pts, [0.0, t_end + 1])
    assert coarse[0].total == pytest.approx(pts[-1][1] - pts[0][1], abs=1e-6)
    inner = sorted({c * t_end for c in cuts})
    fine = volumes(pts, [0.0, *inner, t_end + 1])
    assert sum(p.total for p in fine) == pytest.approx(coarse[0].total, abs=1e-6)
    assert all(p.metered >= 0 and p.estimated >= 0 for p in fine)


@given(increments, st.integers(1, 50), st.floats(1, 90))
def test_a_backwards_glitch_counts_nothing(
    incs: list[tuple[float, float]], at: int, drop: float
) -> None:
    pts = build(incs)
    i = at % len(pts)
    t, v = pts[i]
    glitched = [*pts[: i + 1], (t + 1.0, v - drop), *[(tt + 2.0, vv) for tt, vv in pts[i + 1 :]]]
    # the glitch shifts later readings by 2 s only; compare totals
    base = volumes(pts, [0.0, pts[-1][0] + 10])[0].total
    got = volumes(glitched, [0.0, glitched[-1][0] + 10], config=Config(backwards_confirm=2))[0]
    assert got.total == pytest.approx(base, abs=1e-6)
    assert got.flags & VolumeFlag.BACKWARDS


@given(increments, increments, st.floats(0, 1e6), st.floats(0, 1e6))
def test_replacement(
    old: list[tuple[float, float]], new: list[tuple[float, float]], v_old: float, v_new: float
) -> None:
    a = build(old, 0.0, v_old)
    t_change = a[-1][0] + 60
    b = build(new, t_change + 60, v_new)
    brk = MeterBreak(t_change, a[-1][1], v_new)
    got = volumes(a + b, [0.0, b[-1][0] + 1], breaks=[brk])[0]
    expected = (a[-1][1] - a[0][1]) + (b[-1][1] - b[0][1])
    assert got.total == pytest.approx(expected, rel=1e-9, abs=1e-6)
    assert got.flags & VolumeFlag.REPLACEMENT


def test_a_replacement_day_without_readings_in_between() -> None:
    # old final 5,000 at 10:00, new initial 0; readings 4,990 at 09:00 and 7 at 11:00
    brk = MeterBreak(10 * H, 5000.0, 0.0)
    got = volumes([(9 * H, 4990.0), (11 * H, 7.0)], [0.0, DAY], breaks=[brk])[0]
    assert got.total == pytest.approx(17.0)


def test_rollover() -> None:
    cfg = Config(rollover=100_000.0)
    pts = [(0.0, 99_990.0), (H, 99_998.0), (2 * H, 5.0), (3 * H, 12.0)]
    got = volumes(pts, [0.0, DAY], config=cfg)[0]
    assert got.total == pytest.approx(22.0)
    assert got.flags & VolumeFlag.ROLLOVER
    # without a known capacity the drop is a backwards reading, then an unregistered reset
    got = volumes([*pts, (4 * H, 20.0)], [0.0, DAY], config=Config(backwards_confirm=3))[0]
    assert got.flags & VolumeFlag.UNREGISTERED_RESET
    assert got.flags & VolumeFlag.BACKWARDS


def test_unregistered_reset_is_estimated_at_the_mean_rate() -> None:
    pts = [(0.0, 0.0), (H, 10.0), (2 * H, 20.0), (3 * H, 3.0), (4 * H, 13.0), (5 * H, 23.0)]
    got = volumes(pts, [0.0, DAY], config=Config(backwards_confirm=2))[0]
    # 20 metered before, 20 after, and one hour across the reset at 10 m³/h estimated
    assert got.metered == pytest.approx(40.0)
    assert got.estimated == pytest.approx(10.0)
    assert got.flags & VolumeFlag.UNREGISTERED_RESET


def test_month_boundary_split_linearly() -> None:
    pts = [(0.0, 0.0), (4 * H, 40.0)]
    a, b = volumes(pts, [0.0, H, 10 * H])
    assert a.metered == pytest.approx(10.0)
    assert b.metered == pytest.approx(30.0)
    assert a.estimated == b.estimated == 0


def test_a_gap_across_a_boundary_is_estimated_inside_one_is_metered() -> None:
    pts = [(0.0, 0.0), (H, 1.0), (11 * DAY, 101.0), (11 * DAY + H, 102.0)]
    # the 11-day gap crosses the boundary at 5 days: its split is an estimate
    a, b = volumes(pts, [0.0, 5 * DAY, 20 * DAY])
    assert a.flags & VolumeFlag.GAP and b.flags & VolumeFlag.GAP
    assert a.metered == pytest.approx(1.0)
    assert a.estimated + b.estimated == pytest.approx(100.0)
    assert a.total + b.total == pytest.approx(102.0)
    # inside one period the register difference is exact: metered
    (c,) = volumes(pts, [0.0, 20 * DAY])
    assert c.metered == pytest.approx(102.0) and c.estimated == 0
    assert c.flags & VolumeFlag.GAP


def test_open_end_estimated_only_when_asked() -> None:
    pts = [(0.0, 0.0), (H, 10.0), (2 * H, 20.0)]
    (quiet,) = volumes(pts, [0.0, DAY])
    assert quiet.total == pytest.approx(20.0)
    (est,) = volumes(pts, [0.0, DAY], estimate_after=True)
    assert est.metered == pytest.approx(20.0)
    assert est.estimated == pytest.approx(22 * 10.0)
    assert est.flags & VolumeFlag.RATE_ESTIMATED
    (until,) = volumes(pts, [0.0, DAY], estimate_after=True, until=12 * H)
    assert until.estimated == pytest.approx(100.0)


def test_unmetered() -> None:
    a, b = unmetered([0.0, DAY, 3 * DAY], 10.0)
    assert (a.estimated, b.estimated) == (pytest.approx(10.0), pytest.approx(20.0))
    assert a.flags == VolumeFlag.UNMETERED and a.metered == 0
    with pytest.raises(ValueError):
        unmetered([0.0, DAY], -1.0)


def test_bad_input() -> None:
    with pytest.raises(ValueError):
        volumes([], [0.0])
    with pytest.raises(ValueError):
        volumes([], [1.0, 0.0])
    with pytest.raises(ValueError):
        Config(gap_s=0)
    assert volumes([], [0.0, 1.0])[0].total == 0
    # duplicates and non-finite values are ignored
    assert segments([(0.0, 1.0), (0.0, 5.0), (1.0, float("nan")), (2.0, 3.0)])[0].volume == 2.0


@settings(max_examples=50)
@given(increments, st.floats(0.1, 0.9))
def test_periods_never_lose_volume(incs: list[tuple[float, float]], frac: float) -> None:
    pts = build(incs)
    end = pts[-1][0]
    got = volumes(pts, [-DAY, frac * end, end + DAY], estimate_after=True)
    assert sum(p.total for p in got) >= pts[-1][1] - pts[0][1] - 1e-6


def test_covered_spans_are_not_gaps() -> None:
    # a daily rollup: first at 00:00, last at 23:45, 96 readings between
    pts = [(0.0, 0.0), (DAY - 900, 95.0), (DAY, 96.0), (2 * DAY - 900, 191.0)]
    (a,) = volumes(pts, [0.0, 2 * DAY])
    assert a.flags & VolumeFlag.GAP
    (b,) = volumes(pts, [0.0, 2 * DAY], covered=[(0.0, DAY - 900), (DAY, 2 * DAY - 900)])
    assert not b.flags & VolumeFlag.GAP and b.metered == pytest.approx(191.0)
    # and they count towards the mean rate for open ends
    (c,) = volumes(pts, [0.0, 3 * DAY], covered=[(0.0, DAY - 900), (DAY, 2 * DAY - 900)],
                   estimate_after=True)  # fmt: skip
    assert c.estimated == pytest.approx(96.0 * (DAY + 900) / DAY)


gappy = st.lists(
    st.tuples(st.sampled_from([900.0, 3600.0, 7 * H, 3 * DAY]), st.floats(0, 50)),
    min_size=1,
    max_size=40,
)


@given(gappy, st.lists(st.floats(0.0, 1.0), max_size=5), st.booleans(), st.data())
def test_fast_path_agrees_with_general_path(
    incs: list[tuple[float, float]], cuts: list[float], after: bool, data: st.DataObject
) -> None:
    pts = build(incs)
    end = pts[-1][0]
    bounds = sorted({-DAY, *(c * end for c in cuts), end + 5 * DAY})
    pairs = list(itertools.pairwise(pts))
    chosen = data.draw(st.lists(st.sampled_from(pairs), max_size=5)) if pairs else []
    covered = [(a[0], b[0]) for a, b in chosen]
    kw = {"estimate_after": after, "covered": covered, "fallback_rate": 0.001}
    fast = volumes(pts, bounds, **kw)  # type: ignore[arg-type]
    general = volumes(pts, bounds, breaks=[MeterBreak(-1e12, 0, 0)], **kw)  # type: ignore[arg-type]
    for f, g in zip(fast, general, strict=True):
        assert f.metered == pytest.approx(g.metered, abs=1e-6)
        assert f.estimated == pytest.approx(g.estimated, abs=1e-6)
        assert f.flags == g.flags
