"""Groundwater quality classes I–V after GB/T 14848-2017 地下水质量标准.

Pure functions over plain data (no Django). The class limits are the standard's Tables 1 and 2
(93 indicators), read from the package's ``data/gbt14848_2017.csv`` with the conditions as
printed (``≤0.10``, ``>25``, ``6.5≤pH≤8.5``, ``5.5≤pH<6.5或8.5<pH≤9.0``, ``无``/``有``,
``不得检出``).

Rules implemented (GB/T 14848-2017; see ``docs/analysis.md``):

- §6.2 single-indicator evaluation: "按指标值所在的限值范围确定地下水质量类别，指标限值相同时，
  从优不从劣" — the classes are tested I → V in order and the first whose condition holds is
  the class. Where two classes share a limit the better one wins (volatile phenols 0.001 mg/L
  is class I, not II).
- pH: I–III ``6.5≤pH≤8.5``, IV ``5.5≤pH<6.5`` or ``8.5<pH≤9.0``, V ``pH<5.5`` or ``pH>9.0``:
  6.5 and 8.5 are class I, 5.5 and 9.0 class IV.
- 嗅和味, 肉眼可见物: I–IV 无 (none), V 有 (present).
- 阴离子表面活性剂: class I 不得检出 (not detected) — a detected value is at best class II.
- §6.3 overall evaluation: "按单指标评价结果最差的类别确定，并指出最差类别的指标" — the sample's
  class is its worst indicator's, and those indicators are named.

Conventions of this system (not in the standard, documented as design choices):

- Radioactive indicators (总α放射性, 总β放射性) print the same condition for IV and V; 从优不从劣
  gives class IV, and a result above class III carries the note ``NUCLIDE_ANALYSIS`` (footnote
  "超过指导值应进行核素分析和评价").
- Non-detects: a detection limit at or below the class I limit is class I; otherwise the result
  is only "≤ class X" (the best class whose limit the detection limit does not exceed), carries
  the note ``NON_DETECT_BOUNDED`` and is left out of the sample's class.
- Units: a value in another unit than the standard's is converted only when the conversion is
  exact and unambiguous (mass concentration g/L, mg/L, μg/L, ng/L; Bq/L, mBq/L; counts per mL,
  per 100 mL, per L of the same kind). 总大肠菌群's limits are printed for "MPN/100mL或CFU/100mL",
  so both are accepted for it; MPN is never converted to CFU elsewhere. Anything else raises
  :class:`UnitError` — never guessed.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = [
    "CLASS_LABELS",
    "NON_DETECT_BOUNDED",
    "NUCLIDE_ANALYSIS",
    "Condition",
    "Indicator",
    "IndicatorResult",
    "Measurement",
    "QualityError",
    "SampleResult",
    "UnitError",
    "UnknownIndicatorError",
    "classify",
    "classify_sample",
    "classify_values",
    "convert",
    "find_indicator",
    "load_standard",
    "overall_class",
    "parse_condition",
]

#: Class numbers 1–5 as the standard prints them.
CLASS_LABELS: Final = {1: "I", 2: "II", 3: "III", 4: "IV", 5: "V"}

#: Note on a radioactive result above class III (GB/T 14848-2017 Table 1, footnote d [U]).
NUCLIDE_ANALYSIS: Final = "nuclide_analysis_required"
#: Note on a non-detect whose detection limit is above the class I limit: "≤ class X" only.
NON_DETECT_BOUNDED: Final = "non_detect_bounded"

#: Qualitative values (嗅和味, 肉眼可见物) and their encoding: 0 = 无 (none), 1 = 有 (present).
QUALITATIVE: Final = {
    "无": 0.0,
    "none": 0.0,
    "absent": 0.0,
    "有": 1.0,
    "present": 1.0,
}


class QualityError(ValueError):
    """Input that cannot be classified; ``field`` names the offending input field."""

    def __init__(self, message: str, field: str = "value") -> None:
        super().__init__(message)
        self.field = field


class UnknownIndicatorError(QualityError):
    """An indicator name that is not in GB/T 14848-2017."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "indicator")


