"""Metering compliance and 以电折水: the list per township, its alarms, the statement import
(all or nothing, errors naming the row), coefficient fit, estimates and the bypass check."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.utils import timezone
from openpyxl import Workbook

from aquifer.accounting.models import WithdrawalMonth
from aquifer.enforcement import compliance
from aquifer.enforcement.models import ElectricityMonth, PumpCoefficient
from aquifer.monitoring.models import Alarm, DeviceState
from aquifer.permits.models import Permit


def permit(world: Any, well: Any, quota: int) -> Permit:
    p = Permit.objects.create(
        holder=well.owner,
        source="shallow",
        use_type="domestic",
        annual_quota_m3=quota,
        status="active",
        number=f"P-{well.code}",
    )
    p.wells.add(well)
    return p


def test_list_and_alarms(world: Any) -> None:
    # well A: a flow meter, permitted 60 000 m³ → must be online; it never reported.
    # well B: a level logger only → unmetered.
    permit(world, world.well_a, 60_000)
    rows = {r.code: r for r in compliance.metering_list()}
    assert rows["W-A-1"].problem == "not_online" and rows["W-A-1"].online_required
    assert rows["W-B-1"].problem == "no_meter"
    assert [r.code for r in compliance.metering_list([world.township_b.pk])] == ["W-B-1"]
    assert compliance.raise_metering_alarms() == (2, 0)
    assert Alarm.objects.filter(kind="metering_missing").count() == 2
    # well A reports now: compliant, its alarm is cleared
    DeviceState.objects.create(device=world.device_a, last_received_at=timezone.now())
    assert compliance.raise_metering_alarms() == (1, 1)
    assert {a.well_id for a in Alarm.objects.filter(kind="metering_missing", state="open")} == {
        world.well_b.pk
    }


def test_rows_by_role(world: Any) -> None:
    officer = world.accounts["township"]
    assert [r.code for r in compliance.metering_rows(officer)] == []  # well A is compliant …
    world.device_a.active = False
    world.device_a.save()
    assert [r.code for r in compliance.metering_rows(officer)] == ["W-A-1"]  # … not now
    assert compliance.metering_rows(officer, world.township_b.pk) == []
    assert len(compliance.metering_rows(world.accounts["inspector"])) == 2
    assert compliance.metering_rows(world.accounts["water_user"]) == []


def xlsx(rows: list[list[Any]]) -> bytes:
    wb = Workbook()
    for r in rows:
        wb.active.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


HEAD = ["井编号", "年", "月", "用电量(kWh)"]


def test_import_all_or_nothing_with_rows_named(world: Any) -> None:
    data = xlsx(
        [
            HEAD,
            ["W-A-1", 2025, 1, 100],
            ["W-X-9", 2025, 2, 100],
            ["W-A-1", 2025, 13, 5],
            ["W-B-1", 2025, 1, -1],
        ]
    )
    with pytest.raises(compliance.ImportError_) as e:
        compliance.import_electricity("statement.xlsx", data)
    assert sorted((r, c) for r, c, _m in e.value.errors) == [
        (3, "井编号"),
        (4, "月"),
        (5, "用电量(kWh)"),
    ]
    assert ElectricityMonth.objects.count() == 0
    with pytest.raises(compliance.ImportError_) as e:
        compliance.import_electricity("s.csv", "井编号,年\nW-A-1,2025\n".encode())
    assert {c for _r, c, _m in e.value.errors} == {"月", "用电量(kWh)"}
    csv = "\ufeff井编号,年,月,用电量(kWh)\nW-A-1,2025,1,100\nW-A-1,2025,2,120\n"
    assert compliance.import_electricity("s.csv", csv.encode()) == {
        "created": 2,
        "changed": 0,
        "unchanged": 0,
    }
    again = csv.replace("120", "130")
    assert compliance.import_electricity("s.csv", again.encode()) == {
        "created": 0,
        "changed": 1,
        "unchanged": 1,
    }


def months(well: Any, year: int, kwh: float, m3: list[float]) -> None:
    for i, v in enumerate(m3, 1):
        ElectricityMonth.objects.create(well=well, year=year, month=i, kwh=kwh)
        WithdrawalMonth.objects.create(well=well, year=year, month=i, metered_m3=v)


def test_fit_estimate_and_bypass(world: Any) -> None:
    # last year well A pumped 2 m³/kWh; this year its meter shows a third of that in March.
    months(world.well_a, 2025, 1000, [2000.0] * 6)
    assert compliance.fit(2025) == 1
    k = PumpCoefficient.objects.get(well=world.well_a, year=2025)
    assert k.m3_per_kwh == pytest.approx(2.0) and k.months == 6
    months(world.well_a, 2026, 1000, [2000.0, 1900.0, 600.0])
    found = compliance.cross_check(2026)
    assert [(b.code, [m["month"] for m in b.months]) for b in found] == [("W-A-1", [3])]
    assert found[0].basis == "fitted:2025"
    assert compliance.raise_bypass_alarms(2026) == 1
    alarm = Alarm.objects.get(kind="suspected_bypass")
    assert alarm.well_id == world.well_a.pk and alarm.severity == "critical"
    # well B has no meter: estimated by the county median of last year's fits
    ElectricityMonth.objects.create(well=world.well_b, year=2026, month=1, kwh=500)
    world.device_b.kind = "level_logger"
    est = {e["code"]: e for e in compliance.estimates(2026)}
    assert est["W-B-1"]["total_m3"] == pytest.approx(1000.0)
    assert est["W-B-1"]["basis"] == "county_median:2025"


def test_too_few_months_are_not_fitted(world: Any) -> None:
    months(world.well_a, 2025, 1000, [2000.0, 2000.0])
    assert compliance.fit(2025) == 0


def test_daily_window_setting(world: Any, settings: Any) -> None:
    permit(world, world.well_a, 60_000)
    DeviceState.objects.create(
        device=world.device_a, last_received_at=timezone.now() - dt.timedelta(days=2)
    )
    settings.AQUIFER = {**settings.AQUIFER, "ENFORCEMENT": {"ONLINE_WITHIN_DAYS": 1}}
    assert "W-A-1" in {r.code for r in compliance.metering_list()}
    settings.AQUIFER = {**settings.AQUIFER, "ENFORCEMENT": {"ONLINE_WITHIN_DAYS": 3}}
    assert "W-A-1" not in {r.code for r in compliance.metering_list()}
