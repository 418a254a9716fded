"""Recovery in the bulletin's classes (issue 16, point 6)."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from aquifer.analysis.models import LevelMeasurement
from aquifer.closure import recovery
from aquifer.closure.classes import RecoveryClass, classify, rise


def test_classes_and_bounds() -> None:
    assert classify(0.6, 0.5, 0.5) is RecoveryClass.RISE
    assert classify(0.5, 0.5, 0.5) is RecoveryClass.RISE
    assert classify(0.0, 0.5, 0.5) is RecoveryClass.SLIGHT_RISE
    assert classify(-0.1, 0.5, 0.5) is RecoveryClass.SLIGHT_FALL
    assert classify(-0.5, 0.5, 0.5) is RecoveryClass.FALL
    assert classify(None, 0.5, 0.5) is None
    with pytest.raises(ValueError):
        classify(1.0, 0.0, 0.5)
    assert rise(12.0, 11.0, "depth") == 1.0 and rise(100.0, 99.0, "level") == -1.0


@given(st.floats(-50, 50), st.floats(0.01, 5), st.floats(0.01, 5))
def test_classes_are_ordered(change: float, up: float, down: float) -> None:
    order = list(RecoveryClass)[::-1]  # fall < slight fall < slight rise < rise
    a, b = classify(change, up, down), classify(change + 1.0, up, down)
    assert a is not None and b is not None and order.index(b) >= order.index(a)


def _sound(mw: Any, on: dt.date, depth: float) -> None:
    at = timezone.make_aware(dt.datetime(on.year, on.month, on.day, 9))
    LevelMeasurement.objects.create(
        monitoring_well=mw, element="depth_to_water", measured_at=at, value=depth
    )


def test_report_per_well_and_township(world: Any, settings: Any) -> None:
    settings.AQUIFER = {**settings.AQUIFER, "CLOSURE": {"BASELINE_YEAR": 2022}}
    _sound(world.monitoring_a, dt.date(2022, 5, 10), 30.0)
    _sound(world.monitoring_a, dt.date(2025, 5, 10), 25.2)
    _sound(world.monitoring_a, dt.date(2026, 5, 10), 25.0)
    _sound(world.monitoring_b, dt.date(2025, 5, 12), 10.0)
    _sound(world.monitoring_b, dt.date(2026, 5, 12), 11.0)
    rep = recovery.report(dt.date(2026, 5, 20))
    rows = {r.mw.well.code: r for r in rep.wells}
    a, b = rows["W-A-1"], rows["W-B-1"]
    assert a.change_year == pytest.approx(0.2) and a.class_year is RecoveryClass.SLIGHT_RISE
    assert a.change_baseline == pytest.approx(5.0) and a.class_baseline is RecoveryClass.RISE
    assert b.change_year == pytest.approx(-1.0) and b.class_year is RecoveryClass.FALL
    assert b.change_baseline is None  # no 2022 data: said, not guessed
    towns = {g.key.code: g for g in rep.townships}
    assert towns["140522100"].class_year is RecoveryClass.SLIGHT_RISE
    _columns, out = recovery.export_rows(rep)
    assert len(out) == 2 + len(rep.townships) + len(rep.zones)


def test_export_page(world: Any) -> None:
    _sound(world.monitoring_a, dt.date(2025, 5, 10), 25.2)
    _sound(world.monitoring_a, dt.date(2026, 5, 10), 25.0)
    c = world.client("bureau")
    r = c.get("/closure/recovery/?month=2026-05&format=xlsx")
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[1][1] == "W-A-1" and rows[1][7] == "弱上升"
    officer = world.client("township")
    r = officer.get("/api/closure/recovery?year=2026&month=5")
    assert r.status_code == 200
    assert [w["well"] for w in r.json()["wells"]] == ["W-A-1"]  # their township's only
