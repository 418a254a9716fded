"""Withdrawal volumes from a cumulative meter series (pure: no Django; mypy --strict).

Input: one meter's readings of its register (累计水量) as ``(t, value)`` pairs, ``t`` in epoch
seconds, and the registered breaks of its register (meter replacements 换表 and registered
resets: the old meter's final reading and the new meter's initial reading, at an instant).
Output: the volume in each period between consecutive ``boundaries`` (months, days, any), split
into a *metered* and an *estimated* part, with :class:`VolumeFlag` bits saying why.

How the series becomes volumes
------------------------------
Consecutive accepted readings ``(t0, v0) → (t1, v1)`` form a *segment* with a volume ``dv``:

* a registered break at ``t0 < at <= t1`` (a reading at the very instant of a replacement
  belongs to the new meter): ``dv = (old_final - v0) + (v1 - new_initial)``, several breaks
  chained; a negative part counts 0 and is flagged ``BACKWARDS``;
* ``v1 >= v0``: ``dv = v1 - v0``;
* ``v1 < v0`` and the register's capacity ``rollover`` is known and the drop exceeds half of
  it: the register wrapped around, ``dv = rollover - v0 + v1`` (flag ``ROLLOVER``);
* otherwise the reading ran backwards: it is *not counted* and not accepted (flag
  ``BACKWARDS``); the next segment starts again from the last accepted reading, so a glitch
  counts nothing twice. If ``backwards_confirm`` readings in a row stay below, the meter was
  reset without registration: counting resumes from the first low reading, and the unknown
  volume across the reset is estimated at the mean rate (flags ``UNREGISTERED_RESET`` and
  ``RATE_ESTIMATED``).

A segment's volume is spread over its time span linearly (the register is interpolated at
period boundaries). A segment no longer than ``gap_s`` is *metered* wherever it falls. A longer
segment is a *gap* (flag ``GAP``): its total is still the register difference — exact — but how
it splits between periods is a guess, so the parts of a gap that straddles a period boundary are
*estimated*; a gap that lies inside one period is metered there.

Uncovered edges: before the first reading nothing is estimated (the series starts there — the
service gives a reading before the window when one exists). After the last reading, when
``estimate_after`` is set (the meter is still in service) and more than ``gap_s`` is uncovered
up to the window's end, the rest is estimated at the mean rate (flag ``RATE_ESTIMATED``).

The mean rate is the well's own: metered volume over metered time of its non-gap segments in
the computed window (for a year's accounting, that year), or ``fallback_rate`` (m³/s) when the
series has none — the service passes the unmetered estimate (permit share × factor). This is
the "same period's mean daily rate" rule, documented in docs/accounting.md.

Unmetered wells (no meter at all) get :func:`unmetered` — a daily volume times the days of each
period, all estimated (flag ``UNMETERED``).
"""

from __future__ import annotations

import bisect
import enum
import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "Config",
    "MeterBreak",
    "PeriodVolume",
    "Segment",
    "VolumeFlag",
    "mean_rate",
    "segments",
    "spread",
    "unmetered",
    "volumes",
]


class VolumeFlag(enum.IntFlag):
    """Why a period's volume is what it is (stored as a bitmask)."""

    GAP = 1  # a gap in the readings touched the period
    RATE_ESTIMATED = 2  # part of the volume estimated from a rate (no register difference)
    BACKWARDS = 4  # readings ran backwards: not counted
    ROLLOVER = 8  # the register wrapped around
    REPLACEMENT = 16  # a registered meter replacement or reset
    UNREGISTERED_RESET = 32  # the register restarted lower without a registration
    UNMETERED = 64  # the well has no meter: the whole volume is an estimate
    NO_DATA = 128  # no readings covered (part of) the period and nothing was estimated


_GAP = int(VolumeFlag.GAP)
_RATE = int(VolumeFlag.RATE_ESTIMATED)
_BACK = int(VolumeFlag.BACKWARDS)
_ROLL = int(VolumeFlag.ROLLOVER)
_REPL = int(VolumeFlag.REPLACEMENT)
_RESET = int(VolumeFlag.UNREGISTERED_RESET)
_NODATA = int(VolumeFlag.NO_DATA)


@dataclass(frozen=True, slots=True)
class MeterBreak:
    """A registered replacement or reset of a meter's register (换表 / 清零)."""

    at: float  # epoch seconds
    old_final: float
    new_initial: float


