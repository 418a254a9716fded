"""Cases: opened from an alarm with evidence, the procedure with deadlines, penalties within
the article's range, credit records, scoping."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from aquifer.enforcement import articles, evidence, services
from aquifer.enforcement.models import Case, CreditRecord, Evidence
from aquifer.monitoring.alarms import raise_alarm
from aquifer.notifications.models import Notice
from aquifer.telemetry.models import QuarantinedFrame, Reading


def unregistered_alarm() -> Any:
    QuarantinedFrame.objects.create(
        station="9999000001",
        protocol="SL651",
        raw_hex="7E7E0199990000011234",
        reason="unknown",
        kind="unknown_station",
    )
    return raise_alarm(
        kind="unregistered_station",
        key="unregistered_station:9999000001",
        message="unregistered_station",
        params={"station": "9999000001", "frames": 1, "protocol": "SL651", "source": "1.2.3.4"},
        data={"station": "9999000001", "protocol": "SL651", "remote_addr": "1.2.3.4"},
    )


def test_case_from_alarm_carries_frames_and_readings(world: Any) -> None:
    alarm = unregistered_alarm()
    case = services.open_from_alarm(alarm, by=world.accounts["inspector"])
    assert case.kind == "unapproved_works" and case.source == "alarm"
    kinds = list(case.evidence.values_list("kind", flat=True))
    assert kinds == ["alarm", "frame"]
    frame = case.evidence.get(kind="frame")
    assert frame.content["raw_hex"] == "7E7E0199990000011234"
    assert case.steps.get().step == "open" and case.due_at is not None
    with pytest.raises(ValidationError):  # one case per alarm
        services.open_from_alarm(alarm, by=world.accounts["inspector"])

    now = timezone.now()
    Reading.objects.create(
        device=world.device_a,
        element="cumulative_volume",
        observed_at=now - dt.timedelta(hours=1),
        value=100.0,
    )
    Reading.objects.create(
        device=world.device_a, element="cumulative_volume", observed_at=now, value=50.0
    )
    backwards = raise_alarm(
        kind="suspicious_reading",
        key="suspicious_reading:x",
        title="meter backwards",
        device=world.device_a,
    )
    case2 = services.open_from_alarm(backwards, by=world.accounts["bureau"])
    assert case2.kind == "meter_interference"
    assert case2.township_id == world.township_a.pk and case2.owner_id == world.user_a.pk
    readings = case2.evidence.get(kind="readings").content["readings"]
    assert [r["value"] for r in readings] == [100.0, 50.0]


def test_scoping_of_opening(world: Any) -> None:
    with pytest.raises(PermissionDenied):
        services.open_case("no_meter", "manual", by=world.accounts["water_user"], well=world.well_a)
    with pytest.raises(PermissionDenied):  # a township officer: only their township
        services.open_case("no_meter", "patrol", by=world.accounts["township"], well=world.well_b)
    case = services.open_case(
        "no_meter", "patrol", by=world.accounts["township"], well=world.well_a
    )
    assert case.township_id == world.township_a.pk
    with pytest.raises(ValidationError) as e:
        services.open_case("nonsense", "manual", by=world.accounts["bureau"])
    assert "kind" in e.value.message_dict
    with pytest.raises(ValidationError) as e:
        services.open_case("no_meter", "rumour", by=world.accounts["bureau"])
    assert "source" in e.value.message_dict


def run_to_decision(world: Any, amount: int = 150_000) -> Case:
    bureau, inspector = world.accounts["bureau"], world.accounts["inspector"]
    case = services.open_case(
        "no_meter",
        "inspection",
        by=inspector,
        well=world.well_a,
        evidence=[("note", "现场勘验", {"text": "无水表"})],
    )
    with pytest.raises(PermissionDenied):  # filing is the bureau's approval
        services.take_step(case, "file", by=inspector)
    services.take_step(case, "file", by=bureau, note="同意立案")
    services.take_step(case, "investigate", by=inspector)
    services.take_step(case, "notice", by=inspector, band="light")
    assert case.proposed_amount == 100_000 + 400_000 * 0.15
    assert case.due_step == "statement"
    services.take_step(case, "statement", by=inspector, hearing=True)
    assert case.hearing_requested
    services.take_step(case, "decide", by=bureau, amount=amount, reason="首次违法，积极整改")
    return case


def test_procedure_and_penalty_range(world: Any) -> None:
    case = run_to_decision(world)
    assert case.state == "decided" and case.decided_amount == 150_000
    assert [s.step for s in case.steps.all()] == [
        "open",
        "file",
        "investigate",
        "notice",
        "statement",
        "decide",
    ]
    assert all(s.username for s in case.steps.all())
    credit = CreditRecord.objects.get(case=case)
    assert credit.water_user_id == world.user_a.pk and not credit.is_final
    services.take_step(case, "execute", by=world.accounts["inspector"], execution="paid")
    credit.refresh_from_db()
    assert credit.is_final
    services.take_step(case, "close", by=world.accounts["inspector"])
    assert case.state == "closed"
    with pytest.raises(ValidationError):
        services.take_step(case, "close", by=world.accounts["bureau"])


def test_decision_outside_range_names_the_field(world: Any) -> None:
    bureau = world.accounts["bureau"]
    case = services.open_case(
        "meter_interference",
        "manual",
        by=bureau,
        well=world.well_a,
        evidence=[("note", "x", {"a": 1})],
    )
    for step, data in [("file", {}), ("investigate", {}), ("notice", {"band": "serious"})]:
        services.take_step(case, step, by=bureau, **data)
    with pytest.raises(ValidationError) as e:
        services.take_step(case, "decide", by=bureau, amount=5_000, reason="x")
    assert "amount" in e.value.message_dict
    with pytest.raises(ValidationError) as e:
        services.take_step(case, "decide", by=bureau, amount=50_000, reason="  ")
    assert "reason" in e.value.message_dict


def test_investigation_needs_evidence(world: Any) -> None:
    bureau = world.accounts["bureau"]
    case = services.open_case("not_sealed", "manual", by=bureau, well=world.well_a)
    services.take_step(case, "file", by=bureau)
    with pytest.raises(ValidationError):
        services.take_step(case, "investigate", by=bureau)


def test_proposals_lie_in_range() -> None:
    bands = {"light": [0.0, 0.3], "ordinary": [0.3, 0.7], "serious": [0.7, 1.0]}
    for kind, a in articles.ARTICLES.items():
        for band in bands:
            amount = articles.propose(kind, band, bands)
            articles.check_amount(kind, amount)
            assert a.minimum <= amount <= a.maximum


def test_deadline_warnings_once(world: Any) -> None:
    inspector = world.accounts["inspector"]
    case = services.open_case("no_meter", "manual", by=inspector, well=world.well_a)
    later = case.due_at + dt.timedelta(days=1)
    assert services.warn_deadlines(now=later) == 1
    assert services.warn_deadlines(now=later) == 0
    notice = Notice.objects.filter(event="case.deadline").get()
    assert case.number in notice.title


def test_evidence_chain_verifies_and_names_the_first_break(world: Any) -> None:
    bureau = world.accounts["bureau"]
    case = services.open_case(
        "no_meter",
        "manual",
        by=bureau,
        well=world.well_a,
        evidence=[("note", "a", {"n": 1}), ("note", "b", {"n": 2})],
    )
    services.attach(case, "frame", "报文", {"raw_hex": "7e 7e 01"}, by=bureau)
    third = case.evidence.get(seq=3)
    assert (
        third.content["raw_hex"] == "7E7E01"
        and third.prev_hash == case.evidence.get(seq=2).entry_hash
    )
    with pytest.raises(ValidationError):
        services.attach(case, "frame", "报文", {"raw_hex": "zz"}, by=bureau)
    assert evidence.verify().ok
    second = case.evidence.get(seq=2)
    with pytest.raises(ValidationError):  # the ORM refuses
        second.save()
    with connection.cursor() as c:  # a change behind the application's back
        if connection.vendor == "sqlite":
            c.execute("DROP TRIGGER enforcement_evidence_no_update")
        else:
            c.execute("SET CONSTRAINTS ALL IMMEDIATE")
            c.execute("ALTER TABLE enforcement_evidence DISABLE TRIGGER USER")
        c.execute(
            "UPDATE enforcement_evidence SET content = %s WHERE id = %s", ['{"n": 3}', second.pk]
        )
    result = evidence.verify()
    assert not result.ok and result.broken is not None and result.broken.pk == second.pk
    assert result.problem == "content" and result.missing_triggers


def test_evidence_update_refused_by_database(world: Any) -> None:
    from django.db import DatabaseError, transaction

    bureau = world.accounts["bureau"]
    case = services.open_case(
        "no_meter", "manual", by=bureau, well=world.well_a, evidence=[("note", "a", {"n": 1})]
    )
    with pytest.raises(DatabaseError), transaction.atomic():
        Evidence.objects.filter(case=case).update(label="changed")


def test_verify_command(world: Any) -> None:
    import io

    from django.core.management import CommandError, call_command

    bureau = world.accounts["bureau"]
    case = services.open_case(
        "no_meter",
        "manual",
        by=bureau,
        well=world.well_a,
        evidence=[("note", "a", {"n": 1}), ("note", "b", {"n": 2})],
    )
    out = io.StringIO()
    call_command("enforcement", "verify", stdout=out)
    assert "2" in out.getvalue()
    second = case.evidence.get(seq=2)
    with connection.cursor() as c:
        if connection.vendor == "sqlite":
            c.execute("DROP TRIGGER enforcement_evidence_no_update")
        else:
            c.execute("SET CONSTRAINTS ALL IMMEDIATE")
            c.execute("ALTER TABLE enforcement_evidence DISABLE TRIGGER USER")
        c.execute(
            "UPDATE enforcement_evidence SET prev_hash = %s WHERE id = %s", ["0" * 64, second.pk]
        )
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("enforcement", "verify", stdout=io.StringIO(), stderr=err)
    assert f"id {second.pk}" in err.getvalue()


def test_a_patrol_opens_one_case_page_and_api(world: Any) -> None:
    from django.utils import timezone

    from aquifer.core.audit import audit_context
    from aquifer.enforcement.models import Case
    from aquifer.maintenance.models import Patrol

    with audit_context(source="test"):
        patrol = Patrol.objects.create(
            device=world.device_a,
            visited_at=timezone.now(),
            inspector=world.accounts["inspector"],
            findings="水表铅封被破坏",
        )
    inspector = world.client("inspector")
    page = inspector.get(f"/maintenance/patrols/{patrol.pk}/").content.decode()
    assert f"/enforcement/patrols/{patrol.pk}/case" in page
    form = inspector.get(f"/enforcement/patrols/{patrol.pk}/case")
    assert form.status_code == 200 and "水表铅封被破坏" in form.content.decode()
    r = inspector.post(f"/enforcement/patrols/{patrol.pk}/case", {"kind": "meter_interference"})
    case = Case.objects.get()
    assert r.status_code == 302 and r["Location"] == case.get_absolute_url()
    assert (case.source, case.patrol_id, case.well_id) == ("patrol", patrol.pk, world.well_a.pk)
    snapshot = case.evidence.get(kind="finding").content
    assert snapshot["findings"] == "水表铅封被破坏"
    # A second case for the same patrol is refused, naming the first; bad kinds are 4xx.
    again = inspector.post(f"/enforcement/patrols/{patrol.pk}/case", {"kind": "no_meter"})
    assert again.status_code == 422 and case.number in again.content.decode()
    api = inspector.post(
        f"/api/enforcement/patrols/{patrol.pk}/case",
        {"kind": "nonsense"},
        content_type="application/json",
    )
    assert api.status_code == 422 and "kind" in api.content.decode()
    assert Case.objects.count() == 1
    # The device's own water user sees the patrol but may not open cases.
    assert (
        world.client("water_user").get(f"/enforcement/patrols/{patrol.pk}/case").status_code == 403
    )
