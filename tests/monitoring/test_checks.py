"""Data quality checks (aquifer.monitoring.checks): each check on hand-made series, properties."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aquifer.monitoring.checks import (
    REJECTED,
    SUSPECT,
    CheckConfig,
    CheckKind,
    MeterReplacement,
    check_series,
    default_config,
)
from aquifer.telemetry.elements import ELEMENTS

T0 = 1_750_000_000  # an epoch second in June 2025
STEP = 300  # five minutes


def times(n: int, step: int = STEP) -> np.ndarray:
    return T0 + step * np.arange(n, dtype=np.int64)


def smooth_depth(n: int = 288) -> np.ndarray:
    """A depth to water of 12 m with a 5 cm daily wave and a little noise."""
    rng = np.random.default_rng(7)
    return 12.0 + 0.05 * np.sin(np.arange(n) * 2 * np.pi / 288) + rng.normal(0, 0.002, n)


def kinds_of(result, kind: CheckKind) -> list[int]:
    return np.flatnonzero(result.kinds & kind).tolist()


def findings_of(result, kind: CheckKind):
    return [f for f in result.findings if f.kind == kind]


# --- configuration ---------------------------------------------------------------------------


def test_defaults_follow_elements():
    for key, el in ELEMENTS.items():
        cfg = default_config(key)
        assert (cfg.range_lo, cfg.range_hi) == el.plausible
        assert cfg.cumulative == el.cumulative
    assert default_config("cumulative_volume").stuck_min_count is None
    assert default_config("flow_rate").stuck_exempt == (0.0,)
    assert default_config("flow_rate").negative_flow
    assert default_config("depth_to_water").step_per_hour is not None
    with pytest.raises(KeyError):
        default_config("rainfall")


def test_config_round_trips_through_json():
    cfg = default_config("flow_rate").with_overrides({"interval_s": 3600, "range_hi": 120.0})
    back = CheckConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert back == cfg
    assert back.interval_s == 3600 and back.stuck_exempt == (0.0,)
    # Missing keys take the element's defaults (a device stores only its own settings).
    assert CheckConfig.from_dict({"element": "ph", "range_hi": 10}).range_hi == 10
    assert CheckConfig.from_dict({"element": "ph"}) == default_config("ph")


def test_config_refuses_nonsense():
    with pytest.raises(ValueError, match="unknown check settings: spike_k"):
        default_config("ph").with_overrides({"spike_k": 3})
    with pytest.raises(ValueError, match="spike_window"):
        default_config("ph").with_overrides({"spike_window": 4})
    with pytest.raises(ValueError, match="range_lo"):
        default_config("ph").with_overrides({"range_lo": 15.0})


def test_flag_bits_are_reading_flags():
    from aquifer.telemetry.models import ReadingFlag

    assert SUSPECT == ReadingFlag.SUSPECT
    assert REJECTED == ReadingFlag.REJECTED


def test_module_imports_no_django():
    code = (
        "import sys, aquifer.monitoring.checks; "
        "print(any(m.startswith('django') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_input_validation():
    cfg = default_config("ph")
    with pytest.raises(ValueError, match="one length"):
        check_series(times(3), [7.0, 7.0], cfg)
    with pytest.raises(ValueError, match="non-decreasing"):
        check_series([T0, T0 - 1], [7.0, 7.0], cfg)
    empty = check_series(np.array([], dtype=np.int64), np.array([]), cfg, now=T0)
    assert empty.flags.shape == (0,) and empty.findings == []


def test_clean_series_is_clean():
    r = check_series(times(288), smooth_depth(), default_config("depth_to_water"), now=T0 + 86400)
    assert not r.flags.any() and not r.kinds.any() and r.findings == []


# --- physical range ----------------------------------------------------------------------------


def test_range_rejects_out_of_range_and_nan():
    v = np.full(20, 7.2)
    v[[3, 4]] = [15.5, 16.0]
    v[10] = np.nan
    r = check_series(times(20), v, default_config("ph"))
    assert kinds_of(r, CheckKind.RANGE) == [3, 4, 10]
    assert (r.flags[[3, 4, 10]] & REJECTED).all()
    assert not r.flags[[0, 5, 19]].any()
    runs = findings_of(r, CheckKind.RANGE)
    assert [(f.start, f.end) for f in runs] == [(3, 4), (10, 10)]
    assert runs[0].value == 16.0 and runs[0].t_start == T0 + 3 * STEP
    assert "物理范围" in runs[0].message_zh and "physical range" in runs[0].message_en


def test_range_bounds_are_inclusive_and_per_device():
    v = np.array([0.0, 14.0, 9.0])
    assert not check_series(times(3), v, default_config("ph")).flags.any()
    tight = default_config("ph").with_overrides({"range_lo": 6.0, "range_hi": 8.5})
    assert kinds_of(check_series(times(3), v, tight), CheckKind.RANGE) == [0, 1, 2]


# --- spike -------------------------------------------------------------------------------------


def test_spike_by_rolling_median_and_mad():
    v = smooth_depth()
    v[100] += 3.0
    v[200] -= 2.0
    r = check_series(times(288), v, default_config("depth_to_water"))
    assert kinds_of(r, CheckKind.SPIKE) == [100, 200]
    assert r.flags[100] == SUSPECT and r.flags[99] == 0
    assert findings_of(r, CheckKind.SPIKE)[0].severity == "warning"


def test_spike_at_the_ends_of_the_series():
    v = smooth_depth(50)
    v[0] += 3.0
    v[-1] += 3.0
    assert kinds_of(
        check_series(times(50), v, default_config("depth_to_water")), CheckKind.SPIKE
    ) == [
        0,
        49,
    ]


def test_level_shift_is_not_a_spike():
    v = np.where(np.arange(288) < 144, 12.0, 20.0) + smooth_depth() - 12.0  # a pump starts
    r = check_series(times(288), v, default_config("depth_to_water"))
    assert not r.kinds.any()


def test_small_wiggle_under_the_floor_is_not_a_spike():
    v = smooth_depth()
    v[100] += 0.3  # below the 0.5 m floor of depth to water
    assert not check_series(times(288), v, default_config("depth_to_water")).kinds.any()
    floor = default_config("depth_to_water").with_overrides({"spike_min_delta": 0.1})
    assert kinds_of(check_series(times(288), v, floor), CheckKind.SPIKE) == [100]


def test_step_per_hour_rule_for_depth():
    cfg = default_config("depth_to_water").with_overrides(
        {"spike_mad_k": None, "stuck_min_count": None}
    )
    hourly = times(24, 3600)
    v = np.full(24, 12.0)
    v[10] = 18.0  # up 6 m and back within the hour: more than 5 m/h
    v[15] = 16.0  # 4 m: allowed
    r = check_series(hourly, v, cfg)
    assert kinds_of(r, CheckKind.SPIKE) == [10]
    # A staircase (up 6 m, then up 6 m more) is two level shifts, not a spike.
    stairs = np.full(24, 12.0)
    stairs[18], stairs[19:] = 18.0, 24.0
    assert not check_series(hourly, stairs, cfg).kinds.any()
    # Over three hours 6 m is allowed (5 m/h × 3 h).
    assert not check_series(
        times(24, 3 * 3600), v, cfg.with_overrides({"stuck_min_count": None})
    ).kinds.any()


def test_spike_off_for_flow():
    v = np.zeros(100)
    v[50] = 40.0  # a five-minute pump run
    assert not check_series(times(100), v, default_config("flow_rate")).kinds.any()


# --- stuck value -------------------------------------------------------------------------------


def test_stuck_depth_over_half_a_day():
    v = smooth_depth(400)
    v[50:350] = 12.34  # 300 readings, 25 hours
    r = check_series(times(400), v, default_config("depth_to_water"))
    assert kinds_of(r, CheckKind.STUCK) == list(range(50, 350))
    (f,) = findings_of(r, CheckKind.STUCK)
    assert (f.start, f.end, f.value) == (50, 349, 12.34)
    assert "300" in f.message_en and "300" in f.message_zh


def test_stuck_needs_count_and_duration():
    v = smooth_depth(400)
    v[50:190] = 12.34  # 140 readings, 11.6 hours: under the 12 hours
    assert not check_series(times(400), v, default_config("depth_to_water")).kinds.any()
    short = default_config("depth_to_water").with_overrides({"stuck_min_seconds": 3600})
    assert kinds_of(check_series(times(400), v, short), CheckKind.STUCK) == list(range(50, 190))
    many = short.with_overrides({"stuck_min_count": 150})
    assert not check_series(times(400), v, many).kinds.any()


def test_stuck_tolerance():
    v = 12.0 + 0.001 * (np.arange(400) % 2)  # toggles by a millimetre
    cfg = default_config("depth_to_water")
    assert not check_series(times(400), v, cfg).kinds.any()
    assert check_series(times(400), v, cfg.with_overrides({"stuck_tolerance": 0.002})).kinds.all()


def test_stuck_is_per_element():
    idle = np.zeros(288)
    assert not check_series(times(288), idle, default_config("flow_rate")).kinds.any()
    running = np.full(288, 42.5)  # exactly 42.5 m³/h for a day
    assert kinds_of(check_series(times(288), running, default_config("flow_rate")), CheckKind.STUCK)
    register = np.full(288, 1234.5)  # the pump does not run
    assert not check_series(times(288), register, default_config("cumulative_volume")).kinds.any()


# --- cumulative meters -------------------------------------------------------------------------


def meter(n: int = 100) -> np.ndarray:
    return 5000.0 + np.cumsum(np.full(n, 2.0))


def test_backwards_is_possible_tampering():
    v = meter()
    v[60:] -= 300.0
    r = check_series(times(100), v, default_config("cumulative_volume"))
    assert kinds_of(r, CheckKind.BACKWARDS) == [60]
    (f,) = r.findings
    assert f.severity == "critical" and f.value == v[60]
    assert "倒走" in f.message_zh and "backwards" in f.message_en
    assert r.flags[60] == SUSPECT and r.flags[61] == 0


def test_reset_without_replacement():
    v = meter()
    v[60:] = np.cumsum(np.full(40, 2.0)) - 2.0  # back to 0 and counting again
    r = check_series(times(100), v, default_config("cumulative_volume"))
    assert kinds_of(r, CheckKind.RESET) == [60]
    assert not kinds_of(r, CheckKind.BACKWARDS)
    assert r.findings[0].severity == "critical" and "归零" in r.findings[0].message_zh


def test_registered_replacement_is_fine():
    v = meter()
    v[60:] = np.cumsum(np.full(40, 2.0)) - 2.0
    swap = MeterReplacement(at=int(times(100)[59]) + 100, old_final=v[59] + 1.0, new_initial=0.0)
    r = check_series(times(100), v, default_config("cumulative_volume"), replacements=[swap])
    assert not r.kinds.any() and r.findings == []


def test_replacement_with_a_used_meter_is_fine():
    v = meter()
    v[60:] = 800.0 + np.cumsum(np.full(40, 2.0))  # a refurbished meter that reads 800
    swap = MeterReplacement(at=int(times(100)[60]), old_final=v[59], new_initial=801.5)
    r = check_series(times(100), v, default_config("cumulative_volume"), replacements=[swap])
    assert r.findings == []
    # Without the registration the same drop runs backwards.
    r = check_series(times(100), v, default_config("cumulative_volume"))
    assert kinds_of(r, CheckKind.BACKWARDS) == [60]


def test_replacement_elsewhere_or_mismatched_does_not_excuse():
    v = meter()
    v[60:] = np.cumsum(np.full(40, 2.0)) - 2.0
    t = times(100)
    cfg = default_config("cumulative_volume")
    days_ago = MeterReplacement(at=int(t[59]) - 3 * 86400, old_final=v[59], new_initial=0.0)
    wrong_old = MeterReplacement(at=int(t[59]), old_final=v[59] - 500.0, new_initial=0.0)
    wrong_new = MeterReplacement(at=int(t[59]), old_final=v[59], new_initial=50.0)
    for swap in (days_ago, wrong_old, wrong_new):
        r = check_series(t, v, cfg, replacements=[swap])
        assert kinds_of(r, CheckKind.RESET) == [60], swap


def test_backwards_tolerance_for_jitter():
    v = meter()
    v[30] = v[29] - 0.01
    v[31:] += 0.0
    cfg = default_config("cumulative_volume")
    assert kinds_of(check_series(times(100), v, cfg), CheckKind.BACKWARDS) == [30]
    assert not check_series(
        times(100), v, cfg.with_overrides({"backwards_tolerance": 0.05})
    ).kinds.any()


def test_non_cumulative_elements_may_fall():
    v = np.linspace(30.0, 10.0, 100)
    assert not check_series(times(100), v, default_config("water_temperature")).kinds.any()


# --- negative flow -----------------------------------------------------------------------------


def test_negative_flow():
    v = np.full(100, 30.0) + np.sin(np.arange(100))
    v[40:43] = [-5.0, -7.5, -1.0]
    r = check_series(times(100), v, default_config("flow_rate"))
    assert kinds_of(r, CheckKind.NEGATIVE_FLOW) == [40, 41, 42]
    (f,) = findings_of(r, CheckKind.NEGATIVE_FLOW)
    assert f.value == -7.5 and "负流量" in f.message_zh
    # Below the plausible range too, so also rejected.
    assert (r.flags[40:43] == SUSPECT | REJECTED).all()
    loose = default_config("flow_rate").with_overrides({"negative_tolerance": 2.0, "range_lo": -10})
    assert kinds_of(check_series(times(100), v, loose), CheckKind.NEGATIVE_FLOW) == [40, 41]


# --- timestamps --------------------------------------------------------------------------------


def test_future_and_too_old():
    t = np.array([T0 - 400 * 86400, T0 - 86400, T0, T0 + 200, T0 + 3600], dtype=np.int64)
    v = np.full(5, 7.0)
    cfg = default_config("ph").with_overrides({"gap_factor": None})
    r = check_series(t, v, cfg, now=T0)
    assert kinds_of(r, CheckKind.TOO_OLD) == [0]
    assert kinds_of(r, CheckKind.FUTURE) == [4]  # 200 s ahead is within the 300 s tolerance
    assert r.flags.tolist() == [SUSPECT, 0, 0, 0, REJECTED]
    assert not check_series(t, v, cfg).kinds.any()  # no "now": no timestamp checks
    strict = cfg.with_overrides({"future_tolerance_s": 0, "max_age_s": None})
    assert check_series(t, v, strict, now=T0).flags.tolist() == [0, 0, 0, REJECTED, REJECTED]


# --- gaps --------------------------------------------------------------------------------------


def test_gaps():
    t = times(100)
    t[50:] += 3600  # an hour missing after reading 49
    t[80:] += 600  # 15 minutes between 79 and 80: within 3 × 5 min
    r = check_series(t, smooth_depth(100), default_config("depth_to_water"))
    (g,) = findings_of(r, CheckKind.GAP)
    assert (g.start, g.end, g.t_end - g.t_start) == (49, 50, 3900)
    assert g.severity == "info" and "缺报" in g.message_zh
    assert not r.flags.any()  # a gap flags no reading
    hourly = default_config("depth_to_water").with_overrides({"interval_s": 3600})
    assert not findings_of(check_series(t, smooth_depth(100), hourly), CheckKind.GAP)


# --- properties --------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    start=st.floats(0.0, 1e6),
    increments=st.lists(st.floats(0.0, 50.0), min_size=0, max_size=300),
    interval=st.integers(60, 3600),
)
def test_monotone_meter_never_backwards_or_reset(start, increments, interval):
    v = start + np.cumsum(np.array([0.0, *increments]))
    t = T0 + interval * np.arange(v.shape[0], dtype=np.int64)
    cfg = default_config("cumulative_volume").with_overrides({"interval_s": interval})
    r = check_series(t, v, cfg, now=int(t[-1]))
    assert not r.kinds.any()
    assert r.findings == []


@settings(max_examples=200, deadline=None)
@given(
    key=st.sampled_from(
        ["depth_to_water", "water_level", "ph", "conductivity", "water_temperature"]
    ),
    start=st.floats(0.0, 1.0),
    steps=st.lists(st.floats(-1.0, 1.0), min_size=1, max_size=300),
    interval=st.integers(60, 7200),
)
def test_smooth_in_range_series_never_range_or_spike(key, start, steps, interval):
    cfg = default_config(key)
    lo, hi = cfg.range_lo, cfg.range_hi
    # A step never larger than the spike floor over the half window, nor the hourly step.
    bound = 0.99 * cfg.spike_min_delta / (cfg.spike_window // 2)
    if cfg.step_per_hour is not None:
        bound = min(bound, 0.99 * cfg.step_per_hour)
    v = np.clip(lo + start * (hi - lo) + np.cumsum(np.array(steps) * bound), lo, hi)
    t = T0 + interval * np.arange(v.shape[0], dtype=np.int64)
    r = check_series(t, v, cfg)
    assert not (r.kinds & (CheckKind.RANGE | CheckKind.SPIKE)).any()


@settings(max_examples=200, deadline=None)
@given(
    key=st.sampled_from(sorted(ELEMENTS)),
    values=st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=0, max_size=60),
    gaps=st.lists(st.integers(0, 5000), min_size=60, max_size=60),
    drop=st.booleans(),
)
def test_checks_never_change_their_input(key, values, gaps, drop):
    v = np.array(values, dtype=np.float64)
    t = T0 + np.cumsum(np.array(gaps[: v.shape[0]], dtype=np.int64))
    v0, t0 = v.copy(), t.copy()
    v.flags.writeable = False
    t.flags.writeable = False
    swap = [MeterReplacement(at=T0 + 1000, old_final=1e3, new_initial=0.0)] if drop else []
    r = check_series(t, v, default_config(key), now=T0 + 10_000, replacements=swap)
    np.testing.assert_array_equal(v, v0)
    np.testing.assert_array_equal(t, t0)
    assert r.flags.shape == v.shape and r.kinds.shape == v.shape
    assert set(np.unique(r.flags).tolist()) <= {0, SUSPECT, REJECTED, SUSPECT | REJECTED}
