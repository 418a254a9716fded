"""Demo data of the closure programme — ILLUSTRATIVE, not the county's real works or plans.

- one supply work, "张峰水库县城供水工程（示意）", marked ``is_illustrative``, with a coverage
  area over the eastern part of the county seat (凤城镇) served since the start of last year,
  and a planned area (not yet served) further east;
- reduction targets for 凤城镇 and 北留镇 (illustrative figures);
- a programme of the first demo wells the candidates list offers, in every status: planned,
  notified, closed, verified (with its inspection on site); one closed well whose flow meter
  still advances after closure, so the closed-well check raises its alarm;
- synthetic daily precipitation and evaporation of a "阳城（合成）" station over the demo's
  history (marked synthetic: a seasonal curve with random rain days, not observations).

Everything goes through ``closure.services`` and ``registry.supply``; keyed by codes and wells,
so a second run adds nothing.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import random
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone
from PIL import Image

from aquifer.closure import services
from aquifer.closure.candidates import candidates
from aquifer.closure.jobs import check_closed_wells
from aquifer.closure.models import ClosureEntry, MeteoSeries, MeteoValue, ReductionTarget, Status
from aquifer.core.audit import audit_context
from aquifer.registry.choices import DeviceKind
from aquifer.registry.models import CoverageArea, SupplyWork, Township
from aquifer.telemetry.models import Reading

__all__ = ["build"]

SEED = 20261206
WORK_CODE = "DEMO-ZF-1"
SEAT = (112.417, 35.486)  # 凤城镇's seat in the demo's township data


def _box(lon0: float, lat0: float, lon1: float, lat1: float) -> dict[str, Any]:
    return {
        "type": "Polygon",
        "coordinates": [[[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]],
    }


def _supply(today: dt.date) -> CoverageArea:
    work, _ = SupplyWork.objects.get_or_create(
        code=WORK_CODE,
        defaults={
            "name": "张峰水库县城供水工程（示意）",
            "kind": "reservoir_project",
            "water_source": "张峰水库",
            "capacity_m3_per_day": 30_000,
            "is_illustrative": True,
            "notes": "演示数据：范围与日期为示意，并非实际工程。",
        },
    )
    area = work.areas.filter(name="县城东片（示意）").first()
    if area is None:
        area = CoverageArea.objects.create(
            work=work,
            name="县城东片（示意）",
            geometry=_box(SEAT[0] - 0.005, SEAT[1] - 0.03, SEAT[0] + 0.06, SEAT[1] + 0.03),
            capacity_m3_per_day=12_000,
            served_on=dt.date(today.year - 1, 1, 1),
        )
    if not work.areas.filter(name="县城东扩片（规划，示意）").exists():
        CoverageArea.objects.create(
            work=work,
            name="县城东扩片（规划，示意）",
            geometry=_box(SEAT[0] + 0.06, SEAT[1] - 0.03, SEAT[0] + 0.1, SEAT[1] + 0.03),
            capacity_m3_per_day=5_000,
        )
    return area


def _targets(year: int) -> None:
    for code, m3 in (("140522100", 60_000), ("140522101", 40_000)):
        t = Township.objects.filter(code=code).first()
        if t is not None:
            ReductionTarget.objects.get_or_create(
                year=year,
                township=t,
                defaults={"reduction_m3": m3, "document": "演示（示意）"},
            )


def _meteo(today: dt.date, rng: random.Random) -> None:
    start = dt.date(today.year - 6, 1, 1)
    for kind in (MeteoSeries.Kind.PRECIPITATION, MeteoSeries.Kind.EVAPORATION):
        series, created = MeteoSeries.objects.get_or_create(
            station="阳城（合成）",
            kind=kind,
            defaults={
                "is_synthetic": True,
                "source": "演示合成数据：季节曲线加随机降雨日，非观测值",
            },
        )
        if not created and series.values.exists():
            continue
        rows = []
        day = start
        while day <= today:
            season = math.sin(2 * math.pi * (day.timetuple().tm_yday - 110) / 365.25)
            if kind == MeteoSeries.Kind.PRECIPITATION:
                wet = rng.random() < 0.12 + 0.15 * max(season, 0)
                value = round(rng.expovariate(1 / (6 + 10 * max(season, 0))), 1) if wet else 0.0
            else:
                value = round(max(0.2, 2.5 + 2.2 * season + rng.gauss(0, 0.4)), 1)
            rows.append(MeteoValue(series=series, day=day, value_mm=value))
            day += dt.timedelta(days=1)
        MeteoValue.objects.bulk_create(rows, batch_size=5000)


def _picture(colour: tuple[int, int, int], name: str) -> Any:
    """A placeholder picture for the demo's inspection files (not a real photo)."""
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buf, format="PNG")
    buf.seek(0)
    buf.name = name
    return buf


