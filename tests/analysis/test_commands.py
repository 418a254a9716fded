"""``aquifer trend`` and ``aquifer quality classify`` through call_command."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

TREND_KEYS = {"trend", "p", "tau", "z", "slope_per_year", "status"}


def run(*args: str) -> object:
    out = StringIO()
    call_command(*args, stdout=out)
    return json.loads(out.getvalue())


def write(tmp_path: Path, text: str) -> str:
    p = tmp_path / "in.csv"
    p.write_text(text, encoding="utf-8")
    return str(p)


def series_csv(tmp_path: Path, months: int = 60) -> str:
    rng = np.random.default_rng(6)
    lines = ["time,value"]
    for m in range(months):
        y, mo = divmod(m, 12)
        lines.append(f"{2018 + y}-{mo + 1:02d}-15,{30 - 0.02 * m + rng.normal(0, 0.02):.3f}")
    return write(tmp_path, "\n".join(lines) + "\n")


def test_trend_prints_the_keys(tmp_path: Path) -> None:
    out = run("trend", series_csv(tmp_path))
    assert isinstance(out, dict) and set(out) >= TREND_KEYS
    assert out["trend"] == "decreasing" and out["status"] == "rising"  # depth falls
    assert out["slope_per_year"] == pytest.approx(-0.24, abs=0.02)
    level = run("trend", series_csv(tmp_path), "--value-is", "level")
    assert isinstance(level, dict) and level["status"] == "falling"


def test_trend_not_enough_data(tmp_path: Path) -> None:
    out = run("trend", write(tmp_path, "time,value\n2024-01-01,3\n2024-02-01,4\n"))
    assert isinstance(out, dict) and out["trend"] == "not enough data" and out["p"] is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("when,value\n2024-01-01,3\n", "第 1 行：缺少列 “time”"),
        ("time,value\n2024-01-01,3\n2024-13-01,4\n", "第 3 行，列 “time”"),
        ("time,value\n2024-01-01,3\n2024-02-01,abc\n", "第 3 行，列 “value”"),
    ],
)
def test_trend_bad_rows(tmp_path: Path, text: str, message: str) -> None:
    with translation.override("zh-hans"), pytest.raises(CommandError) as e:
        call_command("trend", write(tmp_path, text), stdout=StringIO())
    assert message in str(e.value) and e.value.returncode == 1
    assert "\n" not in str(e.value)


SAMPLES = """sample_id,indicator,value,unit,detection_limit
W1,pH,9.0,,
W1,挥发性酚类（以苯酚计）,0.001,mg/L,
W1,铅,,mg/L,0.01
W1,铁,2.5,mg/L,
W2,Benzene,0.0005,mg/L,
W2,总α放射性,0.6,Bq/L,
"""


def test_quality_classify(tmp_path: Path) -> None:
    out = run("quality", "classify", write(tmp_path, SAMPLES))
    assert isinstance(out, list) and [s["sample_id"] for s in out] == ["W1", "W2"]
    w1, w2 = out
    assert set(w1) >= {"sample_id", "class", "deciding", "indicators"}
    assert w1["class"] == "V" and w1["deciding"] == ["铁"]
    assert w1["indicators"] == {
        "pH": "IV",
        "挥发性酚类（以苯酚计）": "I",
        "铅": "≤III",
        "铁": "V",
    }
    assert w2["class"] == "IV" and w2["deciding"] == ["总α放射性"]
    assert w2["indicators"]["苯"] == "I"


HEADER = "sample_id,indicator,value,unit,detection_limit\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sample_id,indicator,value,unit\nW,pH,7,,\n", "第 1 行：缺少列 “detection_limit”"),
        (HEADER + "W,pH,7,,\nW,铀,1,mg/L,\n", "第 3 行，列 “indicator”"),
        (HEADER + "W,铁,abc,mg/L,\n", "第 2 行，列 “value”"),
        (HEADER + "W,铁,1,mmol/L,\n", "第 2 行，列 “unit”"),
        (HEADER + "W,铁,,mg/L,x\n", "第 2 行，列 “detection_limit”"),
        (HEADER + "W,铁,,mg/L,\n", "第 2 行，列 “detection_limit”"),
        (HEADER + "W,铁,1,mg/L,\nW,铁,2,mg/L,\n", "第 3 行，列 “indicator”"),
        (HEADER + ",铁,1,mg/L,\n", "第 2 行，列 “sample_id”"),
    ],
)
def test_quality_bad_rows(tmp_path: Path, text: str, message: str) -> None:
    with translation.override("zh-hans"), pytest.raises(CommandError) as e:
        call_command("quality", "classify", write(tmp_path, text), stdout=StringIO())
    assert message in str(e.value) and e.value.returncode == 1


def test_messages_in_english(tmp_path: Path) -> None:
    with translation.override("en"), pytest.raises(CommandError) as e:
        call_command("trend", write(tmp_path, "time,value\n2024-01-01,x\n"), stdout=StringIO())
    assert str(e.value).startswith("Row 2, column “value”: not a number")
