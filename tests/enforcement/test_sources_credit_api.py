"""Pollution sources (duties, inspections, cases, the quality warning naming them), credit
records public once final, and the API and pages by role."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from aquifer.enforcement import pollution, services
from aquifer.enforcement.models import Case, CreditRecord, PollutionSource
from aquifer.monitoring.alarms import raise_alarm


def station(world: Any, **kw: Any) -> PollutionSource:
    data = {
        "name": "凤城加油站",
        "kind": "fuel_station",
        "lon": world.well_a.lon + 0.005,
        "lat": world.well_a.lat,
        "tank_type": "single_walled",
        "operator": world.user_a,
    }
    data.update(kw)
    s = PollutionSource(**data)
    s.full_clean()
    s.save()
    return s


def test_inspection_finding_opens_a_case(world: Any) -> None:
    s = station(world)
    assert s.township_id == world.township_a.pk
    with pytest.raises(PermissionDenied):
        pollution.inspect(s, by=world.accounts["water_user"], tank_type="single_walled")
    with pytest.raises(ValidationError) as e:
        pollution.inspect(s, by=world.accounts["inspector"])
    assert "tank_type" in e.value.message_dict
    i = pollution.inspect(s, by=world.accounts["inspector"], tank_type="single_walled")
    assert i.missing == ["tank"]
    case = pollution.open_case_from_inspection(i, by=world.accounts["inspector"])
    assert case.kind == "seepage_control" and case.source == "inspection"
    assert case.owner_id == world.user_a.pk and case.evidence.get().kind == "finding"
    with pytest.raises(ValidationError):
        pollution.open_case_from_inspection(i, by=world.accounts["inspector"])
    ok = pollution.inspect(s, by=world.accounts["inspector"], tank_type="double_walled")
    assert ok.missing == []


def test_sources_near_a_monitoring_well(world: Any) -> None:
    near = station(world)
    station(world, name="远处垃圾场", kind="landfill", tank_type="", lon=world.well_a.lon + 0.1)
    names = [s["name"] for s in pollution.sources_near_well(world.well_a)]
    assert names == [near.name]


def test_quality_warning_names_sources(world: Any) -> None:
    from aquifer.analysis import samples

    station(world, lon=world.well_b.lon + 0.003, lat=world.well_b.lat)

    class Sample:  # just what warn_if_needed reads
        sample_id = "S-1"
        klass = 5
        label = "V"
        deciding: list[Any] = []
        well = world.well_b
        sampled_at = None

        def get_absolute_url(self) -> str:
            return "/"

    original = samples.warning_params
    samples.warning_params = lambda s: {
        "well": "W-B-1",
        "sample": "S-1",
        "class": "V",  # type: ignore[assignment]
        "class_bad": True,
        "indicators": "",
    }
    try:
        assert samples.warn_if_needed(Sample())  # type: ignore[arg-type]
    finally:
        samples.warning_params = original
    from aquifer.monitoring.models import Alarm

    alarm = Alarm.objects.get(kind="quality_warning")
    assert "凤城加油站" in alarm.detail
    assert alarm.data["sources"][0]["name"] == "凤城加油站"


def decide(world: Any) -> Case:
    bureau = world.accounts["bureau"]
    case = services.open_case(
        "meter_interference",
        "manual",
        by=bureau,
        well=world.well_a,
        evidence=[("note", "x", {"a": 1})],
    )
    for step, data in [
        ("file", {}),
        ("investigate", {}),
        ("notice", {"band": "light"}),
        ("decide", {"amount": 20_000, "reason": "初次"}),
    ]:
        services.take_step(case, step, by=bureau, **data)
    return case


def test_credit_public_once_final(world: Any) -> None:
    case = decide(world)
    anonymous = world.client("anonymous")
    assert anonymous.get("/api/enforcement/credit/").json() == []
    assert len(world.client("water_user").get("/api/enforcement/credit/").json()) == 1
    CreditRecord.objects.filter(case=case).update(final_on=dt.date.today())
    rows = anonymous.get("/api/enforcement/credit/").json()
    assert [(r["water_user"], r["amount"], r["final"]) for r in rows] == [
        ("凤城供水站", 20_000, True)
    ]
    page = anonymous.get("/credit/")
    assert page.status_code == 200 and "凤城供水站" in page.content.decode()


def test_water_user_sees_only_decisions(world: Any) -> None:
    bureau = world.accounts["bureau"]
    pending = services.open_case("no_meter", "manual", by=bureau, well=world.well_a)
    decided = decide(world)
    c = world.client("water_user")
    ids = [x["id"] for x in c.get("/api/enforcement/cases/?state=all").json()["items"]]
    assert ids == [decided.pk]
    assert c.get(f"/enforcement/cases/{pending.pk}/").status_code == 404
    body = c.get(f"/api/enforcement/cases/{decided.pk}").json()
    assert body["decided_amount"] == 20_000 and body["evidence"] == [] and body["steps"] == []
    assert c.get(f"/enforcement/cases/{decided.pk}/documents/decision").status_code == 200
    assert c.get(f"/enforcement/cases/{decided.pk}/documents/filing").status_code == 404


def test_api_alarm_to_decision(world: Any) -> None:
    alarm = raise_alarm(
        kind="prohibited_withdrawal",
        key="prohibited_withdrawal:well:1",
        message="prohibited_withdrawal",
        params={"well": "W-B-1"},
        well=world.well_b,
    )
    officer = world.client("township")  # township A: the alarm is B's
    assert (
        officer.post(
            f"/api/enforcement/alarms/{alarm.pk}/case", "{}", content_type="application/json"
        ).status_code
        == 404
    )
    inspector = world.client("inspector")
    r = inspector.post(
        f"/api/enforcement/alarms/{alarm.pk}/case", "{}", content_type="application/json"
    )
    assert r.status_code == 201, r.content
    case = r.json()
    assert case["kind"] == "unpermitted_withdrawal" and case["range"] == [20_000, 100_000]
    assert case["evidence"][0]["kind"] == "alarm"
    step = inspector.post(
        f"/api/enforcement/cases/{case['id']}/steps",
        json.dumps({"step": "file"}),
        content_type="application/json",
    )
    assert step.status_code == 403  # approval is the bureau's
    bureau = world.client("bureau")
    url = f"/api/enforcement/cases/{case['id']}/steps"
    for body in ({"step": "file"}, {"step": "investigate"}, {"step": "notice", "band": "ordinary"}):
        assert (
            bureau.post(url, json.dumps(body), content_type="application/json").status_code == 200
        )
    bad = bureau.post(
        url,
        json.dumps({"step": "decide", "amount": 1, "reason": "x"}),
        content_type="application/json",
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "amount"
    attach = inspector.post(
        f"/api/enforcement/cases/{case['id']}/evidence",
        json.dumps({"kind": "frame", "label": "f", "raw_hex": "xyz"}),
        content_type="application/json",
    )
    assert attach.status_code == 422 and attach.json()["errors"][0]["field"] == "raw_hex"
    export = bureau.get("/api/enforcement/cases/export?format=xlsx&state=all")
    assert export.status_code == 200
    # officer A does not see B's case
    assert world.client("township").get(f"/api/enforcement/cases/{case['id']}").status_code == 404


def test_pages_render(world: Any) -> None:
    alarm = raise_alarm(
        kind="deep_withdrawal", key="deep_withdrawal:well:1", title="deep", well=world.well_a
    )
    bureau = world.client("bureau")
    r = bureau.post(f"/enforcement/alarms/{alarm.pk}/case")
    assert r.status_code == 302
    case = Case.objects.get(alarm=alarm)
    assert bureau.get(case.get_absolute_url()).status_code == 200
    r = bureau.post(f"/enforcement/cases/{case.pk}/step", {"step": "file", "note": "ok"})
    assert r.status_code == 302
    r = bureau.post(f"/enforcement/cases/{case.pk}/step", {"step": "decide"})
    assert r.status_code == 422
    r = bureau.post(
        f"/enforcement/cases/{case.pk}/evidence",
        {"kind": "note", "label": "现场", "text": "泵在运行"},
    )
    assert r.status_code == 302 and case.evidence.count() == 2
    for url in (
        "/enforcement/",
        "/enforcement/metering/",
        "/enforcement/electricity/",
        "/enforcement/sources/",
        f"/enforcement/cases/{case.pk}/documents/filing",
        "/enforcement/cases/new/",
    ):
        assert bureau.get(url).status_code == 200, url
    r = bureau.post("/enforcement/electricity/", {"file": _upload("井编号,年\n")})
    assert r.status_code == 422 and "月" in r.content.decode()


def _upload(text: str) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("s.csv", text.encode(), content_type="text/csv")


def test_documents_are_pdf(world: Any) -> None:
    from aquifer.enforcement import documents

    case = decide(world)
    html = documents.html(case, "decision")
    assert "行政处罚决定书" in html and "20000" in html and case.number in html
    assert "陈述和申辩" in documents.html(case, "notice")
    r = world.client("bureau").get(f"/enforcement/cases/{case.pk}/documents/filing")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")


def test_file_evidence_through_attachments(world: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    case = services.open_case("no_meter", "manual", by=world.accounts["bureau"], well=world.well_a)
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buf, format="PNG")
    png = buf.getvalue()
    r = world.client("inspector").post(
        f"/enforcement/cases/{case.pk}/evidence",
        {"label": "现场照片", "file": SimpleUploadedFile("p.png", png, content_type="image/png")},
    )
    assert r.status_code == 302, r.content.decode()[:500]
    e = case.evidence.get()
    assert e.kind == "file" and e.attachment_id and len(e.content["sha256"]) == 64


def test_alarm_page_offers_a_case(world: Any) -> None:
    alarm = raise_alarm(
        kind="deep_withdrawal", key="deep_withdrawal:well:9", title="deep", well=world.well_a
    )
    url = alarm.get_absolute_url()
    assert 'id="open-case"' in world.client("inspector").get(url).content.decode()
    assert 'id="open-case"' not in world.client("water_user").get(url).content.decode()


def test_api_import_and_file(world: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    bureau = world.client("bureau")
    bad = SimpleUploadedFile("s.csv", "井编号,年,月,用电量(kWh)\nW-A-1,2026,1,-5\n".encode())
    r = bureau.post("/api/enforcement/electricity/import", {"file": bad})
    assert r.status_code == 422 and "2" in r.json()["errors"][0]["message"]
    good = SimpleUploadedFile("s.csv", "井编号,年,月,用电量(kWh)\nW-A-1,2026,1,5\n".encode())
    r = bureau.post("/api/enforcement/electricity/import", {"file": good})
    assert r.json() == {"created": 1, "changed": 0, "unchanged": 0}
    assert (
        world.client("inspector")
        .post("/api/enforcement/electricity/import", {"file": good})
        .status_code
        == 403
    )
    case = services.open_case("no_meter", "manual", by=world.accounts["bureau"], well=world.well_a)
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (4, 4), "blue").save(buf, format="PNG")
    photo = SimpleUploadedFile("photo.png", buf.getvalue(), content_type="image/png")
    r = bureau.post(f"/api/enforcement/cases/{case.pk}/files?label=photo", {"file": photo})
    assert r.status_code == 201, r.content
    assert r.json()["kind"] == "file" and len(r.json()["content"]["sha256"]) == 64
    export = world.client("anonymous").get("/api/enforcement/credit/export?format=csv")
    assert export.status_code == 200


def test_a_source_is_edited_page_and_api(world: Any) -> None:
    from aquifer.core.models import AuditEntry

    s = station(world)
    far = station(world, name="北留垃圾场", kind="landfill", tank_type="",
                  lon=world.well_b.lon, lat=world.well_b.lat)  # fmt: skip
    assert far.township_id == world.township_b.pk
    inspector = world.client("inspector")
    url = f"/api/enforcement/sources/{s.pk}"
    r = inspector.patch(url, {"tank_type": "double_walled", "notes": "已改造"},
                        content_type="application/json")  # fmt: skip
    assert r.status_code == 200, r.content
    assert r.json()["missing"] == [] and r.json()["tank_type"] == "double_walled"
    s.refresh_from_db()
    assert s.notes == "已改造"
    assert AuditEntry.objects.filter(object_type="enforcement.pollutionsource", action="update",
                                     object_id=str(s.pk)).exists()  # fmt: skip
    # Bad input: a 422 naming the field, nothing saved.
    for body, field in [
        ({"kind": "volcano"}, "kind"),
        ({"lat": 123.0}, "lat"),
        ({"colour": "red"}, "colour"),
        ({"tank_type": ""}, "tank_type"),  # a fuel station keeps its tank type
        ({"operator_id": 999999}, "operator_id"),
    ]:
        r = inspector.patch(url, body, content_type="application/json")
        assert r.status_code == 422, (body, r.content)
        assert field in r.content.decode(), (body, r.content)
    s.refresh_from_db()
    assert s.tank_type == "double_walled" and s.kind == "fuel_station"
    # Out of scope: a 404 for the township officer of another township; in scope, no edit: 403.
    officer = world.client("township")
    assert officer.patch(f"/api/enforcement/sources/{far.pk}", {"notes": "x"},
                         content_type="application/json").status_code == 404  # fmt: skip
    assert officer.patch(url, {"notes": "x"}, content_type="application/json").status_code == 403
    assert officer.get(f"/enforcement/sources/{far.pk}/edit").status_code == 404
    assert officer.get(f"/enforcement/sources/{s.pk}/edit").status_code == 403
    # The page: the form, a bad field named, then a good edit.
    page = inspector.get(f"/enforcement/sources/{s.pk}/edit")
    assert page.status_code == 200 and "source-edit-form" in page.content.decode()
    form = {"name": "凤城加油站（新）", "kind": "fuel_station", "lon": s.lon, "lat": s.lat,
            "operator_name": "", "tank_type": "", "notes": "", "active": "on"}  # fmt: skip
    bad = inspector.post(f"/enforcement/sources/{s.pk}/edit", form)
    assert bad.status_code == 422 and "加油站须填写地下油罐类型" in bad.content.decode()
    form["tank_type"] = "seepage_pit"
    ok = inspector.post(f"/enforcement/sources/{s.pk}/edit", form)
    assert ok.status_code == 302
    s.refresh_from_db()
    assert s.name == "凤城加油站（新）" and s.tank_type == "seepage_pit"
    with pytest.raises(ValidationError) as e:
        pollution.update_source(s, {"township": world.township_b}, by=world.accounts["bureau"])
    assert "township" in e.value.message_dict
