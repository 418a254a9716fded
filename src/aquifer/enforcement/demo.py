"""Demo data of the enforcement app, on top of the monitoring, maintenance and accounting demos.

- cases opened from the monitoring demo's alarms (unregistered station, prohibited-zone and
  deep withdrawal, tamper bits, suspicious readings, a silent meter), walked to every step of
  the procedure: open, filed, investigated, noticed, statement/hearing, decided, executed,
  closed, and one dismissed; the decided ones with a water user give credit records, the
  executed ones final (public);
- the metering compliance alarms over the demo county (its unmetered wells and the
  permits at or above the online threshold whose meters are silent);
- an electricity statement (CSV through the importer) for metered wells of this year, each at
  the coefficient of its pumping test, with one well whose March meter shows a quarter of
  what its kWh say (one suspected bypass), and kWh for a few unmetered wells (estimates);
- two fuel stations (one single-walled without a pit, inspected, a case opened) and a
  landfill near a quality monitoring well.

Everything goes through the services; keyed by alarm, name and well, a second run adds nothing.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from aquifer.accounting.models import WithdrawalMonth
from aquifer.core.audit import audit_context
from aquifer.enforcement import compliance, conf, pollution, services
from aquifer.enforcement.models import (
    Case,
    CoefficientMethod,
    ElectricityMonth,
    PollutionSource,
    PumpCoefficient,
)
from aquifer.monitoring.models import Alarm
from aquifer.registry.models import Device, MonitoringWell, Well

__all__ = ["build"]

SEED = 20261206
#: the procedure's steps in order, with what each needs
WALK: list[tuple[str, dict[str, Any], str]] = [
    ("file", {}, "bureau"),
    ("investigate", {}, "inspector"),
    ("notice", {"band": "ordinary"}, "inspector"),
    ("statement", {"hearing": True}, "inspector"),
    ("decide", {}, "bureau"),
    ("execute", {"execution": "paid"}, "inspector"),
    ("close", {}, "inspector"),
]


def _account(username: str) -> Any:
    return get_user_model().objects.filter(username=username, is_active=True).first()


def _cases(people: dict[str, Any], log: Callable[[str], None]) -> int:
    if Case.objects.filter(source="alarm").exists():
        return 0
    kinds = list(compliance_kinds())
    alarms = list(
        Alarm.objects.filter(kind__in=kinds)
        .exclude(pk__in=Case.objects.filter(alarm__isnull=False).values("alarm_id"))
        .order_by("kind", "opened_at", "pk")
    )
    by_kind: dict[str, list[Alarm]] = {}
    for a in alarms:
        by_kind.setdefault(a.kind, []).append(a)
    picked: list[Alarm] = []  # round-robin over the kinds, at most 12
    for r in range(12):
        picked += [group[r] for group in by_kind.values() if r < len(group)]
    picked = picked[:12]
    opened = 0
    for i, alarm in enumerate(picked):
        case = services.open_from_alarm(alarm, by=people["inspector"])
        opened += 1
        services.attach(
            case,
            "note",
            "现场勘验记录",
            {"text": "现场核实取水设施运行情况，拍照取证。"},
            by=people["inspector"],
        )
        target = i % (len(WALK) + 2)  # 0 = open … 7 = closed, 8 = dismissed
        if target == len(WALK) + 1:
            services.take_step(
                case, "dismiss", by=people["bureau"], note="经核实为设备误报，不予处罚。"
            )
            continue
        for step, data, who in WALK[:target]:
            if step == "decide":
                data = {
                    "amount": case.proposed_amount or 0,
                    "reason": "首次违法，如实陈述，按一般档次。",
                }
            services.take_step(case, step, by=people[who], **data)
    log(f"enforcement: {opened} cases from alarms")
    return opened


def compliance_kinds() -> list[str]:
    return list(conf.get("ALARM_CASE_KINDS"))


def _electricity(log: Callable[[str], None]) -> None:
    year = timezone.localdate().year
    if ElectricityMonth.objects.filter(year=year).exists():
        return
    rng = random.Random(SEED)
    metered = list(
        WithdrawalMonth.objects.filter(year=year, metered_by_device=True, metered_m3__gt=100)
        .order_by("well_id", "month")
        .values_list("well_id", "month", "metered_m3")
    )
    wells = sorted({w for w, _m, _v in metered})[:40]
    codes = dict(Well.objects.filter(pk__in=wells).values_list("id", "code"))
    lines = ["井编号,年,月,用电量(kWh)"]
    k_of = {w: round(rng.uniform(1.6, 3.2), 2) for w in wells}
    bypass = wells[len(wells) // 2] if wells else None
    for w, m, v in metered:
        if w not in k_of:
            continue
        kwh = v / k_of[w] * rng.uniform(0.95, 1.05)
        if w == bypass and m == min(mm for ww, mm, _ in metered if ww == w):
            kwh *= 4  # the meter shows a quarter of what the pump drew
        lines.append(f"{codes[w]},{year},{m},{kwh:.1f}")
    for w, k in k_of.items():
        PumpCoefficient.objects.update_or_create(
            well_id=w,
            year=year,
            defaults={"m3_per_kwh": k, "method": CoefficientMethod.PUMPING_TEST, "months": 0},
        )
    unmetered = list(
        Well.objects.filter(status="active")
        .exclude(purpose="monitoring")
        .exclude(pk__in=Device.objects.filter(kind__in=compliance.METER_KINDS).values("well_id"))
        .order_by("code")
        .values_list("code", flat=True)[:10]
    )
    for code in unmetered:
        for m in range(1, timezone.localdate().month + 1):
            lines.append(f"{code},{year},{m},{rng.uniform(300, 1500):.1f}")
    counts = compliance.import_electricity(
        "国网阳城供电公司电费清单.csv", "\n".join(lines).encode("utf-8")
    )
    found = compliance.raise_bypass_alarms(year)
    log(f"enforcement: {counts['created']} kWh months, {found} suspected bypass")


def _sources(people: dict[str, Any], log: Callable[[str], None]) -> None:
    if PollutionSource.objects.exists():
        return
    mw = (
        MonitoringWell.objects.filter(monitors_quality=True).select_related("well").first()
        or MonitoringWell.objects.select_related("well").first()
    )
    if mw is None:
        return
    lon, lat = mw.well.lon, mw.well.lat
    rows = [
        ("中石化阳城城关加油站", "fuel_station", 0.004, 0.002, "double_walled", True, False),
        ("阳城县便民加油站", "fuel_station", -0.006, 0.003, "single_walled", False, False),
        ("阳城县生活垃圾填埋场", "landfill", 0.010, -0.006, "", True, False),
    ]
    made = []
    for name, kind, dx, dy, tank, seep, well in rows:
        s = PollutionSource(
            name=name,
            kind=kind,
            lon=lon + dx,
            lat=lat + dy,
            tank_type=tank,
            seepage_control=seep,
            monitoring_well=well,
            operator_name=name,
        )
        s.full_clean()
        s.save()
        made.append(s)
    inspection = pollution.inspect(
        made[1],
        by=people["inspector"],
        tank_type="single_walled",
        findings="地下油罐为单层罐，未设防渗池。",
    )
    pollution.open_case_from_inspection(inspection, by=people["inspector"])
    pollution.inspect(
        made[2],
        by=people["inspector"],
        seepage_control=True,
        findings="防渗层完好；未建地下水水质监测井。",
    )
    log(f"enforcement: {len(made)} pollution sources near {mw.well.code}")


def build(log: Callable[[str], None] = print) -> None:
    """Add the enforcement demo (see the module docstring); idempotent."""
    people = {"bureau": _account("bureau"), "inspector": _account("inspector")}
    if people["bureau"] is None or people["inspector"] is None:
        log("enforcement demo: no demo accounts (run the registry demo first)")
        return
    with audit_context(user=people["bureau"], source="demo"):
        raised, _cleared = compliance.raise_metering_alarms()
        log(f"enforcement: {raised} wells short of the metering rules")
        _electricity(log)
        _cases(people, log)
        _sources(people, log)
