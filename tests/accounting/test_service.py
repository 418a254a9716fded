"""The accounting service over real readings (rollups and raw), with the world fixture."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from aquifer.accounting import service
from aquifer.accounting.volumes import VolumeFlag
from aquifer.registry.models import Well
from aquifer.telemetry.store import ReadingRow, ingest

TZ = ZoneInfo("Asia/Shanghai")


def series(
    device: Any,
    start: dt.datetime,
    days: int,
    per_day: float,
    step_min: int = 60,
    base: float = 1000.0,
) -> list[ReadingRow]:
    rows = []
    n = days * 24 * 60 // step_min
    for i in range(n + 1):
        at = start + dt.timedelta(minutes=step_min * i)
        rows.append(
            ReadingRow(device.pk, "cumulative_volume", at, base + per_day * i * step_min / 1440)
        )
    return rows


@pytest.fixture
def meter(world: Any) -> Any:
    world.device_a.kind = "flow_meter"
    return world.device_a


def test_monthly_from_rollups(world: Any, meter: Any) -> None:
    ingest(series(meter, dt.datetime(2025, 1, 1, tzinfo=TZ), 59, 100.0))
    vols = service.monthly(2025, [world.well_a.pk])[world.well_a.pk]
    assert vols[0].total_m3 == pytest.approx(3100.0)
    assert vols[0].metered_m3 == pytest.approx(3100.0)
    assert not vols[0].estimated
    assert not vols[0].flags & VolumeFlag.GAP  # a day's first→last reading is no gap
    assert vols[1].total_m3 == pytest.approx(2800.0)
    # the meter stopped reporting at the end of February and is still in service: the rest
    # of the year is estimated at its own mean rate
    assert vols[2].metered_m3 == 0
    assert vols[2].estimated_m3 == pytest.approx(3100.0)
    assert vols[2].flags & VolumeFlag.RATE_ESTIMATED


def test_interface(world: Any, meter: Any) -> None:
    ingest(series(meter, dt.datetime(2025, 1, 1, tzinfo=TZ), 31, 100.0))
    meter.active = False  # taken out of service: nothing estimated after its last reading
    meter.save()
    year = service.well_volumes(2025, wells=[world.well_a.pk])
    assert year[world.well_a.pk].total_m3 == pytest.approx(3100.0)
    assert not year[world.well_a.pk].estimated
    jan = service.well_volumes(2025, 1)
    assert jan[world.well_a.pk].metered_m3 == pytest.approx(3100.0)
    # well_b has only a level logger: unmetered, estimated from the default by purpose
    assert jan[world.well_b.pk].estimated
    assert jan[world.well_b.pk].flags & VolumeFlag.UNMETERED
    county = service.totals("county", 2025)
    assert set(county) == {None}
    town = service.totals("township", 2025, 1)
    assert town[world.township_a.pk].metered_m3 == pytest.approx(3100.0)
    users = service.totals("user", 2025)
    assert users[world.user_a.pk].metered_m3 == pytest.approx(3100.0)
    # every level from one reading: each well's volume lands in its township, zone and owner,
    # and the estimated well's flags go with it
    wells = service.well_volumes(2025)
    levels = service.totals_by(("well", "user", "zone", "township", "county"), 2025)
    assert levels["well"] == wells
    assert levels["county"][None].total_m3 == pytest.approx(sum(v.total_m3 for v in wells.values()))
    for w in (world.well_a, world.well_b):
        for level, key in (("township", w.township_id), ("zone", w.zone_id)):
            if key is not None:
                assert levels[level][key].total_m3 >= wells[w.pk].total_m3 > 0
    town_b = levels["township"][world.well_b.township_id]
    assert town_b.estimated and town_b.flags & VolumeFlag.UNMETERED
    assert None not in levels["zone"] and None not in levels["user"]
    # twelve months per level, summed in the database: the per-well months folded
    per_well = service.monthly(2025)
    for level, attr in (("township", "township_id"), ("user", "owner_id"), ("county", None)):
        got = service.monthly_totals(level, 2025)
        want: dict[Any, list[Any]] = {}
        for w in Well.objects.all():
            key = getattr(w, attr) if attr else None
            if key is None and level == "user":
                continue
            acc = want.setdefault(key, [service.ZERO] * 12)
            want[key] = [a + b for a, b in zip(acc, per_well[w.pk], strict=True)]
        assert set(got) == set(want), level
        for key, months in want.items():
            for a, b in zip(got[key], months, strict=True):
                assert a.total_m3 == pytest.approx(b.total_m3)
                assert (a.estimated, a.flags) == (b.estimated, b.flags), (level, key)


def test_replacement_and_glitch_read_from_raw(world: Any, meter: Any) -> None:
    from aquifer.monitoring.models import MeterChange

    start = dt.datetime(2025, 3, 1, tzinfo=TZ)
    old = series(meter, start, 10, 100.0, base=4000.0)  # ends at 5,000 on 11 March 00:00
    change = start + dt.timedelta(days=10, hours=1)
    new = [
        ReadingRow(meter.pk, "cumulative_volume", change + dt.timedelta(hours=h), 4.0 * h)
        for h in range(1, 21 * 24)
    ]
    # a glitch: one reading running backwards on 20 March
    glitch_at = start + dt.timedelta(days=19, minutes=30)
    rows = [*old, *new, ReadingRow(meter.pk, "cumulative_volume", glitch_at, 1.0)]
    ingest(rows)
    MeterChange.objects.create(
        device=meter, changed_at=change, old_final=5000.0, new_initial=0.0, note="test"
    )
    meter.active = False
    meter.save()
    vols = service.monthly(2025, [world.well_a.pk])[world.well_a.pk]
    mar = vols[2]
    assert mar.total_m3 == pytest.approx(1000.0 + new[-1].value)
    assert mar.flags & VolumeFlag.REPLACEMENT
    assert mar.flags & VolumeFlag.BACKWARDS
    assert not mar.estimated


def test_month_split_and_storage(world: Any, meter: Any) -> None:
    from aquifer.accounting.models import WithdrawalMonth

    ingest(series(meter, dt.datetime(2025, 1, 31, tzinfo=TZ), 2, 240.0))
    meter.active = False
    meter.save()
    vols = service.monthly(2025, [world.well_a.pk])[world.well_a.pk]
    assert vols[0].total_m3 == pytest.approx(240.0)
    assert vols[1].total_m3 == pytest.approx(240.0)
    row = WithdrawalMonth.objects.get(well=world.well_a, year=2025, month=1)
    assert row.metered_m3 == pytest.approx(240.0)
    assert service.refresh(2025, [1, 2], [world.well_a.pk]) == 2


def test_bad_arguments(world: Any) -> None:
    with pytest.raises(ValueError):
        service.well_volumes(2025, 13)
    with pytest.raises(ValueError):
        service.totals("planet", 2025)


def test_demo_build_is_idempotent(world: Any) -> None:
    from django.utils import timezone

    from aquifer.accounting import demo
    from aquifer.accounting.models import WithdrawalMonth
    from aquifer.telemetry.models import Reading

    lines: list[str] = []
    demo.build(log=lines.append)
    n = Reading.objects.filter(element="cumulative_volume").count()
    assert n > 1000
    this = timezone.localdate().year
    assert WithdrawalMonth.objects.filter(year=this - 1, well=world.well_a).count() == 12
    first = service.well_volumes(this, wells=[world.well_a.pk])[world.well_a.pk]
    assert first.metered_m3 > 0
    demo.build(log=lines.append)
    assert Reading.objects.filter(element="cumulative_volume").count() == n
    again = service.well_volumes(this, wells=[world.well_a.pk])[world.well_a.pk]
    assert again.total_m3 == pytest.approx(first.total_m3)


def test_job_refreshes_recent_months(world: Any, meter: Any) -> None:
    from aquifer.accounting.jobs import refresh_recent

    assert refresh_recent() >= 2  # two wells, at least the current month


def test_closed_unmetered_well_takes_nothing(world: Any) -> None:
    from aquifer.registry.models import Well

    Well.objects.filter(pk=world.well_b.pk).update(status="closed")
    v = service.well_volumes(2025, wells=[world.well_b.pk])[world.well_b.pk]
    assert v == service.Volume()
    Well.objects.filter(pk=world.well_b.pk).update(status="active")
    # 2025's months are final: stored figures are reused until recomputed
    assert service.well_volumes(2025, wells=[world.well_b.pk])[world.well_b.pk].total_m3 == 0
    assert service.refresh(2025, wells=[world.well_b.pk]) == 12
    v = service.well_volumes(2025, wells=[world.well_b.pk])[world.well_b.pk]
    assert v.estimated and v.estimated_m3 == pytest.approx(30_000.0)  # agricultural default