class UnitError(QualityError):
    """A unit that cannot be converted exactly and unambiguously to the standard's."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "unit")


# --- Conditions -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Interval:
    """``lo (<|≤) v (<|≤) hi``."""

    lo: float
    hi: float
    lo_closed: bool
    hi_closed: bool

    def holds(self, v: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
        above = v >= self.lo if self.lo_closed else v > self.lo
        below = v <= self.hi if self.hi_closed else v < self.hi
        return np.asarray(above & below)

    def contains(self, v: float) -> bool:
        above = v >= self.lo if self.lo_closed else v > self.lo
        below = v <= self.hi if self.hi_closed else v < self.hi
        return above and below


@dataclass(frozen=True, slots=True)
class Condition:
    """One class's printed condition, as a union of intervals over the value.

    Qualitative conditions are intervals over the encoding 无 = 0, 有 = 1. ``不得检出`` (not
    detected) has no interval: no detected value satisfies it, every non-detect does.
    """

    printed: str
    intervals: tuple[Interval, ...]
    not_detected: bool = False

    def holds(self, v: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
        out = np.zeros(v.shape, dtype=bool)
        for interval in self.intervals:
            out |= interval.holds(v)
        return out

    def contains(self, v: float) -> bool:
        return any(interval.contains(v) for interval in self.intervals)

    @property
    def upper(self) -> float | None:
        """The upper limit of a one-sided ``≤x`` condition, else ``None``."""
        if len(self.intervals) == 1 and self.intervals[0].lo == -math.inf:
            iv = self.intervals[0]
            return iv.hi if iv.hi_closed else None
        return None


_NUM = r"(\d+(?:\.\d+)?)"
_BOUND = re.compile(rf"^(?:{_NUM}(≤|<))?pH(?:(≤|<|≥|>){_NUM})?$")


def parse_condition(printed: str) -> Condition:
    """Parse one printed class condition of GB/T 14848-2017.

    Parameters
    ----------
    printed : str
        As in the standard's tables: ``≤x``, ``>x``, ``无``, ``有``, ``不得检出``, or a pH range
        such as ``6.5≤pH≤8.5`` or ``5.5≤pH<6.5或8.5<pH≤9.0`` ("或" = or).

    Returns
    -------
    Condition

    Raises
    ------
    ValueError
        For anything else.
    """
    text = printed.strip().replace(" ", "")
    inf = math.inf
    if text == "无":
        return Condition(printed, (Interval(0.0, 0.0, True, True),))
    if text == "有":
        return Condition(printed, (Interval(0.0, inf, False, False),))
    if text == "不得检出":
        return Condition(printed, (), not_detected=True)
    if m := re.fullmatch(rf"≤{_NUM}", text):
        return Condition(printed, (Interval(-inf, float(m[1]), False, True),))
    if m := re.fullmatch(rf">{_NUM}", text):
        return Condition(printed, (Interval(float(m[1]), inf, False, False),))
    intervals = []
    for part in text.split("或"):
        b = _BOUND.fullmatch(part)
        if b is None or (b[1] is None and b[4] is None):
            raise ValueError(f"unrecognised GB/T 14848 condition: {printed!r}")
        if b[3] in ("≥", ">"):  # pH>9.0: a lower bound written after the variable
            if b[1] is not None:
                raise ValueError(f"unrecognised GB/T 14848 condition: {printed!r}")
            intervals.append(Interval(float(b[4]), inf, b[3] == "≥", False))
            continue
        lo = float(b[1]) if b[1] is not None else -inf
        hi = float(b[4]) if b[4] is not None else inf
        intervals.append(Interval(lo, hi, b[2] == "≤", b[3] == "≤"))
    return Condition(printed, tuple(intervals))


# --- Indicators -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Indicator:
    """One indicator of GB/T 14848-2017 Table 1 or 2 and its five class conditions."""

    name_cn: str
    name_en: str
    unit: str
    table: int
    group: str
    conditions: tuple[Condition, Condition, Condition, Condition, Condition]

    @property
    def qualitative(self) -> bool:
        """无/有 indicators (嗅和味, 肉眼可见物)."""
        return self.conditions[0].printed == "无"

    @property
    def is_ph(self) -> bool:
        return self.name_cn == "pH"

    @property
    def radioactive(self) -> bool:
        return self.group == "radioactive"

    def units(self) -> tuple[str, ...]:
        """The units the standard prints for this indicator ("或" = either)."""
        return tuple(u for u in self.unit.split("或") if u)


@cache
def load_standard() -> Mapping[str, Indicator]:
    """The 93 indicators of GB/T 14848-2017, keyed by their Chinese name (as printed).

    Read once from the package's ``data/gbt14848_2017.csv`` (see ``data/README.md``).
    """
    text = resources.files("aquifer.analysis").joinpath("data/gbt14848_2017.csv").read_text("utf-8")
    out: dict[str, Indicator] = {}
    for row in csv.DictReader(text.splitlines()):
        c = tuple(parse_condition(row[f"class{k}"]) for k in range(1, 6))
        out[row["indicator_cn"]] = Indicator(
            name_cn=row["indicator_cn"],
            name_en=row["indicator_en"],
            unit=row["unit"],
            table=int(row["table"]),
            group=row["group"],
            conditions=(c[0], c[1], c[2], c[3], c[4]),
        )
    return out


def _key(name: str) -> str:
    return (
        name.strip()
        .casefold()
        .replace("（", "(")
        .replace("）", ")")
        .replace(" ", "")
        .replace("'", "")
    )


@cache
def _names() -> dict[str, Indicator]:
    names: dict[str, Indicator] = {}
    for ind in load_standard().values():
        for name in (ind.name_cn, ind.name_en):
            names[_key(name)] = ind
            # 总硬度（以CaCO3计） is also written 总硬度; Colour (…) also Colour.
            short = re.sub(r"\(.*\)$", "", _key(name))
            names.setdefault(short, ind)
    return names


def find_indicator(name: str) -> Indicator:
    """The indicator named ``name``: its Chinese name in the standard (``indicator_cn``) or its
    English name (``indicator_en``), full-width brackets and case ignored; the name without its
    trailing bracket ("总硬度" for "总硬度（以CaCO3计）") is accepted when unambiguous.

    Raises
    ------
    UnknownIndicatorError
    """
    ind = _names().get(_key(name))
    if ind is None:
        raise UnknownIndicatorError(f"not a GB/T 14848-2017 indicator: {name!r}")
    return ind


# --- Units ----------------------------------------------------------------------------------

#: Exact factors to a base unit, as powers of ten, per kind of quantity. A unit converts only
#: within its kind; the arithmetic is decimal, so 500 μg/L is exactly 0.5 mg/L.
_UNIT_KINDS: Final[dict[str, dict[str, int]]] = {
    "mass concentration": {"g/l": 3, "mg/l": 0, "μg/l": -3, "ng/l": -6},
    "activity concentration": {"bq/l": 0, "mbq/l": -3},
    "cfu": {"cfu/ml": 2, "cfu/100ml": 0, "cfu/l": -1},
    "mpn": {"mpn/ml": 2, "mpn/100ml": 0, "mpn/l": -1},
    "turbidity": {"ntu": 0},
    "colour": {"铂钴色度单位": 0, "pcu": 0, "pt-co": 0, "hazen": 0},
}


def _unit_key(unit: str) -> str:
    u = unit.strip().replace(" ", "").replace("µ", "μ").casefold()
    if u.startswith("u") and u[1:] in ("g/l",):
        u = "μ" + u[1:]
    return u


def _kind(unit: str) -> tuple[str, int] | None:
    u = _unit_key(unit)
    for kind, factors in _UNIT_KINDS.items():
        if u in factors:
            return kind, factors[u]
    return None


def convert(value: float, unit: str, indicator: Indicator) -> float:
    """``value`` in ``unit`` expressed in ``indicator``'s unit, exactly, or :class:`UnitError`.

    Parameters
    ----------
    value : float
    unit : str
        The reported unit; an empty unit is accepted only for dimensionless and qualitative
        indicators.
    indicator : Indicator

    Notes
    -----
    Converts g/L ↔ mg/L ↔ μg/L ↔ ng/L, Bq/L ↔ mBq/L, and counts per mL / 100 mL / L of the same
    kind (CFU or MPN). 总大肠菌群 accepts MPN/100mL and CFU/100mL alike because the standard
    prints its limits for either; MPN and CFU are otherwise different quantities and are never
    converted into each other. Qualified units ("mg/L (以NO3计)") are refused: the standard's
    forms "以N计" etc. fix what the number means, and re-expressing it is chemistry, not units.
    """
    if indicator.qualitative:
        if _unit_key(unit) in ("", "无量纲"):
            return value
        raise UnitError(f"{indicator.name_cn} is qualitative (无/有) and has no unit, got {unit!r}")
    if indicator.is_ph:
        if _unit_key(unit) in ("", "无量纲", "ph"):
            return value
        raise UnitError(f"pH is dimensionless, got unit {unit!r}")
    got = _kind(unit)
    if got is None:
        raise UnitError(f"unknown unit {unit!r} (the standard's unit is {indicator.unit})")
    for target in indicator.units():
        want = _kind(target)
        if want is not None and want[0] == got[0]:
            if got[1] == want[1]:
                return value
            return float(Decimal(repr(value)).scaleb(got[1] - want[1]))
    raise UnitError(
        f"cannot convert {unit!r} to {indicator.unit} for {indicator.name_cn} "
        "(no exact, unambiguous conversion)"
    )


# --- Classification -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Measurement:
    """One lab result: a value (number, or 无/有) or a non-detect with its detection limit."""

    indicator: str
    value: float | str | None
    unit: str = ""
    detection_limit: float | None = None


@dataclass(frozen=True, slots=True)
class IndicatorResult:
    """One indicator's class.

    ``klass`` is 1–5 for a definite class; ``None`` for a bounded non-detect, whose class is
    only known to be at best ``bound`` ("≤ class ``bound``") and which does not count towards
    the sample's class.
    """

    indicator: str
    value: float | None
    unit: str
    klass: int | None
    bound: int | None = None
    non_detect: bool = False
    notes: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """ "I" … "V", or "≤II" … "≤V" for a bounded non-detect."""
        if self.klass is not None:
            return CLASS_LABELS[self.klass]
        assert self.bound is not None
        return "≤" + CLASS_LABELS[self.bound]


@dataclass(frozen=True, slots=True)
class SampleResult:
    """A sample's class after §6.3: the worst definite indicator class, and which set it."""

    sample_id: str
    klass: int | None
    deciding: tuple[str, ...]
    indicators: tuple[IndicatorResult, ...] = field(default_factory=tuple)

    @property
    def label(self) -> str | None:
        return None if self.klass is None else CLASS_LABELS[self.klass]

    @property
    def notes(self) -> tuple[str, ...]:
        return tuple(sorted({n for r in self.indicators for n in r.notes}))


