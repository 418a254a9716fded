"""A full quality-check sweep: 3,000 devices × one day of 5-minute readings.

Generates (seeded) one day of readings for ``--devices`` devices: half level loggers (depth to
water and water temperature), half withdrawal meters (flow rate and the cumulative register the
flow drives, with pumps starting and stopping). Into a few per cent of the series it puts the
faults the checks look for: spikes, stuck sensors, decoding garbage out of range, negative
flow, registers running backwards or reset, meter replacements (registered: not a fault), clocks
running ahead, and gaps. Then runs ``aquifer.monitoring.checks.check_series`` over every series
with the element defaults, ``now`` a few minutes after the day.

Baseline in the same run: a naive per-value Python loop doing the same checks on a subsample
(``--baseline`` devices), timed and extrapolated to the whole sweep, and checked to give the
same per-reading flags and check kinds as the vectorised sweep.

    python bench/checks.py [--quick] [--devices N] [--baseline N] [--seed S]

Prints one JSON object. No database: pure functions.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from aquifer.monitoring.checks import (
    KIND_FLAG,
    CheckConfig,
    CheckKind,
    MeterReplacement,
    check_series,
    default_config,
)

DAY0 = 1_750_032_000  # 2025-06-16 00:00 UTC
STEP = 300
N = 288


@dataclass
class Series:
    device: int
    element: str
    times: np.ndarray
    values: np.ndarray
    replacements: list[MeterReplacement] = field(default_factory=list)


def make_series(devices: int, seed: int) -> list[Series]:
    rng = np.random.default_rng(seed)
    base_t = DAY0 + STEP * np.arange(N, dtype=np.int64)
    out: list[Series] = []
    for d in range(devices):
        t = base_t.copy()
        u = rng.random(8)
        if u[0] < 0.03:  # a gap of 1–6 hours
            a = int(rng.integers(10, 200))
            keep = np.ones(N, dtype=bool)
            keep[a : a + int(rng.integers(12, 72))] = False
            t = t[keep]
        if u[1] < 0.01:  # the clock runs two hours ahead at the end of the day
            t = t + np.where(np.arange(t.shape[0]) > t.shape[0] - 20, 7200, 0)
        n = t.shape[0]
        phase = np.arange(n) * 2 * np.pi / N
        if d % 2 == 0:
            depth = rng.uniform(5, 80) + 0.05 * np.sin(phase) + rng.normal(0, 0.003, n)
            if u[2] < 0.3:  # a pumped well: drawdown while the pump runs
                on = (np.arange(n) % 96) < 40
                depth = depth + on * rng.uniform(2, 8)
            if u[3] < 0.02:
                depth[int(rng.integers(0, n))] += rng.choice([-1, 1]) * rng.uniform(2, 20)
            if u[4] < 0.01:
                a = int(rng.integers(0, n // 2))
                depth[a:] = round(float(depth[a]), 2)
            if u[5] < 0.01:
                depth[int(rng.integers(0, n))] = 6553.5  # decoded garbage
            temp = 14.0 + rng.uniform(-2, 4) + rng.normal(0, 0.02, n)
            if u[6] < 0.01:
                temp[int(rng.integers(0, n))] = -99.0
            out.append(Series(d, "depth_to_water", t, depth))
            out.append(Series(d, "water_temperature", t, temp))
        else:
            on = (np.arange(n) // int(rng.integers(6, 48))) % 2 == 0
            flow = np.where(on, rng.uniform(10, 80) + rng.normal(0, 0.5, n), 0.0)
            if u[2] < 0.01:
                flow[int(rng.integers(0, n - 3)) :][:3] = -rng.uniform(1, 10)
            register = rng.uniform(1e3, 5e5) + np.cumsum(np.maximum(flow, 0.0) * STEP / 3600)
            repl: list[MeterReplacement] = []
            if u[3] < 0.02:  # backwards by some tens of m³
                register[int(rng.integers(1, n)) :] -= rng.uniform(20, 200)
            elif u[3] < 0.04:  # reset to zero, nobody told the bureau
                a = int(rng.integers(1, n))
                register[a:] -= register[a] - rng.uniform(0, 0.5)
            elif u[3] < 0.07:  # a registered replacement
                a = int(rng.integers(1, n))
                old = float(register[a - 1])
                register[a:] -= register[a]
                repl.append(MeterReplacement(int(t[a - 1]) + 60, old + 0.2, 0.0))
            out.append(Series(d, "flow_rate", t, flow))
            out.append(Series(d, "cumulative_volume", t, register, repl))
    return out


def naive(s: Series, cfg: CheckConfig, now: int) -> tuple[list[int], list[int]]:
    """The same checks, one value at a time in plain Python; (flags, kinds) per reading."""
    t = [int(x) for x in s.times]
    v = [float(x) for x in s.values]
    n = len(v)
    kinds = [0] * n
    for i in range(n):
        x = v[i]
        if not (cfg.range_lo <= x <= cfg.range_hi):
            kinds[i] |= CheckKind.RANGE
        if cfg.negative_flow and x < -cfg.negative_tolerance:
            kinds[i] |= CheckKind.NEGATIVE_FLOW
        if t[i] > now + cfg.future_tolerance_s:
            kinds[i] |= CheckKind.FUTURE
        if cfg.max_age_s is not None and t[i] < now - cfg.max_age_s:
            kinds[i] |= CheckKind.TOO_OLD
    w = cfg.spike_window
    if cfg.spike_mad_k is not None and n >= w:
        for i in range(n):
            a = min(max(i - w // 2, 0), n - w)
            win = v[a : a + w]
            med = statistics.median(win)
            mad = statistics.median([abs(y - med) for y in win])
            if abs(v[i] - med) > max(cfg.spike_mad_k * 1.4826 * mad, cfg.spike_min_delta):
                kinds[i] |= CheckKind.SPIKE
    if cfg.step_per_hour is not None:
        for i in range(1, n - 1):
            d_in, d_out = v[i] - v[i - 1], v[i + 1] - v[i]
            a_in = cfg.step_per_hour * max((t[i] - t[i - 1]) / 3600, 1.0)
            a_out = cfg.step_per_hour * max((t[i + 1] - t[i]) / 3600, 1.0)
            if abs(d_in) > a_in and abs(d_out) > a_out and d_in * d_out < 0:
                kinds[i] |= CheckKind.SPIKE
    if cfg.stuck_min_count is not None:
        start = 0
        for i in range(1, n + 1):
            if i < n and abs(v[i] - v[i - 1]) <= cfg.stuck_tolerance:
                continue
            length = i - start
            if (
                length >= 2
                and length >= cfg.stuck_min_count
                and t[i - 1] - t[start] >= cfg.stuck_min_seconds
                and not any(abs(e - v[start]) <= cfg.stuck_tolerance for e in cfg.stuck_exempt)
            ):
                for j in range(start, i):
                    kinds[j] |= CheckKind.STUCK
            start = i
    if cfg.cumulative:
        for i in range(1, n):
            if v[i] - v[i - 1] >= -cfg.backwards_tolerance:
                continue
            ok = any(
                t[i - 1] - cfg.replacement_time_tolerance_s
                <= r.at
                <= t[i] + cfg.replacement_time_tolerance_s
                and v[i - 1] <= r.old_final + cfg.replacement_value_tolerance
                and v[i] >= r.new_initial - cfg.replacement_value_tolerance
                for r in s.replacements
            )
            if not ok:
                reset = v[i] <= cfg.reset_near_zero
                kinds[i] |= CheckKind.RESET if reset else CheckKind.BACKWARDS
    flags = [0] * n
    for i in range(n):
        for kind, bit in KIND_FLAG.items():
            if kinds[i] & kind:
                flags[i] |= bit
    return flags, kinds


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--devices", type=int)
    ap.add_argument("--baseline", type=int)
    ap.add_argument("--seed", type=int, default=20250616)
    args = ap.parse_args()
    devices = args.devices or (300 if args.quick else 3000)
    sub_devices = min(args.baseline or (20 if args.quick else 100), devices)
    series = make_series(devices, args.seed)
    configs = {e: default_config(e) for e in {s.element for s in series}}
    now = DAY0 + 86_400 + 600

    t0 = time.perf_counter()
    results = [
        check_series(s.times, s.values, configs[s.element], now=now, replacements=s.replacements)
        for s in series
    ]
    t1 = time.perf_counter()

    sub = [s for s in series if s.device < sub_devices]
    t2 = time.perf_counter()
    ref = [naive(s, configs[s.element], now) for s in sub]
    t3 = time.perf_counter()
    agree = all(
        r.flags.tolist() == f and r.kinds.tolist() == k
        for r, (f, k) in zip(results[: len(sub)], ref, strict=True)
    )
    readings = sum(s.times.shape[0] for s in series)
    sub_readings = sum(s.times.shape[0] for s in sub)
    baseline_full = (t3 - t2) * readings / sub_readings
    findings = Counter(f.kind.name for r in results for f in r.findings)
    print(
        json.dumps(
            {
                "benchmark": "checks",
                "devices": devices,
                "series": len(series),
                "readings": readings,
                "seconds": round(t1 - t0, 3),
                "readings_per_second": round(readings / (t1 - t0)),
                "flagged_readings": int(sum(int(np.count_nonzero(r.flags)) for r in results)),
                "findings": dict(sorted(findings.items())),
                "baseline": "naive per-value Python loop, same checks",
                "baseline_devices": sub_devices,
                "baseline_seconds": round(t3 - t2, 3),
                "baseline_extrapolated_seconds": round(baseline_full, 2),
                "speedup_vs_baseline": round(baseline_full / (t1 - t0), 1),
                "agree": agree,
                "python": platform.python_version(),
                "numpy": np.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