@dataclass(frozen=True, slots=True)
class Config:
    """Parameters (settings ``AQUIFER["ACCOUNTING"]``, see docs/accounting.md)."""

    gap_s: float = 6 * 3600.0
    rollover: float | None = None
    backwards_confirm: int = 3

    def __post_init__(self) -> None:
        if not self.gap_s > 0:
            raise ValueError("gap_s must be positive")
        if self.rollover is not None and not self.rollover > 0:
            raise ValueError("rollover must be positive")
        if self.backwards_confirm < 1:
            raise ValueError("backwards_confirm must be at least 1")


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of time with a volume: the unit that is spread over periods."""

    t0: float
    t1: float
    volume: float
    flags: int = 0
    rate_estimated: bool = False  # the volume itself is an estimate (not a register difference)
    covered: bool = False  # known to be covered by readings (not a gap, however long)


@dataclass(frozen=True, slots=True)
class PeriodVolume:
    """The volume of one period ``[start, end)``."""

    start: float
    end: float
    metered: float
    estimated: float
    flags: int

    @property
    def total(self) -> float:
        return self.metered + self.estimated


def _break_volume(v0: float, v1: float, breaks: Sequence[MeterBreak]) -> tuple[float, int]:
    flags = _REPL
    parts = [breaks[0].old_final - v0]
    parts += [b.old_final - a.new_initial for a, b in itertools.pairwise(breaks)]
    parts.append(v1 - breaks[-1].new_initial)
    if any(p < 0 for p in parts):
        flags |= _BACK
    return sum(max(p, 0.0) for p in parts), flags


def segments(
    readings: Iterable[tuple[float, float]],
    breaks: Iterable[MeterBreak] = (),
    config: Config | None = None,
) -> list[Segment]:
    """The segments of a cumulative series (see the module docstring).

    Readings need not be sorted; of several at one instant the first given is kept. Non-finite
    values are ignored. Flags of skipped backwards readings ride on the next segment (or, at the
    end of the series, on a zero-length segment at the skipped reading).
    """
    cfg = config or Config()
    seen: dict[float, float] = {}
    for t, v in readings:
        if math.isfinite(t) and math.isfinite(v) and t not in seen:
            seen[t] = v
    pts = sorted(seen.items())
    brk = sorted(breaks, key=lambda b: b.at)
    out: list[Segment] = []
    if not pts:
        return out
    t0, v0 = pts[0]
    pending = 0  # flags of skipped readings, carried to the next segment
    low: list[tuple[float, float]] = []  # consecutive readings below the last accepted one
    bi = 0
    while bi < len(brk) and brk[bi].at <= t0:
        bi += 1
    for t1, v1 in pts[1:]:
        between: list[MeterBreak] = []
        while bi < len(brk) and brk[bi].at <= t1:
            between.append(brk[bi])
            bi += 1
        if between:
            dv, f = _break_volume(v0, v1, between)
            out.append(Segment(t0, t1, dv, f | pending))
            t0, v0, pending, low = t1, v1, 0, []
            continue
        if v1 >= v0:
            out.append(Segment(t0, t1, v1 - v0, pending))
            t0, v0, pending, low = t1, v1, 0, []
            continue
        if cfg.rollover is not None and v0 - v1 > cfg.rollover / 2:
            dv = cfg.rollover - v0 + v1
            out.append(Segment(t0, t1, max(dv, 0.0), _ROLL | pending))
            t0, v0, pending, low = t1, v1, 0, []
            continue
        low.append((t1, v1))
        pending |= _BACK
        if len(low) >= cfg.backwards_confirm and all(
            b >= a for (_, a), (_, b) in itertools.pairwise(low)
        ):
            # An unregistered reset: count from the first low reading on.
            (tl, vl), rest = low[0], low[1:]
            out.append(Segment(t0, tl, 0.0, _RESET | pending, rate_estimated=True))
            pending = 0
            prev_t, prev_v = tl, vl
            for tr, vr in rest:
                out.append(Segment(prev_t, tr, vr - prev_v, 0))
                prev_t, prev_v = tr, vr
            t0, v0, low = prev_t, prev_v, []
    if pending:
        out.append(Segment(low[-1][0] if low else t0, low[-1][0] if low else t0, 0.0, pending))
    return out


def mean_rate(segs: Sequence[Segment], config: Config | None = None) -> float | None:
    """Metered volume per second over the non-gap, non-estimated segments; None if none."""
    cfg = config or Config()
    vol = dur = 0.0
    for s in segs:
        dt = s.t1 - s.t0
        if dt > 0 and (dt <= cfg.gap_s or s.covered) and not s.rate_estimated:
            vol += s.volume
            dur += dt
    return vol / dur if dur > 0 else None


def _check_boundaries(boundaries: Sequence[float]) -> None:
    if len(boundaries) < 2:
        raise ValueError("at least two boundaries are needed (one period)")
    if any(b <= a for a, b in itertools.pairwise(boundaries)):
        raise ValueError("boundaries must increase strictly")


def volumes(
    readings: Iterable[tuple[float, float]],
    boundaries: Sequence[float],
    *,
    breaks: Iterable[MeterBreak] = (),
    config: Config | None = None,
    estimate_after: bool = False,
    until: float | None = None,
    fallback_rate: float | None = None,
    covered: Iterable[tuple[float, float]] = (),
) -> list[PeriodVolume]:
    """The volume of each period ``[boundaries[i], boundaries[i+1])``.

    ``covered``: spans ``(t0, t1)`` between two readings that are known to have been read
    densely in between (a daily rollup's first and last reading, with n readings between them):
    a segment that is exactly such a span is not a gap, however long.

    ``until`` (default: the last boundary) ends what may be estimated after the last reading
    (say, now, inside the current month). ``fallback_rate`` (m³/s) is used for estimates when
    the series has no metered rate of its own.
    """
    cfg = config or Config()
    _check_boundaries(boundaries)
    pts = list(readings)
    brk = list(breaks)
    spans = set(covered)
    if not brk:
        fast = _monotone(pts, boundaries, cfg, spans, estimate_after, until, fallback_rate)
        if fast is not None:
            return fast
    segs = segments(pts, brk, cfg)
    if spans:
        segs = [
            Segment(x.t0, x.t1, x.volume, x.flags, x.rate_estimated, True)
            if (x.t0, x.t1) in spans
            else x
            for x in segs
        ]
    rate = mean_rate(segs, cfg)
    if rate is None:
        rate = fallback_rate
    # Estimated pieces: resets across which the volume is unknown, and the open end.
    filled: list[Segment] = []
    for s in segs:
        if s.rate_estimated:
            dv = (rate or 0.0) * (s.t1 - s.t0)
            f = s.flags | (_RATE if rate is not None else _NODATA)
            filled.append(Segment(s.t0, s.t1, dv, f, rate_estimated=True))
        else:
            filled.append(s)
    end = boundaries[-1] if until is None else min(until, boundaries[-1])
    if estimate_after and filled:
        last = max(s.t1 for s in filled)
        if end - last > cfg.gap_s:
            if rate is not None:
                filled.append(
                    Segment(
                        last,
                        end,
                        rate * (end - last),
                        _RATE | _GAP,
                        True,
                    )
                )
            else:
                filled.append(Segment(last, end, 0.0, _NODATA, True))
    return spread(filled, boundaries, cfg)


def _monotone(
    pts: list[tuple[float, float]],
    boundaries: Sequence[float],
    cfg: Config,
    spans: set[tuple[float, float]],
    estimate_after: bool,
    until: float | None,
    fallback_rate: float | None,
) -> list[PeriodVolume] | None:
    """:func:`volumes` for the common case, vectorised: a series that never runs backwards and
    has no registered break. Returns None when the series is not such (the general path runs).
    """
    if len(pts) < 2:
        return None
    arr = np.asarray(pts, dtype=np.float64).reshape(-1, 2)
    arr = arr[np.isfinite(arr).all(axis=1)]
    order = np.argsort(arr[:, 0], kind="stable")
    arr = arr[order]
    _, first = np.unique(arr[:, 0], return_index=True)
    arr = arr[first]
    if len(arr) < 2:
        return None
    t, v = arr[:, 0], arr[:, 1]
    dv = np.diff(v)
    if (dv < 0).any():
        return None
    t0, t1 = t[:-1], t[1:]
    dt = t1 - t0
    cov = np.zeros(len(dt), dtype=bool)
    if spans:
        sp = np.asarray(sorted(spans), dtype=np.float64).reshape(-1, 2)
        idx = np.searchsorted(sp[:, 0], t0)
        ok = idx < len(sp)
        idx = np.where(ok, idx, 0)
        cov = ok & (sp[idx, 0] == t0) & (sp[idx, 1] == t1)
    gap = (dt > cfg.gap_s) & ~cov
    good = ~gap
    dur = float(dt[good].sum())
    rate = float(dv[good].sum()) / dur if dur > 0 else fallback_rate
    b = np.asarray(boundaries, dtype=np.float64)
    n = len(b) - 1
    k0 = np.searchsorted(b, t0, side="right") - 1
    k1 = np.searchsorted(b, t1, side="left") - 1
    inside = (k0 == k1) & (k0 >= 0) & (k0 < n)
    met = np.bincount(k0[inside], weights=dv[inside], minlength=n)[:n].astype(np.float64)
    est = np.zeros(n, dtype=np.float64)
    flags = np.where(np.bincount(k0[inside & gap], minlength=n)[:n] > 0, _GAP, 0)
    flags = flags.astype(np.int64)
    for j in np.nonzero(~inside)[0]:
        a, z = float(t0[j]), float(t1[j])
        lo_k = max(int(k0[j]), 0)
        hi_k = min(int(k1[j]), n - 1)
        for k in range(lo_k, hi_k + 1):
            lo, hi = max(a, float(b[k])), min(z, float(b[k + 1]))
            if hi <= lo:
                continue
            part = float(dv[j]) * (hi - lo) / (z - a)
            if gap[j]:
                est[k] += part
                flags[k] |= _GAP
            else:
                met[k] += part
    out = [
        PeriodVolume(float(b[i]), float(b[i + 1]), float(met[i]), float(est[i]), int(flags[i]))
        for i in range(n)
    ]
    end = float(b[-1]) if until is None else min(until, float(b[-1]))
    last = float(t[-1])
    if estimate_after and end - last > cfg.gap_s:
        tail = (
            Segment(last, end, rate * (end - last), _RATE | _GAP, True)
            if rate is not None
            else Segment(last, end, 0.0, _NODATA, True)
        )
        extra = spread([tail], boundaries, cfg)
        out = [
            PeriodVolume(p.start, p.end, p.metered, p.estimated + x.estimated, p.flags | x.flags)
            for p, x in zip(out, extra, strict=True)
        ]
    return out


def spread(
    segs: Sequence[Segment], boundaries: Sequence[float], config: Config | None = None
) -> list[PeriodVolume]:
    """Spread segments over periods by time overlap (linear interpolation of the register)."""
    cfg = config or Config()
    _check_boundaries(boundaries)
    n = len(boundaries) - 1
    met = [0.0] * n
    est = [0.0] * n
    flags = [0] * n
    gap_s = cfg.gap_s
    last_i = -1
    for s in segs:
        t0, t1 = s.t0, s.t1
        dt = t1 - t0
        gap = dt > gap_s and not s.covered
        sflags = s.flags | _GAP if gap else s.flags
        # Fast path: the segment lies inside the period of the previous one.
        if 0 <= last_i < n and boundaries[last_i] <= t0 and t1 <= boundaries[last_i + 1]:
            i = last_i
        else:
            i = bisect.bisect_right(boundaries, t0) - 1
            last_i = i
        if dt <= 0:
            if 0 <= i < n:
                flags[i] |= sflags
                met[i] += s.volume  # zero-length: only a point volume (normally 0)
            continue
        if 0 <= i < n and t1 <= boundaries[i + 1]:
            flags[i] |= sflags
            if s.rate_estimated:
                est[i] += s.volume
            else:
                met[i] += s.volume  # inside one period: exact, gap or not
            continue
        i0 = max(i, 0)
        i1 = min(bisect.bisect_left(boundaries, t1), n)
        for k in range(i0, i1):
            lo = max(t0, boundaries[k])
            hi = min(t1, boundaries[k + 1])
            if hi <= lo:
                continue
            part = s.volume * (hi - lo) / dt
            flags[k] |= sflags
            if s.rate_estimated or gap:
                est[k] += part
            else:
                met[k] += part
    return [
        PeriodVolume(boundaries[i], boundaries[i + 1], met[i], est[i], flags[i]) for i in range(n)
    ]


def unmetered(
    boundaries: Sequence[float], daily_m3: float, until: float | None = None
) -> list[PeriodVolume]:
    """An unmetered well: ``daily_m3`` per day of each period (up to ``until``), estimated."""
    _check_boundaries(boundaries)
    if not (math.isfinite(daily_m3) and daily_m3 >= 0):
        raise ValueError("daily_m3 must be a non-negative number")
    out = []
    for a, b in itertools.pairwise(boundaries):
        hi = b if until is None else min(b, until)
        days = max(hi - a, 0.0) / 86400.0
        out.append(PeriodVolume(a, b, 0.0, daily_m3 * days, int(VolumeFlag.UNMETERED)))
    return out