def _first_class(indicator: Indicator, v: float) -> int:
    for k, cond in enumerate(indicator.conditions, start=1):
        if cond.contains(v):
            return k
    raise QualityError(f"{v} satisfies no class condition of {indicator.name_cn}")


def _notes(indicator: Indicator, klass: int) -> tuple[str, ...]:
    return (NUCLIDE_ANALYSIS,) if indicator.radioactive and klass >= 4 else ()


def _number(value: float | str, what: str) -> float:
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise QualityError(f"not a number: {value!r}", what) from None
    if not math.isfinite(value):
        raise QualityError(f"not a finite number: {value!r}", what)
    return float(value)


def classify(
    indicator: str | Indicator,
    value: float | str | None,
    unit: str = "",
    detection_limit: float | None = None,
) -> IndicatorResult:
    """Classify one indicator value I–V after GB/T 14848-2017 §6.2 (从优不从劣).

    Parameters
    ----------
    indicator : str or Indicator
        Chinese (``indicator_cn``) or English name, see :func:`find_indicator`.
    value : float, str or None
        The result in ``unit``; 无/有 for the qualitative indicators; ``None`` (or "ND",
        "未检出") for a non-detect, which needs ``detection_limit``; "<x" is a non-detect with
        detection limit x.
    unit : str
        Converted to the standard's unit by :func:`convert`.
    detection_limit : float, optional
        In ``unit``. Only used for non-detects.

    Returns
    -------
    IndicatorResult
        The value in the standard's unit, the class, and notes (:data:`NUCLIDE_ANALYSIS`,
        :data:`NON_DETECT_BOUNDED`).

    Examples
    --------
    >>> classify("挥发性酚类（以苯酚计）", 0.001, "mg/L").label
    'I'
    >>> classify("pH", 9.0).label
    'IV'
    >>> classify("铅", None, "mg/L", detection_limit=0.01).label
    '≤III'
    """
    ind = indicator if isinstance(indicator, Indicator) else find_indicator(indicator)
    if isinstance(value, str):
        text = value.strip()
        if ind.qualitative:
            code = QUALITATIVE.get(text.casefold())
            if code is None:
                raise QualityError(f"{ind.name_cn} takes 无 or 有, got {value!r}")
            convert(code, unit, ind)
            k = _first_class(ind, code)
            return IndicatorResult(ind.name_cn, code, "", k)
        if text.upper() in ("", "ND", "N.D.") or text == "未检出":
            value = None
        elif text.startswith("<"):
            value, detection_limit = None, _number(text[1:], "value")
    if ind.qualitative:
        raise QualityError(f"{ind.name_cn} takes 无 or 有, got {value!r}")
    if value is None:
        return _non_detect(ind, unit, detection_limit)
    v = convert(_number(value, "value"), unit, ind)
    if v < 0 and not ind.is_ph:
        raise QualityError(f"negative value {value!r}")
    k = _first_class(ind, v)
    return IndicatorResult(ind.name_cn, v, ind.unit, k, notes=_notes(ind, k))


