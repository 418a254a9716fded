"""Inspections, findings and rectification orders: issue, answer with evidence, verify, send
back, overdue escalation, accountability after repeated failures; the enforcement hook."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from aquifer.enforcement.models import Case
from aquifer.notifications.models import Notice
from aquifer.supervision import hooks, services
from aquifer.supervision.models import Accountability, Finding, Rectification
from tests.supervision.conftest import post

pytestmark = pytest.mark.django_db


def _inspection(world: Any) -> tuple[int, int]:
    inspector = world.client("inspector")
    today = timezone.localdate().isoformat()
    r = post(
        inspector,
        "/api/supervision/inspections/",
        {
            "owner_id": world.user_a.pk,
            "date": today,
            "subject": "计量设施检查",
            "lon": 112.417,
            "lat": 35.486,
        },
    )
    assert r.status_code == 201, r.content
    i = r.json()
    assert i["township_id"] == world.township_a.pk and i["inspectors"] == ["inspector"]
    r = post(
        inspector,
        f"/api/supervision/inspections/{i['id']}/findings",
        {"description": "水表铅封破损", "rule": "条例第四十三条", "severity": "major"},
    )
    assert r.status_code == 201
    return i["id"], r.json()["id"]


def test_inspection_validation_and_scope(world: Any) -> None:
    inspector = world.client("inspector")
    today = timezone.localdate().isoformat()
    r = post(inspector, "/api/supervision/inspections/", {"date": today, "subject": "x"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "township_id"
    r = post(
        inspector,
        "/api/supervision/inspections/",
        {"township_id": world.township_a.pk, "date": today, "subject": "x", "lon": 500, "lat": 1},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "lon"
    # Township officers and water users do not record inspections.
    r = post(
        world.client("township"),
        "/api/supervision/inspections/",
        {"township_id": world.township_a.pk, "date": today, "subject": "x"},
    )
    assert r.status_code == 403
    pk, _finding = _inspection(world)
    assert world.client("water_user").get(f"/api/supervision/inspections/{pk}").status_code == 200
    assert world.client("public").get(f"/api/supervision/inspections/{pk}").status_code in (
        403,
        404,
    )


def test_finding_hook_for_enforcement(world: Any) -> None:
    seen: list[Any] = []

    def open_case(finding: Any, by: Any) -> None:
        seen.append((finding.pk, by.get_username()))

    hooks.finding_recorded.register(open_case)
    try:
        _pk, finding = _inspection(world)
    finally:
        hooks.finding_recorded.unregister(open_case)
    assert seen == [(finding, "inspector")]


def test_a_finding_is_referred_to_enforcement_once(world: Any) -> None:
    inspection, finding = _inspection(world)
    inspector = world.client("inspector")
    r = post(inspector, f"/api/supervision/findings/{finding}/case", {"kind": "meter_interference"})
    assert r.status_code == 201, r.content
    case = Case.objects.get(pk=r.json()["id"])
    assert (case.source, case.kind) == ("inspection", "meter_interference")
    assert case.owner_id == world.user_a.pk and case.township_id == world.township_a.pk
    snapshot = case.evidence.get(kind="finding").content
    assert snapshot["description"] == "水表铅封破损" and snapshot["rule"] == "条例第四十三条"
    again = post(inspector, f"/api/supervision/findings/{finding}/case", {"kind": "no_meter"})
    assert again.status_code in (400, 409, 422) and "finding" in again.content.decode()
    bad = post(inspector, f"/api/supervision/findings/{finding}/case", {"kind": "nonsense"})
    assert bad.status_code == 422 and "kind" in bad.content.decode()
    # the page shows the case instead of the button; a water user cannot refer
    page = inspector.get(f"/supervision/inspections/{inspection}/").content.decode()
    assert case.number in page
    user = world.client("water_user")
    r = post(user, f"/api/supervision/findings/{finding}/case", {"kind": "no_meter"})
    assert r.status_code in (403, 404)
    assert Case.objects.count() == 1


def test_the_inspection_page_refers_a_finding(world: Any) -> None:
    inspection, finding = _inspection(world)
    bureau = world.client("bureau")
    page = bureau.get(f"/supervision/inspections/{inspection}/").content.decode()
    assert "移送执法立案" in page
    r = bureau.post(
        f"/supervision/inspections/{inspection}/",
        {"action": "case", "finding": finding, "kind": "no_meter"},
    )
    case = Case.objects.get()
    assert r.status_code == 302 and r["Location"] == case.get_absolute_url()


def test_order_cycle_send_back_and_accountability(world: Any) -> None:
    _pk, finding = _inspection(world)
    inspector, user, bureau = (
        world.client("inspector"),
        world.client("water_user"),
        world.client("bureau"),
    )
    past = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    r = post(
        inspector,
        f"/api/supervision/findings/{finding}/orders",
        {"requirement": "更换铅封", "responsible": "凤城供水站", "deadline": past},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "deadline"
    r = post(
        inspector,
        f"/api/supervision/findings/{finding}/orders",
        {"requirement": "更换铅封", "responsible": "凤城供水站"},
    )
    assert r.status_code == 201
    order = r.json()["id"]
    assert Notice.objects.filter(event="rectification.issued").exists()
    # Only an answered order can be verified; an answer needs its evidence.
    assert (
        post(bureau, f"/api/supervision/orders/{order}/actions", {"action": "close"}).status_code
        == 422
    )
    r = post(user, f"/api/supervision/orders/{order}/actions", {"action": "answer"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "evidence"
    assert (
        post(user, f"/api/supervision/orders/{order}/actions", {"action": "close"}).status_code
        == 403
    )
    for k in range(2):
        r = post(
            user,
            f"/api/supervision/orders/{order}/actions",
            {"action": "answer", "note": f"已更换 {k}"},
        )
        assert r.json()["state"] == "answered"
        r = post(
            bureau,
            f"/api/supervision/orders/{order}/actions",
            {"action": "send_back", "note": "照片不清"},
        )
        assert r.json()["state"] == "sent_back"
    acc = Accountability.objects.get()
    assert acc.township_id == world.township_a.pk
    assert acc.history[0]["sent_back"] == 2 and len(acc.history[0]["events"]) == 5
    assert Notice.objects.filter(event="accountability.opened").count() == 1
    post(
        user,
        f"/api/supervision/orders/{order}/actions",
        {"action": "answer", "note": "已更换，附新照片"},
    )
    r = post(bureau, f"/api/supervision/orders/{order}/actions", {"action": "close"})
    assert r.json()["state"] == "closed"
    listing = world.client("township").get("/api/supervision/accountability/").json()
    assert [a["township_id"] for a in listing] == [world.township_a.pk]


def test_overdue_orders_escalate_once(world: Any) -> None:
    _pk, finding_id = _inspection(world)
    finding = Finding.objects.get(pk=finding_id)
    order = services.issue_order(
        by=world.accounts["bureau"], finding=finding, requirement="整改", responsible="凤城镇"
    )
    Rectification.objects.filter(pk=order.pk).update(
        deadline=timezone.localdate() - dt.timedelta(days=3)
    )
    assert services.escalate_overdue_orders() == 1
    assert services.escalate_overdue_orders() == 0
    assert Notice.objects.filter(event="rectification.overdue", severity="critical").count() == 1
    r = world.client("bureau").get("/api/supervision/orders/?overdue=on")
    assert [o["id"] for o in r.json()["items"]] == [order.pk]


def test_pages(world: Any) -> None:
    pk, finding = _inspection(world)
    c = world.client("inspector")
    r = c.get("/supervision/inspections/")
    assert r.status_code == 200 and b'id="inspection-list"' in r.content
    r = c.post(
        f"/supervision/inspections/{pk}/",
        {"action": "order", "finding": finding, "requirement": "", "responsible": ""},
    )
    assert r.status_code == 422
    r = c.post(
        f"/supervision/inspections/{pk}/",
        {"action": "order", "finding": finding, "requirement": "整改", "responsible": "凤城镇"},
    )
    assert r.status_code == 302
    order = Rectification.objects.get()
    r = world.client("water_user").get(order.get_absolute_url())
    assert r.status_code == 200 and b'id="form-answer"' in r.content
    r = world.client("water_user").post(
        f"/supervision/orders/{order.pk}/act", {"action": "answer", "note": ""}
    )
    assert r.status_code == 422


def _png() -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


PNG = _png()


def test_evidence_files_are_scoped(world: Any, settings: Any, tmp_path: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.AQUIFER = {**settings.AQUIFER, "ATTACHMENTS": {"ROOT": str(tmp_path)}}
    _pk, finding = _inspection(world)
    inspector = world.client("inspector")
    r = inspector.post(
        f"/api/supervision/findings/{finding}/files",
        {"files": [SimpleUploadedFile("seal.png", PNG, "image/png")]},
    )
    assert r.status_code == 201, r.content
    (photo,) = r.json()["files"]
    assert len(photo["sha256"]) == 64 and photo["mime"] == "image/png"
    bad = inspector.post(
        f"/api/supervision/findings/{finding}/files",
        {"files": [SimpleUploadedFile("x.exe", b"MZ\x90\x00not an image", "image/png")]},
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "files"
    # Served to who may see the inspection; to nobody else.
    assert world.client("water_user").get(photo["url"]).status_code == 200
    b_officer = world.client("bureau")
    from aquifer.core.models import User

    b_officer.force_login(
        User.objects.create_user("ob", role="township", township=world.township_b)
    )
    assert b_officer.get(photo["url"]).status_code == 404
    order = services.issue_order(
        by=world.accounts["bureau"],
        finding=Finding.objects.get(pk=finding),
        requirement="更换铅封",
        responsible="凤城供水站",
    )
    r = world.client("water_user").post(
        f"/api/supervision/orders/{order.pk}/evidence",
        {"note": "已更换", "files": [SimpleUploadedFile("new.png", PNG, "image/png")]},
    )
    assert r.status_code == 200, r.content
    answer = r.json()["events"][-1]
    assert answer["action"] == "answer" and len(answer["files"]) == 1
