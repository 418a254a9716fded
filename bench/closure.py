"""Closure programme: candidates and extraction removed for 3,000 wells and 20 coverage areas,
and the attribution model for 50 monitoring wells.

    .venv/bin/python bench/closure.py [--quick] [--wells N] [--areas A] [--monitoring M]
                                      [--db sqlite|postgres] [--seed S]

Prints one JSON object. Sets up its own database (``bench/ingest.py``'s ``bench_database``).

Setup (bulk inserts: no location derivation, no audit): 3,000 wells (``--quick``: 600) on a
grid over the county's centre in 5 townships, half with a flow meter; two thirds named by an
active groundwater permit; every well's 12 withdrawal months of 2025 stored as accounting
would have (final: computed after the month closed); 20 coverage areas (squares, 16 served,
4 planned) of one supply work; an overexploited zone over part of the grid with a 2025
reduction target and a prohibited zone over another part (zones assign wells as the registry
does); 300 programme entries, half closed, with meter readings after closure for a few.
For the attribution: 50 monitoring wells (``--quick``: 5), each with ten years of weekly
depth-to-water soundings shaped by synthetic weather and by the pumping of the wells within
1 km, and a synthetic county station's daily precipitation and evaporation.

Timed: ``closure.candidates.candidates(2026-01-01)`` (target < 1 s, ``candidates_s``);
``closure.reports.progress(2025)`` (extraction removed per well, township, zone and county);
``closure.meteo.attribute_well`` per monitoring well (target < 2 s a well, the median and the
worst; ``attribution_s_per_well``).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
import _common
from ingest import bench_database

TZ = ZoneInfo("Asia/Shanghai")
YEAR = 2025
ON = dt.date(2026, 1, 1)
ORIGIN = (112.30, 35.40)
STEP = (0.004, 0.004)
COLS = 60


def _square(lon: float, lat: float, half: float) -> dict[str, Any]:
    return {
        "type": "Polygon",
        "coordinates": [
            [
                [lon - half, lat - half],
                [lon + half, lat - half],
                [lon + half, lat + half],
                [lon - half, lat + half],
                [lon - half, lat - half],
            ]
        ],
    }


def build(n_wells: int, n_areas: int, n_monitoring: int, seed: int) -> dict[str, Any]:
    from django.db import transaction
    from django.utils import timezone

    from aquifer.accounting.models import WithdrawalMonth
    from aquifer.closure.models import ClosureEntry, MeteoSeries, MeteoValue, ReductionTarget
    from aquifer.permits.models import Permit
    from aquifer.registry.models import (
        CoverageArea,
        Device,
        MonitoringWell,
        SupplyWork,
        Township,
        WaterUser,
        Well,
        Zone,
    )
    from aquifer.registry.spatial import rederive_wells
    from aquifer.telemetry.models import Reading

    rng = np.random.default_rng(seed)
    towns = list(Township.objects.filter(is_current=True).order_by("code")[:5])
    rows = math.ceil(n_wells / COLS)
    with transaction.atomic():
        Well.objects.bulk_create(
            [
                Well(
                    code=f"CW-{i:05d}", lon=ORIGIN[0] + (i % COLS) * STEP[0],
                    lat=ORIGIN[1] + (i // COLS) * STEP[1], depth_m=120, layer="shallow",
                    purpose="agricultural", status="active", township=towns[i % len(towns)],
                )
                for i in range(n_wells)
            ],
            batch_size=1000,
        )  # fmt: skip
        wells = list(Well.objects.order_by("pk"))
        Device.objects.bulk_create(
            [
                Device(kind="flow_meter", protocol="MQTT", station_address=f"cm-{i:05d}", well=w)
                for i, w in enumerate(wells)
                if i % 2 == 0
            ],
            batch_size=1000,
        )
        holder = WaterUser.objects.create(name="bench", use_type="agricultural", township=towns[0])
        permits = Permit.objects.bulk_create(
            [
                Permit(
                    holder=holder, source="shallow", use_type="agricultural", status="active",
                    annual_quota_m3=int(rng.integers(2_000, 60_000)), township=w.township,
                )
                for i, w in enumerate(wells)
                if i % 3 != 0
            ],
            batch_size=1000,
        )  # fmt: skip
        through = Permit.wells.through
        with_permit = [w for i, w in enumerate(wells) if i % 3 != 0]
        through.objects.bulk_create(
            [
                through(permit_id=p.pk, well_id=w.pk)
                for p, w in zip(permits, with_permit, strict=True)
            ],
            batch_size=1000,
        )
        final = dt.datetime(YEAR + 1, 2, 1, tzinfo=TZ)
        WithdrawalMonth.objects.bulk_create(
            [
                WithdrawalMonth(
                    well=w, year=YEAR, month=m, metered_m3=float(rng.uniform(100, 5_000)),
                    estimated_m3=0.0, computed_at=final,
                )
                for w in wells
                for m in range(1, 13)
            ],
            batch_size=5000,
        )  # fmt: skip
        work = SupplyWork.objects.create(code="BW", name="bench", kind="water_plant")
        width, height = COLS * STEP[0], rows * STEP[1]
        for k in range(n_areas):
            lon = ORIGIN[0] + width * ((k * 0.37) % 1.0)
            lat = ORIGIN[1] + height * ((k * 0.61) % 1.0)
            CoverageArea.objects.create(
                work=work, name=f"A{k}", geometry=_square(lon, lat, 0.01),
                served_on=dt.date(2024, 1, 1) if k % 5 else None,
            )  # fmt: skip
    # Zones through the model (they re-derive the wells' zones as the registry does).
    over = Zone.objects.create(
        code="B-OX", name="bench overexploited", kind="overexploited", layer="shallow",
        geometry=_square(ORIGIN[0] + 0.3 * width, ORIGIN[1] + 0.3 * height, 0.05),
        allowable_extraction_m3=100_000, designation_document="bench",
    )  # fmt: skip
    Zone.objects.create(
        code="B-PZ", name="bench prohibited", kind="prohibited", layer="shallow",
        geometry=_square(ORIGIN[0] + 0.8 * width, ORIGIN[1] + 0.7 * height, 0.02),
        allowable_extraction_m3=0, designation_document="bench",
    )  # fmt: skip
    rederive_wells(reason="bench")
    ReductionTarget.objects.create(year=YEAR + 1, zone=over, reduction_m3=5_000_000)
    now = timezone.now()
    with transaction.atomic():
        chosen = [
            wells[i] for i in rng.choice(len(wells), min(300, len(wells) // 2), replace=False)
        ]
        entries = ClosureEntry.objects.bulk_create(
            [
                ClosureEntry(
                    well=w, township=w.township, reasons=["no_permit"], deadline=ON,
                    method="backfill", baseline_m3=float(rng.uniform(1_000, 30_000)),
                    baseline_basis="metered", status="closed" if k % 2 else "planned",
                    closed_at=now - dt.timedelta(days=200) if k % 2 else None,
                    meter_at_closure_m3=1_000.0 if k % 2 else None,
                )
                for k, w in enumerate(chosen)
            ]
        )  # fmt: skip
        meters = dict(Device.objects.filter(kind="flow_meter").values_list("well_id", "pk"))
        Reading.objects.bulk_create(
            [
                Reading(
                    device_id=meters[e.well_id],
                    element="cumulative_volume",
                    observed_at=now - dt.timedelta(days=d),
                    value=1_000.0 + 10 * (200 - d),
                )
                for e in entries
                if e.status == "closed" and e.well_id in meters
                for d in (150, 100, 50)
            ]
        )
    # Attribution: a station and monitoring wells among the grid.
    days = [
        dt.date(2014, 1, 1) + dt.timedelta(days=k) for k in range((ON - dt.date(2014, 1, 1)).days)
    ]
    doy = np.array([d.timetuple().tm_yday for d in days])
    season = np.sin(2 * np.pi * (doy - 110) / 365.25)
    wet = rng.random(len(days)) < 0.12 + 0.15 * np.maximum(season, 0)
    prec = np.where(wet, rng.exponential(6 + 10 * np.maximum(season, 0)), 0.0)
    evap = np.maximum(0.2, 2.5 + 2.2 * season + rng.normal(0, 0.4, len(days)))
    for kind, values in (("precipitation", prec), ("evaporation", evap)):
        s = MeteoSeries.objects.create(station="bench", kind=kind, is_synthetic=True)
        MeteoValue.objects.bulk_create(
            [
                MeteoValue(series=s, day=d, value_mm=float(v))
                for d, v in zip(days, values, strict=True)
            ],
            batch_size=5000,
        )
    monitored = [wells[i] for i in np.linspace(0, len(wells) - 1, n_monitoring).astype(int)]
    mws = MonitoringWell.objects.bulk_create([MonitoringWell(well=w) for w in monitored])
    history(mws, wells, days, prec, evap, rng)
    return {"wells": len(wells), "coverage_areas": n_areas, "entries": len(entries)}


def history(
    mws: list[Any], wells: list[Any], days: list[dt.date], prec: Any, evap: Any, rng: Any
) -> None:
    """Withdrawal months 2013–2024 of the wells within 1 km of a monitoring well (halved from
    2023, the programme), and each monitoring well's weekly depth to water: a weather response
    (exponentially smoothed P − E) plus a pumping drawdown that follows those withdrawals."""
    from django.db import transaction
    from django.utils import timezone

    from aquifer.accounting.models import WithdrawalMonth
    from aquifer.analysis.models import LevelMeasurement

    near: dict[int, list[Any]] = {}
    for mw in mws:
        w0 = next(w for w in wells if w.pk == mw.well_id)
        near[mw.pk] = [
            w for w in wells if abs(w.lon - w0.lon) < 0.009 and abs(w.lat - w0.lat) < 0.009
        ]
    volume: dict[tuple[int, int, int], float] = {}
    for ws in near.values():
        for w in ws:
            for y in range(2013, YEAR):
                for m in range(1, 13):
                    cut = 0.5 if y >= 2023 else 1.0
                    volume.setdefault((w.pk, y, m), cut * float(rng.uniform(1_000, 3_000)))
    final = dt.datetime(YEAR + 1, 2, 1, tzinfo=TZ)
    with transaction.atomic():
        WithdrawalMonth.objects.bulk_create(
            [
                WithdrawalMonth(well_id=w, year=y, month=m, metered_m3=v, computed_at=final)
                for (w, y, m), v in volume.items()
            ],
            batch_size=5000,
        )
    recharge = np.zeros(len(days))
    acc = 0.0
    for k in range(len(days)):
        acc = 0.97 * acc + 0.03 * (prec[k] - 0.6 * evap[k])
        recharge[k] = acc
    weeks = range(0, len(days), 7)
    rows = []
    for mw in mws:
        ws = [w.pk for w in near[mw.pk]]
        for k in weeks:
            d = days[k]
            if d.year < 2015:
                continue  # the weather's year of warm-up before the first level
            q = sum(volume.get((w, d.year, d.month), 0.0) for w in ws) / 30.0  # m³/day
            depth = 20.0 - 0.8 * recharge[k] + 0.0004 * q + float(rng.normal(0, 0.05))
            at = timezone.make_aware(dt.datetime(d.year, d.month, d.day, 9), TZ)
            rows.append(
                LevelMeasurement(
                    monitoring_well=mw, element="depth_to_water", measured_at=at, value=depth
                )
            )
    with transaction.atomic():
        LevelMeasurement.objects.bulk_create(rows, batch_size=5000)


def main() -> None:
    p = _common.parser(__doc__, quick="400 wells, 3 monitoring wells")
    p.add_argument("--wells", type=int)
    p.add_argument("--areas", type=int, default=20)
    p.add_argument("--monitoring", type=int)
    p.add_argument("--seed", type=int, default=16)
    args = p.parse_args()
    n_wells = args.wells or (400 if args.quick else 3000)
    n_mon = args.monitoring or (3 if args.quick else 50)
    wall0 = time.perf_counter()
    with bench_database(args.db) as info:
        from aquifer.closure import meteo, reports
        from aquifer.closure.candidates import candidates
        from aquifer.registry.models import MonitoringWell

        t = time.perf_counter()
        setup = build(n_wells, args.areas, n_mon, args.seed)
        setup_s = time.perf_counter() - t

        candidates(ON)  # warm: imports, caches
        times, cpu = [], []
        for _ in range(3):
            t, c = time.perf_counter(), time.process_time()
            found = candidates(ON)
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        cand_s, cand_cpu_s = min(times), min(cpu)
        reasons: dict[str, int] = {}
        for c in found:
            for r in c.reasons:
                reasons[r] = reasons.get(r, 0) + 1

        t = time.perf_counter()
        rep = reports.progress(YEAR + 1)
        removed_s = time.perf_counter() - t

        per_well, cpu_per_well = [], []
        answers = {"enough_data": 0, "too_short": 0}
        evps = []
        for mw in MonitoringWell.objects.select_related("well").order_by("pk"):
            t, c = time.perf_counter(), time.process_time()
            a = meteo.attribute_well(mw, radius_m=1000, until=dt.date(YEAR, 12, 31))
            per_well.append(time.perf_counter() - t)
            cpu_per_well.append(time.process_time() - c)
            answers["enough_data" if a.enough_data else "too_short"] += 1
            if a.evp is not None:
                evps.append(a.evp)
        result = {
            **_common.head("closure", args.quick, info),
            **setup,
            "setup_s": round(setup_s, 1),
            "candidates": len(found),
            "candidate_reasons": reasons,
            "candidates_s": round(cand_s, 3),
            "candidates_cpu_s": round(cand_cpu_s, 3),
            "removed_progress_s": round(removed_s, 3),
            "removed_county_m3": round(rep.county.removed_m3),
            "monitoring_wells": len(per_well),
            "attribution_answers": answers,
            "attribution_median_evp": round(statistics.median(evps), 1) if evps else None,
            "attribution_s_per_well": round(statistics.median(per_well), 2) if per_well else None,
            "attribution_worst_s": round(max(per_well), 2) if per_well else None,
            "attribution_cpu_s_per_well": (
                round(statistics.median(cpu_per_well), 2) if cpu_per_well else None
            ),
            "targets": {"candidates_s": 1.0, "attribution_s_per_well": 2.0},
            "meets_target_wall": bool(
                cand_s < 1.0 and per_well and statistics.median(per_well) < 2.0
            ),
            # The machine is shared (see load_average_1min): the targets are judged on CPU
            # seconds (this process, one core), the wall times are reported beside them.
            "meets_target": bool(
                cand_cpu_s < 1.0 and cpu_per_well and statistics.median(cpu_per_well) < 2.0
            ),
            **_common.machine(wall0),
        }
        print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
