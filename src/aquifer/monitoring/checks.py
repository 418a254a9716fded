"""Data quality checks on one device's series of one element (数据质量检查).

Pure functions over numpy arrays (no Django): the gateway runs them on incoming readings and
the periodic sweeps on stored ones. They only *flag*: nothing is deleted or altered, and the
input arrays are never written to. A reviewer confirms or overrides a flag elsewhere.

Input: ``times`` (int64 epoch seconds, non-decreasing) and ``values`` (float64) of one
device + element series, a :class:`CheckConfig` (defaults per element from
:data:`aquifer.telemetry.elements.ELEMENTS`, overridable per device, all thresholds plain data
serialisable to and from a dict), optionally ``now`` and the registered meter replacements.

Output (:class:`CheckResult`): ``flags``, a per-reading bitmask in the values of
``telemetry.models.ReadingFlag`` (``SUSPECT`` = 2, ``REJECTED`` = 4); ``kinds``, a per-reading
bitmask of :class:`CheckKind`; and ``findings``, one :class:`Finding` per run of consecutive
readings that failed the same check (no floods), with a message in Chinese and English.

The checks
----------
- **range** (超出物理范围): ``value`` outside ``[range_lo, range_hi]`` (NaN included) → REJECTED.
- **spike** (突变): with a centred rolling window of ``spike_window`` readings (clamped at the
  ends), median :math:`m_i` and median absolute deviation :math:`\\mathrm{MAD}_i`, a reading is a
  spike when :math:`|x_i - m_i| > \\max(k \\cdot 1.4826\\,\\mathrm{MAD}_i, \\delta_{min})`
  (Hampel filter; Pearson 2002). For levels also an absolute step rule: :math:`x_i` departs from
  *both* neighbours in the same direction by more than ``step_per_hour`` × max(Δt in hours, 1)
  (an isolated jump; a lasting level shift is not a spike) → SUSPECT.
- **stuck** (数值不变): at least ``stuck_min_count`` consecutive readings within
  ``stuck_tolerance`` of each other spanning at least ``stuck_min_seconds``; values listed in
  ``stuck_exempt`` (a pump at rest reads 0 m³/h) are never stuck; off for elements where a
  constant value is normal (a meter's register while not pumping) → SUSPECT.
- **backwards / reset** (倒走 / 归零), cumulative elements only: a decrease larger than
  ``backwards_tolerance`` is explained when a registered :class:`MeterReplacement` lies between
  the two readings (± ``replacement_time_tolerance_s``) and the readings agree with its old final
  and new initial readings (± ``replacement_value_tolerance``): fine, no flag. Otherwise a new
  value at or below ``reset_near_zero`` is a reset, anything else runs backwards: both possible
  tampering → SUSPECT, severity critical.
- **negative flow** (负流量), flow elements: ``value < -negative_tolerance`` → SUSPECT.
- **future / too old** (时间超前 / 过旧), when ``now`` is given: later than
  ``now + future_tolerance_s`` → REJECTED; earlier than ``now - max_age_s`` → SUSPECT.
- **gap** (缺报): two consecutive readings further apart than ``gap_factor`` × ``interval_s``;
  a finding over the pair, no reading is flagged (the missing ones are not there to flag).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from aquifer.telemetry.elements import element

__all__ = [
    "KIND_FLAG",
    "KIND_SEVERITY",
    "REJECTED",
    "SUSPECT",
    "CheckConfig",
    "CheckKind",
    "CheckResult",
    "Finding",
    "MeterReplacement",
    "Severity",
    "check_series",
    "default_config",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
Severity = Literal["info", "warning", "critical"]

SUSPECT: Final = 2  # ReadingFlag.SUSPECT (telemetry.models; not imported: no Django here)
REJECTED: Final = 4  # ReadingFlag.REJECTED

_MAD_SCALE: Final = 1.4826  # MAD → standard deviation of a normal distribution


class CheckKind(enum.IntFlag):
    """Which check a reading failed, as a bitmask (independent of ``ReadingFlag``)."""

    RANGE = 1
    SPIKE = 2
    STUCK = 4
    BACKWARDS = 8
    RESET = 16
    NEGATIVE_FLOW = 32
    FUTURE = 64
    TOO_OLD = 128
    GAP = 256


KIND_FLAG: Final[Mapping[CheckKind, int]] = {
    CheckKind.RANGE: REJECTED,
    CheckKind.SPIKE: SUSPECT,
    CheckKind.STUCK: SUSPECT,
    CheckKind.BACKWARDS: SUSPECT,
    CheckKind.RESET: SUSPECT,
    CheckKind.NEGATIVE_FLOW: SUSPECT,
    CheckKind.FUTURE: REJECTED,
    CheckKind.TOO_OLD: SUSPECT,
    CheckKind.GAP: 0,
}
"""The ``ReadingFlag`` bits a reading gets for each kind of failed check."""

KIND_SEVERITY: Final[Mapping[CheckKind, Severity]] = {
    CheckKind.RANGE: "warning",
    CheckKind.SPIKE: "warning",
    CheckKind.STUCK: "warning",
    CheckKind.BACKWARDS: "critical",
    CheckKind.RESET: "critical",
    CheckKind.NEGATIVE_FLOW: "warning",
    CheckKind.FUTURE: "warning",
    CheckKind.TOO_OLD: "info",
    CheckKind.GAP: "info",
}
"""The severity of a :class:`Finding` of each kind."""

_DAY: Final = 86_400


@dataclass(frozen=True, slots=True)
class CheckConfig:
    """The thresholds of every check for one element (and, overridden, one device).

    Build the defaults with :func:`default_config`; override per device with
    :meth:`with_overrides`; store with :meth:`to_dict` and load with :meth:`from_dict`.
    ``None`` switches a check off.
    """

    element: str
    range_lo: float
    range_hi: float
    spike_window: int = 7
    spike_mad_k: float | None = 6.0
    spike_min_delta: float = 0.0
    step_per_hour: float | None = None
    stuck_min_count: int | None = 12
    stuck_min_seconds: int = 12 * 3600
    stuck_tolerance: float = 0.0
    stuck_exempt: tuple[float, ...] = ()
    cumulative: bool = False
    backwards_tolerance: float = 0.0
    reset_near_zero: float = 1.0
    replacement_time_tolerance_s: int = _DAY
    replacement_value_tolerance: float = 1.0
    negative_flow: bool = False
    negative_tolerance: float = 0.0
    future_tolerance_s: int = 300
    max_age_s: int | None = 366 * _DAY
    interval_s: int = 300
    gap_factor: float | None = 3.0

    def __post_init__(self) -> None:
        if self.range_lo > self.range_hi:
            raise ValueError(f"range_lo {self.range_lo} > range_hi {self.range_hi}")
        if self.spike_window < 3 or self.spike_window % 2 == 0:
            raise ValueError(f"spike_window must be odd and >= 3, not {self.spike_window}")
        if self.interval_s <= 0:
            raise ValueError(f"interval_s must be positive, not {self.interval_s}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict of every threshold (tuples become lists)."""
        d = asdict(self)
        d["stuck_exempt"] = list(self.stuck_exempt)
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckConfig:
        """The config of :meth:`to_dict`; missing keys take the element's defaults.

        Raises ``ValueError`` on an unknown key and ``KeyError`` on an unknown element.
        """
        return default_config(str(data["element"])).with_overrides(
            {k: v for k, v in data.items() if k != "element"}
        )

    def with_overrides(self, overrides: Mapping[str, Any]) -> CheckConfig:
        """A copy with some thresholds replaced (a device's own settings)."""
        known = {f.name for f in fields(self)} - {"element"}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(f"unknown check settings: {', '.join(unknown)}")
        changes = dict(overrides)
        if "stuck_exempt" in changes:
            changes["stuck_exempt"] = tuple(float(x) for x in changes["stuck_exempt"])
        return replace(self, **changes)


