"""The closure programme: candidates with reasons, enrolment, the status moves with their
evidence, the closed-well alarm, extraction removed and progress, per-township figures."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from aquifer.closure import reports, services
from aquifer.closure.candidates import candidates, last_12_months
from aquifer.closure.hooks import closed_well_withdrawal
from aquifer.closure.jobs import check_closed_wells
from aquifer.closure.models import ClosureEntry, ReductionTarget, Status, TownshipAllowance
from aquifer.core.audit import audit_context
from aquifer.enforcement.models import Case
from aquifer.monitoring.models import Alarm
from aquifer.permits.models import Permit
from aquifer.registry.models import Device, Zone
from aquifer.registry.supply import import_geojson, served_index
from aquifer.telemetry.models import Reading
from tests.closure.helpers import TODAY, png, supply, well
from tests.conftest import HUANGCHENG, square

SEAT = (112.417, 35.486)  # well A of the world, in 凤城镇 (the county seat)


def _reading(device: Any, element: str, at: dt.datetime, value: float) -> None:
    Reading.objects.create(device=device, element=element, observed_at=at, value=value)


def test_last_12_months() -> None:
    months = last_12_months(dt.date(2026, 3, 10))
    assert months[0] == (2025, 3) and months[-1] == (2026, 2) and len(months) == 12


def test_served_index_only_served_areas(world: Any) -> None:
    supply(*SEAT, served_on=dt.date(2027, 1, 1))
    assert served_index(TODAY).area_at(*SEAT) is None
    assert served_index(dt.date(2027, 1, 2)).area_at(*SEAT) is not None
    assert served_index(TODAY, include_planned=True).area_at(*SEAT) is not None


def test_candidates_carry_their_reasons(world: Any) -> None:
    supply(*SEAT)
    well("W-HC", *HUANGCHENG)
    with audit_context(source="test"):
        p = Permit.objects.create(
            holder=world.user_a,
            source="shallow",
            use_type="domestic",
            annual_quota_m3=5000,
            status="active",
            township=world.township_a,
        )
        p.wells.add(world.well_a)
    found = {c.well.code: c for c in candidates(TODAY)}
    assert found["W-A-1"].reasons == ["covered"]  # permitted, but the network reaches it
    assert found["W-A-1"].volume.basis == "metered"  # it has a flow meter
    assert found["W-HC"].reasons == ["prohibited", "no_permit"]
    assert found["W-B-1"].reasons == ["no_permit"]
    # A monitoring well or a closed well is no candidate.
    well("W-MON", SEAT[0] + 0.001, SEAT[1], purpose="monitoring")
    assert "W-MON" not in {c.well.code for c in candidates(TODAY)}


def test_overexploited_zone_needs_its_biggest_users(world: Any) -> None:
    centre = (112.30, 35.45)
    with audit_context(source="test"):
        zone = Zone.objects.create(
            code="CC-1",
            name="超采区",
            kind="overexploited",
            layer="shallow",
            geometry=square(*centre, 0.02),
            allowable_extraction_m3=1000,
            designation_document="test",
        )
        ReductionTarget.objects.create(year=TODAY.year, zone=zone, reduction_m3=12_000)
    wells = []
    for i, quota in enumerate((10_000, 5_000, 1_000)):
        w = well(f"W-OX-{i}", centre[0] + i * 0.001, centre[1])
        with audit_context(source="test"):
            p = Permit.objects.create(
                holder=world.user_b,
                source="shallow",
                use_type="agricultural",
                annual_quota_m3=quota,
                status="active",
                township=world.township_b,
            )
            p.wells.add(w)
        wells.append(w)
    found = {c.well.code: c for c in candidates(TODAY)}
    assert found["W-OX-0"].reasons == ["overexploited"]
    assert found["W-OX-0"].volume.m3 == 10_000 and found["W-OX-0"].volume.basis == "permitted"
    assert found["W-OX-1"].reasons == ["overexploited"]  # 10,000 alone does not reach 12,000
    assert "W-OX-2" not in found
    # Once the biggest is in the programme, the rest of the target is 2,000: the next one.
    bureau = world.accounts["bureau"]
    services.enrol(bureau, wells[0], deadline=TODAY, method="backfill", on=TODAY)
    found = {c.well.code: c for c in candidates(TODAY)}
    assert "W-OX-0" not in found and found["W-OX-1"].reasons == ["overexploited"]
    assert "W-OX-2" not in found


def test_enrol_checks_role_and_well(world: Any) -> None:
    work, area = supply(*SEAT)
    officer_a = world.accounts["township"]
    with pytest.raises(PermissionDenied):
        services.enrol(officer_a, world.well_b, deadline=TODAY, method="seal")
    with pytest.raises(ValidationError) as err:
        services.enrol(world.accounts["bureau"], world.well_a, deadline=TODAY, method="melt")
    assert "method" in err.value.message_dict
    e = services.enrol(
        world.accounts["bureau"],
        world.well_a,
        deadline=TODAY,
        method="seal",
        replacement_area=area,
        connection="东环路DN200",
        on=TODAY,
    )
    assert e.reasons == ["covered", "no_permit"] and e.replacement_work == work
    assert e.status == Status.PLANNED and e.township == world.township_a
    with pytest.raises(ValidationError):
        services.enrol(world.accounts["bureau"], world.well_a, deadline=TODAY, method="seal")


def _closed_entry(world: Any, method: str = "seal") -> ClosureEntry:
    bureau = world.accounts["bureau"]
    e = services.enrol(bureau, world.well_a, deadline=TODAY, method=method)
    e = services.advance(bureau, e, Status.NOTIFIED)
    return services.advance(bureau, e, Status.CLOSED, when=timezone.now() - dt.timedelta(days=2))


def test_status_moves_one_step_at_a_time(world: Any) -> None:
    bureau = world.accounts["bureau"]
    e = services.enrol(bureau, world.well_a, deadline=TODAY, method="backfill")
    with pytest.raises(ValidationError) as err:
        services.advance(bureau, e, Status.CLOSED)
    assert "status" in err.value.message_dict
    e = services.advance(bureau, e, Status.NOTIFIED)
    e = services.advance(world.accounts["township"], e, Status.CLOSED)  # own township
    e.well.refresh_from_db()
    assert e.well.status == "closed" and e.closed_at is not None


def test_sealed_well_and_verification_needs_evidence(world: Any) -> None:
    e = _closed_entry(world)
    e.well.refresh_from_db()
    assert e.well.status == "sealed"
    bureau = world.accounts["bureau"]
    with pytest.raises(PermissionDenied):  # a township officer cannot verify
        services.advance(world.accounts["township"], e, Status.VERIFIED)
    with pytest.raises(ValidationError, match="现场核查"):
        services.advance(bureau, e, Status.VERIFIED)
    far = services.inspect(
        bureau, e, inspected_at=timezone.now(), lon=SEAT[0] + 0.01, lat=SEAT[1], signed_by="张三"
    )
    assert far.distance_m > 800
    with pytest.raises(ValidationError, match="距井位"):
        services.advance(bureau, e, Status.VERIFIED)
    near = services.inspect(
        bureau, e, inspected_at=timezone.now(), lon=SEAT[0], lat=SEAT[1], signed_by="张三"
    )
    with pytest.raises(ValidationError, match="现场照片"):
        services.advance(bureau, e, Status.VERIFIED)
    services.attach_file(bureau, near, png(), "photo")
    with pytest.raises(ValidationError, match="签字文件"):
        services.advance(bureau, e, Status.VERIFIED)
    with pytest.raises(ValidationError) as err:  # not a picture or a PDF
        services.attach_file(bureau, near, b"plain text", "signature")
    assert "file" in err.value.message_dict
    services.attach_file(bureau, near, png("blue"), "signature")
    e = services.advance(bureau, e, Status.VERIFIED)
    assert e.verified_on == timezone.localdate()


def test_metered_well_withdrawing_cannot_be_verified_and_alarms(world: Any) -> None:
    e = _closed_entry(world)
    bureau = world.accounts["bureau"]
    assert check_closed_wells() == {"raised": 0, "cleared": 0}
    _reading(world.device_a, "cumulative_volume", e.closed_at + dt.timedelta(hours=1), 100.0)
    _reading(world.device_a, "cumulative_volume", e.closed_at + dt.timedelta(hours=5), 112.0)
    t = services.telemetry_since_closure(e)
    assert t.metered and t.meter_advance_m3 == 12.0 and t.withdrawing
    told: list[Any] = []

    def listen(entry: Any, alarm: Any) -> None:
        told.append((entry.pk, alarm.pk))

    closed_well_withdrawal.register(listen)
    try:
        assert check_closed_wells()["raised"] == 1
    finally:
        closed_well_withdrawal.unregister(listen)  # the enforcement app's answer stays
    alarm = Alarm.objects.get(kind="closed_well_withdrawal")
    assert told == [(e.pk, alarm.pk)]  # the hook the enforcement app will answer
    assert alarm.severity == "critical" and alarm.well_id == world.well_a.pk
    assert alarm.township_id == world.township_a.pk
    services.inspect(
        bureau,
        e,
        inspected_at=timezone.now(),
        lon=SEAT[0],
        lat=SEAT[1],
        signed_by="李四",
        photos=[png()],
        signatures=[png("blue")],
    )
    with pytest.raises(ValidationError, match="仍有取水"):
        services.advance(bureau, e, Status.VERIFIED)


def test_a_closed_well_drawing_water_opens_one_enforcement_case(world: Any) -> None:
    e = _closed_entry(world)
    _reading(world.device_a, "cumulative_volume", e.closed_at + dt.timedelta(hours=1), 100.0)
    _reading(world.device_a, "cumulative_volume", e.closed_at + dt.timedelta(hours=5), 112.0)
    assert check_closed_wells()["raised"] == 1
    alarm = Alarm.objects.get(kind="closed_well_withdrawal")
    case = Case.objects.get(alarm=alarm)
    assert (case.kind, case.source, case.well_id) == ("closed_well_pumping", "alarm", e.well_id)
    assert case.opened_by is None  # opened by Aquifer on its rule, not by a person
    assert case.evidence.exists()
    check_closed_wells()  # the condition lasts: still one case for the alarm
    assert Case.objects.filter(alarm=alarm).count() == 1


def test_flow_rate_after_closure_alarms(world: Any) -> None:
    e = _closed_entry(world, method="backfill")
    _reading(world.device_a, "flow_rate", e.closed_at - dt.timedelta(hours=1), 9.0)  # before
    assert check_closed_wells()["raised"] == 0
    _reading(world.device_a, "flow_rate", e.closed_at + dt.timedelta(hours=1), 3.5)
    assert check_closed_wells()["raised"] == 1
    Reading.objects.filter(element="flow_rate").delete()
    assert check_closed_wells() == {"raised": 0, "cleared": 1}


def test_unmetered_well_verifies_on_inspection(world: Any) -> None:
    Device.objects.filter(well=world.well_a).update(kind="level_logger")
    e = _closed_entry(world)
    assert services.telemetry_since_closure(e).metered is False
    bureau = world.accounts["bureau"]
    i = services.inspect(
        bureau,
        e,
        inspected_at=timezone.now(),
        lon=SEAT[0],
        lat=SEAT[1],
        signed_by="王五",
        photos=[png()],
        signatures=[png("blue")],
    )
    assert i.telemetry_m3 is None
    assert services.advance(bureau, e, Status.VERIFIED).status == Status.VERIFIED


def test_removed_and_progress_against_targets(world: Any) -> None:
    bureau = world.accounts["bureau"]
    with audit_context(source="test"):
        p = Permit.objects.create(
            holder=world.user_b,
            source="shallow",
            use_type="agricultural",
            annual_quota_m3=8000,
            status="active",
            township=world.township_b,
        )
        p.wells.add(world.well_b)
        ReductionTarget.objects.create(
            year=timezone.now().year, township=world.township_b, reduction_m3=16_000
        )
    Device.objects.filter(well=world.well_b).delete()
    e = services.enrol(bureau, world.well_b, deadline=TODAY, method="backfill")
    assert (e.baseline_m3, e.baseline_basis) == (8000, "permitted")
    rep = reports.progress(timezone.now().year)
    (b,) = [p for p in rep.townships if p.key == world.township_b]
    assert b.wells == 1 and b.removed_m3 == 0 and b.percent == 0
    e = services.advance(bureau, services.advance(bureau, e, Status.NOTIFIED), Status.CLOSED)
    rep = reports.progress(timezone.now().year)
    (b,) = [p for p in rep.townships if p.key == world.township_b]
    assert b.removed_m3 == 8000 and b.percent == 50.0
    assert rep.county.removed_m3 == 8000
    # The previous year knows nothing of it.
    assert reports.progress(timezone.now().year - 1).county.removed_m3 == 0
    counts = reports.closures_by_township(timezone.now().year)
    assert counts[world.township_b.pk]["closed"] == 1


def test_balance_rows(world: Any) -> None:
    towns, zones = reports.balance(timezone.now().year)
    (hc,) = [z for z in zones if z.key == world.zone]
    assert hc.allowable_m3 == 0 and hc.permitted_m3 == 0 and not hc.is_over
    assert {t.key.code for t in towns} >= {"140522100", "140522101"}
    (b,) = [t for t in towns if t.key == world.township_b]
    assert b.allowable_m3 == 0  # the prohibited zone's 0 split by area
    with audit_context(source="test"):
        TownshipAllowance.objects.create(township=world.township_b, allowable_m3=12_345)
    towns, _zones = reports.balance(timezone.now().year)
    (b,) = [t for t in towns if t.key == world.township_b]
    assert b.allowable_m3 == 12_345  # set by the bureau: replaces the split


def test_geojson_import_all_or_nothing(world: Any) -> None:
    work, _ = supply(*SEAT)
    good = {
        "type": "Feature",
        "geometry": square(112.45, 35.49, 0.005),
        "properties": {"name": "北片", "served_on": "2026-01-01", "capacity_m3_per_day": 500},
    }
    bad = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [1, 2]},
        "properties": {},
    }
    with pytest.raises(ValidationError) as err:
        import_geojson(work, {"type": "FeatureCollection", "features": [good, bad]})
    assert "第 2 个要素" in str(err.value)
    assert work.areas.count() == 1
    (area,) = import_geojson(work, {"type": "FeatureCollection", "features": [good]})
    assert area.served_on == dt.date(2026, 1, 1) and area.capacity_m3_per_day == 500
    assert area.area_km2 > 0