def _non_detect(ind: Indicator, unit: str, detection_limit: float | None) -> IndicatorResult:
    if ind.is_ph:
        raise QualityError("pH cannot be a non-detect")
    if detection_limit is None:
        raise QualityError("a non-detect needs its detection limit", "detection_limit")
    dl = convert(_number(detection_limit, "detection_limit"), unit, ind)
    std_unit = ind.unit
    if ind.conditions[0].not_detected:
        # 不得检出: not detected is class I by definition.
        return IndicatorResult(ind.name_cn, None, std_unit, 1, non_detect=True)
    # Best class all of whose values in [0, dl] satisfy the condition: first ≤-limit ≥ dl.
    for k, cond in enumerate(ind.conditions, start=1):
        upper = cond.upper
        if upper is not None and dl <= upper:
            if k == 1:
                return IndicatorResult(ind.name_cn, None, std_unit, 1, non_detect=True)
            return IndicatorResult(
                ind.name_cn,
                None,
                std_unit,
                None,
                bound=k,
                non_detect=True,
                notes=(NON_DETECT_BOUNDED,),
            )
    worst = max(k for k, c in enumerate(ind.conditions, start=1) if c.intervals)
    return IndicatorResult(
        ind.name_cn, None, std_unit, None, bound=worst, non_detect=True, notes=(NON_DETECT_BOUNDED,)
    )