# Per-element departures from the generic defaults (the generic spike floor is 1 % of the span).
_ELEMENT_DEFAULTS: Final[Mapping[str, Mapping[str, Any]]] = {
    "depth_to_water": {"spike_min_delta": 0.5, "step_per_hour": 5.0},
    "water_level": {"spike_min_delta": 0.5, "step_per_hour": 5.0},
    "water_temperature": {"spike_min_delta": 1.0, "stuck_min_count": None},
    # Pumps start and stop: a short run looks like a spike; a pump at rest reads 0.
    "flow_rate": {
        "spike_mad_k": None,
        "stuck_exempt": (0.0,),
        "stuck_min_seconds": 6 * 3600,
        "negative_flow": True,
    },
    # A register stands still while the pump does: never stuck; it steps, never spikes.
    "cumulative_volume": {"spike_mad_k": None, "stuck_min_count": None, "cumulative": True},
    "battery_voltage": {"stuck_min_count": None},
}


def default_config(element_key: str) -> CheckConfig:
    """The default thresholds for ``element_key``, derived from the canonical elements.

    The physical range is the element's ``plausible`` range; ``cumulative`` follows the
    element; the rest is generic with the per-element exceptions in this module.
    """
    el = element(element_key)
    lo, hi = el.plausible
    base = CheckConfig(
        element=el.key,
        range_lo=lo,
        range_hi=hi,
        spike_min_delta=0.01 * (hi - lo),
        cumulative=el.cumulative,
    )
    return base.with_overrides(_ELEMENT_DEFAULTS.get(el.key, {}))


