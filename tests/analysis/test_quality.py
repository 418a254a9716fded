"""GB/T 14848-2017 classification: every special case of reference/standards.md §1."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from aquifer.analysis import quality
from aquifer.analysis.quality import (
    NON_DETECT_BOUNDED,
    NUCLIDE_ANALYSIS,
    Measurement,
    QualityError,
    UnitError,
    UnknownIndicatorError,
    classify,
    classify_sample,
    classify_values,
    convert,
    find_indicator,
    load_standard,
    parse_condition,
)

CSV = Path(quality.__file__).parent / "data" / "gbt14848_2017.csv"


def test_the_whole_table_parses() -> None:
    std = load_standard()
    assert len(std) == 93
    assert sum(1 for i in std.values() if i.table == 1) == 39
    with CSV.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            ind = std[row["indicator_cn"]]
            assert [c.printed for c in ind.conditions] == [row[f"class{k}"] for k in range(1, 6)]
            # Every class has a value that falls in it, or shares its condition with a better one.
            assert find_indicator(row["indicator_en"]) is ind


def test_every_le_indicator_at_its_limits() -> None:
    for ind in load_standard().values():
        for _k, cond in enumerate(ind.conditions, start=1):
            if cond.upper is not None:
                first = min(j for j, c in enumerate(ind.conditions, 1) if c.upper == cond.upper)
                assert classify(ind, cond.upper, ind.units()[0]).klass == first, ind.name_cn
        last = ind.conditions[3].upper
        if last is not None and not ind.qualitative:
            assert classify(ind, last * 1.01, ind.units()[0]).klass == 5, ind.name_cn


def test_better_class_where_limits_are_shared() -> None:
    # §6.2 从优不从劣: volatile phenols 0.001 mg/L is class I, not II.
    assert classify("挥发性酚类（以苯酚计）", 0.001, "mg/L").klass == 1
    assert classify("挥发性酚类（以苯酚计）", 0.0011, "mg/L").klass == 3
    assert classify("铊", 0.0001, "mg/L").klass == 1  # I, II, III share 0.0001


@pytest.mark.parametrize(
    ("ph", "klass"),
    [(5.49, 5), (5.5, 4), (6.49, 4), (6.5, 1), (7.0, 1), (8.5, 1), (8.51, 4), (9.0, 4), (9.01, 5)],
)
def test_ph_two_sided_half_open(ph: float, klass: int) -> None:
    assert classify("pH", ph).klass == klass
    assert classify_values("pH", [ph])[0] == klass


def test_none_and_present() -> None:
    for name in ("嗅和味", "肉眼可见物", "Odour and taste"):
        assert classify(name, "无").label == "I"
        assert classify(name, "有").label == "V"
    with pytest.raises(QualityError):
        classify("嗅和味", 0.3)


def test_not_detected_surfactant() -> None:
    name = "阴离子表面活性剂"
    assert classify(name, None, "mg/L", 0.05).klass == 1
    assert classify(name, "未检出", "mg/L", 0.05).klass == 1
    assert classify(name, 0.05, "mg/L").klass == 2  # detected: class I impossible
    assert classify(name, 0.3, "mg/L").klass == 3  # III and IV share 0.3
    assert classify(name, 0.31, "mg/L").klass == 5


def test_radioactive_iv_and_v_identical() -> None:
    r = classify("总α放射性", 0.6, "Bq/L")
    assert r.klass == 4 and NUCLIDE_ANALYSIS in r.notes
    assert classify("总β放射性", 1.0, "Bq/L").klass == 2
    assert classify("总β放射性", 50, "Bq/L").klass == 4
    assert NUCLIDE_ANALYSIS not in classify("总β放射性", 1.0, "Bq/L").notes
    assert classify("总α放射性", 600, "mBq/L").klass == 4


def test_non_detects() -> None:
    assert classify("铅", None, "mg/L", 0.005).label == "I"  # DL ≤ class I limit
    r = classify("铅", "ND", "mg/L", 0.01)
    assert r.klass is None and r.label == "≤III" and NON_DETECT_BOUNDED in r.notes
    assert classify("铅", "<0.001", "mg/L").label == "I"
    with pytest.raises(QualityError) as e:
        classify("铅", None, "mg/L")
    assert e.value.field == "detection_limit"
    # Bounded results are left out of the sample's class.
    s = classify_sample("S", [Measurement("铅", None, "mg/L", 0.05), Measurement("pH", 7.0)])
    assert s.label == "I" and s.deciding == ("pH",)
    s = classify_sample("S", [Measurement("铅", None, "mg/L", 0.05)])
    assert s.klass is None and s.deciding == ()


def test_unit_conversion_exact() -> None:
    benzene = find_indicator("苯")
    assert convert(0.0005, "mg/L", benzene) == 0.5
    assert classify("苯", 0.0005, "mg/L").klass == 1  # exactly at the 0.5 μg/L limit
    assert classify("苯", 0.00051, "mg/L").klass == 2
    assert classify("汞", 0.1, "µg/L").klass == 1  # micro sign, U+00B5
    assert classify("汞", 0.1, "ug/L").klass == 1
    assert classify("铁", 0.0003, "g/L").klass == 3
    assert classify("菌落总数", 10_000, "CFU/100mL").klass == 1  # 100 CFU/mL
    assert classify("总大肠菌群", 3, "MPN/100mL").klass == 1
    assert classify("总大肠菌群", 3, "CFU/100mL").klass == 1  # the standard prints either


@pytest.mark.parametrize(
    ("name", "unit"),
    [
        ("菌落总数", "MPN/mL"),  # MPN is not CFU
        ("铁", "Bq/L"),
        ("铁", "mmol/L"),  # needs the molar mass: not a unit conversion
        ("硝酸盐（以N计）", "mg/L(以NO3计)"),
        ("浑浊度", "度"),  # ambiguous
        ("浑浊度", "mg/L"),
        ("pH", "mg/L"),
        ("苯", ""),
    ],
)
def test_unit_refused(name: str, unit: str) -> None:
    with pytest.raises(UnitError) as e:
        classify(name, 1.0, unit)
    assert e.value.field == "unit"


def test_unknown_indicator_and_bad_values() -> None:
    with pytest.raises(UnknownIndicatorError):
        classify("铀", 1.0, "mg/L")
    with pytest.raises(QualityError):
        classify("铁", "abc", "mg/L")
    with pytest.raises(QualityError):
        classify("铁", -1, "mg/L")
    assert find_indicator("总硬度").name_cn == "总硬度（以CaCO3计）"
    assert find_indicator("total hardness (as caco3)").name_cn == "总硬度（以CaCO3计）"


def test_parse_condition_forms() -> None:
    c = parse_condition("5.5≤pH<6.5或8.5<pH≤9.0")
    assert [c.contains(v) for v in (5.5, 6.5, 8.5, 9.0)] == [True, False, False, True]
    with pytest.raises(ValueError):
        parse_condition("≈3")


def test_sample_class_names_the_deciding_indicators() -> None:
    s = classify_sample(
        "W1",
        [
            Measurement("pH", 9.0),
            Measurement("铁", 0.5, "mg/L"),
            Measurement("硝酸盐（以N计）", 3, "mg/L"),
        ],
    )
    assert s.label == "IV" and s.deciding == ("pH", "铁")
    with pytest.raises(QualityError):
        classify_sample("W1", [Measurement("pH", 7.0), Measurement("pH", 7.1)])


NUMERIC = [i for i in load_standard().values() if not i.qualitative and not i.is_ph]


@given(
    st.lists(
        st.tuples(
            st.sampled_from(NUMERIC), st.floats(min_value=0, max_value=5000, allow_nan=False)
        ),
        min_size=1,
        max_size=20,
        unique_by=lambda t: t[0].name_cn,
    )
)
def test_overall_class_is_the_worst(items: list[tuple[quality.Indicator, float]]) -> None:
    ms = [Measurement(i.name_cn, v, i.units()[0]) for i, v in items]
    s = classify_sample("H", ms)
    classes = [r.klass for r in s.indicators]
    assert s.klass == max(c for c in classes if c is not None)
    assert set(s.deciding) == {r.indicator for r in s.indicators if r.klass == s.klass}


@given(st.sampled_from(list(load_standard().values())), st.floats(0, 2000, allow_nan=False))
def test_vectorised_agrees_with_scalar(ind: quality.Indicator, v: float) -> None:
    if ind.qualitative:
        code = float(v > 1)
        assert classify_values(ind, [code])[0] == classify(ind, "有" if code else "无").klass
        return
    if ind.is_ph:
        v = v / 100  # pH 0–20
    scalar = classify(ind, v, ind.units()[0] if ind.units() else "").klass
    assert classify_values(ind, np.array([v]))[0] == scalar