def _still_pumping(entry: ClosureEntry) -> None:
    """The closed well that still reports: its meter advances after closure."""
    device = entry.well.devices.filter(kind=DeviceKind.FLOW_METER).first()
    if device is None or entry.closed_at is None:
        return
    base = entry.meter_at_closure_m3 or 0.0
    for k in range(1, 4):
        at = entry.closed_at + dt.timedelta(days=k)
        Reading.objects.get_or_create(
            device=device,
            element="cumulative_volume",
            observed_at=at,
            defaults={"value": base + 6.5 * k},
        )


def build(log: Callable[[str], None] = print) -> None:
    rng = random.Random(SEED)
    today = timezone.localdate()
    bureau = get_user_model().objects.filter(username="bureau").first()
    with audit_context(user=bureau, source="demo", reason="closure demo"):
        area = _supply(today)
        _targets(today.year)
        log("供水工程与覆盖范围（示意）")
        if not ClosureEntry.objects.exists():
            found = candidates(today)
            covered = [c for c in found if "covered" in c.reasons]
            others = [c for c in found if "covered" not in c.reasons]
            metered = [
                c for c in covered if c.well.devices.filter(kind=DeviceKind.FLOW_METER).exists()
            ]
            statuses = [
                Status.CLOSED,  # the one still reporting flow (a metered well)
                Status.VERIFIED,
                Status.CLOSED,
                Status.PLANNED,
                Status.NOTIFIED,
                Status.PLANNED,
                Status.NOTIFIED,
                Status.CLOSED,
                Status.PLANNED,
                Status.VERIFIED,
            ]
            # The first entry is a metered well (it goes on reporting flow); the verified ones
            # are unmetered where possible: a metered well's meter keeps turning in the demo's
            # simulated history, and verification rightly refuses it.
            unmetered = [
                c
                for c in covered + others
                if not c.well.devices.filter(kind=DeviceKind.FLOW_METER).exists()
            ]
            rest = metered[:1] + [c for c in covered + others if c not in metered[:1]]
            plan: list[Any] = []
            for target in statuses:
                pool = unmetered if target == Status.VERIFIED and unmetered else rest
                if not plan and metered:
                    pool = metered
                choice = next((c for c in pool if c not in plan), None)
                if choice is None:
                    break
                plan.append(choice)
            for i, (c, target) in enumerate(zip(plan, statuses, strict=False)):
                entry = services.enrol(
                    bureau,
                    c.well,
                    deadline=today + dt.timedelta(days=30 + 15 * i),
                    method="seal" if i % 2 else "backfill",
                    replacement_area=area if "covered" in c.reasons else None,
                    connection="接入县城东片管网（示意）" if "covered" in c.reasons else "",
                    on=today,
                )
                when = timezone.now() - dt.timedelta(days=40 - 3 * i)
                if target in (Status.NOTIFIED, Status.CLOSED, Status.VERIFIED):
                    entry = services.advance(bureau, entry, Status.NOTIFIED, when=when)
                if target in (Status.CLOSED, Status.VERIFIED):
                    entry = services.advance(
                        bureau, entry, Status.CLOSED, when=when + dt.timedelta(days=5)
                    )
                # A metered well whose simulated meter still turns stays closed, unverified:
                # verification rightly refuses it (a small county may have no unmetered
                # candidate to verify).
                t = services.telemetry_since_closure(entry)
                if target == Status.VERIFIED and not (t.metered and t.withdrawing):
                    services.inspect(
                        bureau,
                        entry,
                        inspected_at=when + dt.timedelta(days=8),
                        lon=entry.well.lon + rng.uniform(-0.0002, 0.0002),
                        lat=entry.well.lat + rng.uniform(-0.0002, 0.0002),
                        findings="井口已封闭，泵已拆除（演示）",
                        signed_by="演示核查员",
                        photos=[_picture((90, 110, 130), "demo-photo.png")],
                        signatures=[_picture((240, 240, 240), "demo-signature.png")],
                    )
                    services.advance(bureau, entry, Status.VERIFIED)
                if i == 0 and target == Status.CLOSED:
                    _still_pumping(entry)
            log(f"关停计划 {len(plan)} 眼（示意）")
        _meteo(today, rng)
        log("气象序列（合成）")
        counts = check_closed_wells()
        log(f"关停井取水告警 {counts['raised']} 条")