@dataclass(frozen=True, slots=True)
class MeterReplacement:
    """A registered meter change (换表): time, old meter's final and new meter's initial value."""

    at: int  # epoch seconds
    old_final: float
    new_initial: float


@dataclass(frozen=True, slots=True)
class Finding:
    """One run of consecutive readings (``start``..``end``, inclusive) that failed one check."""

    kind: CheckKind
    start: int
    end: int
    t_start: int
    t_end: int
    value: float
    severity: Severity
    message_zh: str
    message_en: str

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["kind"] = self.kind.name
        return d


@dataclass(frozen=True, slots=True)
class CheckResult:
    """Per-reading ``ReadingFlag`` bits (``flags``) and :class:`CheckKind` bits; the findings."""

    flags: npt.NDArray[np.uint8]
    kinds: npt.NDArray[np.int32]
    findings: list[Finding] = field(default_factory=list)


def _runs(mask: BoolArray) -> list[tuple[int, int]]:
    """The (start, end) inclusive index pairs of the runs of True in ``mask``."""
    if not mask.any():
        return []
    m = np.concatenate(([False], mask, [False]))
    edges = np.flatnonzero(m[1:] != m[:-1])
    return [(int(a), int(b) - 1) for a, b in zip(edges[0::2], edges[1::2], strict=True)]


class _Collector:
    """Accumulates kinds per reading and findings, one finding per run."""

    def __init__(self, times: IntArray, values: FloatArray) -> None:
        self.times = times
        self.values = values
        self.kinds = np.zeros(times.shape[0], dtype=np.int32)
        self.findings: list[Finding] = []

    def mark(
        self,
        kind: CheckKind,
        mask: BoolArray,
        zh: str,
        en: str,
        pick: Literal["first", "max", "min", "absmax"] = "first",
    ) -> None:
        if not mask.any():
            return
        self.kinds[mask] |= int(kind)
        for a, b in _runs(mask):
            self.add(kind, a, b, zh, en, pick)

    def add(
        self,
        kind: CheckKind,
        a: int,
        b: int,
        zh: str,
        en: str,
        pick: Literal["first", "max", "min", "absmax"] = "first",
    ) -> None:
        seg = self.values[a : b + 1]
        if pick == "max":
            v = float(np.nanmax(seg)) if not np.isnan(seg).all() else float("nan")
        elif pick == "min":
            v = float(np.nanmin(seg)) if not np.isnan(seg).all() else float("nan")
        elif pick == "absmax" and not np.isnan(seg).all():
            v = float(seg[int(np.nanargmax(np.abs(seg)))])
        else:
            v = float(seg[0])
        n = b - a + 1
        self.findings.append(
            Finding(
                kind=kind,
                start=a,
                end=b,
                t_start=int(self.times[a]),
                t_end=int(self.times[b]),
                value=v,
                severity=KIND_SEVERITY[kind],
                message_zh=zh.format(n=n, v=v),
                message_en=en.format(n=n, v=v),
            )
        )