def overall_class(results: Iterable[IndicatorResult]) -> tuple[int | None, tuple[str, ...]]:
    """GB/T 14848-2017 §6.3: the worst definite class and the indicators that have it.

    Bounded non-detects (``klass is None``) are left out. ``(None, ())`` if nothing is definite.
    """
    definite = [r for r in results if r.klass is not None]
    if not definite:
        return None, ()
    worst = max(r.klass for r in definite if r.klass is not None)
    return worst, tuple(r.indicator for r in definite if r.klass == worst)


def classify_sample(sample_id: str, measurements: Iterable[Measurement]) -> SampleResult:
    """Classify every measurement of one sample and the sample itself (§6.2, §6.3).

    Raises
    ------
    QualityError
        On the first measurement that cannot be classified, or an indicator given twice.
    """
    results: list[IndicatorResult] = []
    seen: set[str] = set()
    for m in measurements:
        r = classify(m.indicator, m.value, m.unit, m.detection_limit)
        if r.indicator in seen:
            raise QualityError(f"{r.indicator} given twice in sample {sample_id}", "indicator")
        seen.add(r.indicator)
        results.append(r)
    klass, deciding = overall_class(results)
    return SampleResult(sample_id, klass, deciding, tuple(results))


def classify_values(
    indicator: str | Indicator, values: Sequence[float] | npt.NDArray[np.float64]
) -> npt.NDArray[np.int8]:
    """Vectorised §6.2 for many detected values of one indicator, already in its unit.

    The same conditions as :func:`classify`, tested I → V on whole arrays: the class of each
    value is the first whose condition holds (qualitative indicators take 0 = 无, 1 = 有).
    Non-detects, unit conversion and notes are :func:`classify`'s business.

    Returns
    -------
    numpy.ndarray of int8
        Classes 1–5; 0 where no condition holds (NaN).
    """
    ind = indicator if isinstance(indicator, Indicator) else find_indicator(indicator)
    v = np.asarray(values, dtype=np.float64)
    out = np.zeros(v.shape, dtype=np.int8)
    for k in range(5, 0, -1):  # the better class, tested later, overwrites: 从优不从劣
        out[ind.conditions[k - 1].holds(v)] = k
    return out