def _check_spike(c: _Collector, cfg: CheckConfig) -> None:
    v, t = c.values, c.times
    n = v.shape[0]
    spike = np.zeros(n, dtype=bool)
    w = cfg.spike_window
    if cfg.spike_mad_k is not None and n >= w:
        win = sliding_window_view(v, w)
        med = np.median(win, axis=1)
        mad = np.median(np.abs(win - med[:, None]), axis=1)
        start = np.clip(np.arange(n) - w // 2, 0, n - w)
        limit = np.maximum(cfg.spike_mad_k * _MAD_SCALE * mad[start], cfg.spike_min_delta)
        spike |= np.abs(v - med[start]) > limit
    if cfg.step_per_hour is not None and n >= 3:
        d = np.diff(v)
        allow = cfg.step_per_hour * np.maximum(np.diff(t) / 3600.0, 1.0)
        big = np.abs(d) > allow
        spike[1:-1] |= big[:-1] & big[1:] & (np.sign(d[:-1]) == -np.sign(d[1:]))
    c.mark(
        CheckKind.SPIKE,
        spike,
        "突变：{n} 个读数明显偏离相邻值（{v:g}）",
        "spike: {n} reading(s) depart sharply from their neighbours ({v:g})",
        "first",
    )


def _check_stuck(c: _Collector, cfg: CheckConfig) -> None:
    if cfg.stuck_min_count is None:
        return
    v, t = c.values, c.times
    n = v.shape[0]
    if n < max(cfg.stuck_min_count, 2):
        return
    same = np.abs(np.diff(v)) <= cfg.stuck_tolerance
    if not same.any():
        return
    # Runs of equal neighbours: a run of k True in ``same`` covers k + 1 readings.
    stuck = np.zeros(n, dtype=bool)
    exempt = np.asarray(cfg.stuck_exempt, dtype=np.float64)
    for a, b in _runs(same):
        lo, hi = a, b + 1
        if hi - lo + 1 < cfg.stuck_min_count or t[hi] - t[lo] < cfg.stuck_min_seconds:
            continue
        if exempt.size and bool(np.any(np.abs(exempt - v[lo]) <= cfg.stuck_tolerance)):
            continue
        stuck[lo : hi + 1] = True
    c.mark(
        CheckKind.STUCK,
        stuck,
        "数值不变：连续 {n} 个读数均为 {v:g}",
        "stuck value: {n} consecutive readings of {v:g}",
    )


def _explained(
    t0: int, t1: int, v0: float, v1: float, cfg: CheckConfig, repl: Sequence[MeterReplacement]
) -> bool:
    tol_t, tol_v = cfg.replacement_time_tolerance_s, cfg.replacement_value_tolerance
    return any(
        t0 - tol_t <= r.at <= t1 + tol_t
        and v0 <= r.old_final + tol_v
        and v1 >= r.new_initial - tol_v
        for r in repl
    )


def _check_cumulative(
    c: _Collector, cfg: CheckConfig, replacements: Sequence[MeterReplacement]
) -> None:
    if not cfg.cumulative or c.values.shape[0] < 2:
        return
    v, t = c.values, c.times
    drops = np.flatnonzero(np.diff(v) < -cfg.backwards_tolerance)
    for i in drops.tolist():
        v0, v1 = float(v[i]), float(v[i + 1])
        if _explained(int(t[i]), int(t[i + 1]), v0, v1, cfg, replacements):
            continue
        j = i + 1
        if v1 <= cfg.reset_near_zero:
            kind = CheckKind.RESET
            zh = f"表码归零：{v0:g} → {{v:g}}，无登记的换表记录（疑似破坏或复位）"
            en = f"meter reset: {v0:g} → {{v:g}} with no registered replacement (reset/tamper)"
        else:
            kind = CheckKind.BACKWARDS
            zh = f"表码倒走：{v0:g} → {{v:g}}（疑似人为干扰）"
            en = f"meter running backwards: {v0:g} → {{v:g}} (possible tampering)"
        c.kinds[j] |= int(kind)
        c.add(kind, j, j, zh, en)


def _check_gaps(c: _Collector, cfg: CheckConfig) -> None:
    if cfg.gap_factor is None or c.times.shape[0] < 2:
        return
    dt = np.diff(c.times)
    limit = cfg.gap_factor * cfg.interval_s
    for i in np.flatnonzero(dt > limit).tolist():
        gap = int(dt[i])
        c.findings.append(
            Finding(
                kind=CheckKind.GAP,
                start=i,
                end=i + 1,
                t_start=int(c.times[i]),
                t_end=int(c.times[i + 1]),
                value=float("nan"),
                severity=KIND_SEVERITY[CheckKind.GAP],
                message_zh=f"缺报：{gap} 秒内无数据（上报间隔 {cfg.interval_s} 秒）",
                message_en=f"gap: no report for {gap} s (interval {cfg.interval_s} s)",
            )
        )


def check_series(
    times: npt.ArrayLike,
    values: npt.ArrayLike,
    config: CheckConfig,
    *,
    now: int | None = None,
    replacements: Iterable[MeterReplacement] = (),
) -> CheckResult:
    """Run every check of ``config`` over one device + element series.

    Parameters
    ----------
    times
        Observation times, epoch seconds (int64), non-decreasing.
    values
        The readings (float64), same length; NaN counts as out of range.
    config
        The thresholds (:func:`default_config` and per-device overrides).
    now
        Epoch seconds for the future / too-old checks; ``None`` skips them.
    replacements
        Registered meter replacements of this device (cumulative elements).

    Returns
    -------
    CheckResult
        ``flags`` (``ReadingFlag`` bits: SUSPECT 2, REJECTED 4), ``kinds`` (:class:`CheckKind`
        bits) per reading, and the findings ordered by check then position.

    Raises
    ------
    ValueError
        When the arrays differ in length, are not 1-D, or the times go backwards.
    """
    t = np.asarray(times, dtype=np.int64)
    v = np.asarray(values, dtype=np.float64)
    if t.ndim != 1 or v.shape != t.shape:
        raise ValueError(f"times {t.shape} and values {v.shape} must be 1-D of one length")
    if t.shape[0] > 1 and bool(np.any(np.diff(t) < 0)):
        raise ValueError("times must be non-decreasing")
    c = _Collector(t, v)

    c.mark(
        CheckKind.RANGE,
        ~((v >= config.range_lo) & (v <= config.range_hi)),
        f"超出物理范围 [{config.range_lo:g}, {config.range_hi:g}]：{{n}} 个读数（{{v:g}}）",
        f"out of the physical range [{config.range_lo:g}, {config.range_hi:g}]: "
        "{n} reading(s) ({v:g})",
        "absmax",
    )
    if config.negative_flow:
        c.mark(
            CheckKind.NEGATIVE_FLOW,
            v < -config.negative_tolerance,
            "负流量：{n} 个读数（最小 {v:g}），疑似反向流动或接线错误",
            "negative flow: {n} reading(s) (lowest {v:g}), reverse flow or wiring fault",
            "min",
        )
    with np.errstate(invalid="ignore"):  # inf - inf in a window of garbage: not a spike
        _check_spike(c, config)
        _check_stuck(c, config)
    _check_cumulative(c, config, tuple(replacements))
    if now is not None:
        c.mark(
            CheckKind.FUTURE,
            t > now + config.future_tolerance_s,
            "时间超前：{n} 个读数的时间晚于当前时间",
            "timestamp in the future: {n} reading(s)",
        )
        if config.max_age_s is not None:
            c.mark(
                CheckKind.TOO_OLD,
                t < now - config.max_age_s,
                "时间过旧：{n} 个读数早于允许的时限",
                "timestamp too old: {n} reading(s)",
            )
    _check_gaps(c, config)

    flags = np.zeros(t.shape[0], dtype=np.uint8)
    for bit in (SUSPECT, REJECTED):
        mask = sum(int(k) for k, b in KIND_FLAG.items() if b == bit)
        flags[(c.kinds & mask) != 0] |= np.uint8(bit)
    return CheckResult(flags=flags, kinds=c.kinds, findings=c.findings)
