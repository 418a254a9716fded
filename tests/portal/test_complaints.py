"""Complaints (issue 18 point 2): filing and following on the page and through the API,
routing, secrets, abuse limits, the staff's desk and its scope, notifications."""

from __future__ import annotations

import io
import json
import os
from typing import Any

import pytest
from django.test import Client
from PIL import Image

from aquifer.core.attachments import attachments_of
from aquifer.notifications.models import Notice
from aquifer.portal import services
from aquifer.portal.models import Complaint, ComplaintState, FilingAttempt

pytestmark = pytest.mark.django_db


def png(size: int = 8) -> io.BytesIO:
    buf = io.BytesIO()
    Image.frombytes("RGB", (size, size), os.urandom(size * size * 3)).save(buf, "PNG")
    buf.seek(0)
    buf.name = "photo.png"
    return buf


def form(world: Any, **over: Any) -> dict[str, Any]:
    data = {
        "category": "illegal_well",
        "description": "村东有人夜里打井。",
        "lon": world.well_a.lon,
        "lat": world.well_a.lat,
        "place": "村东",
        "name": "",
        "phone": "",
        "website": "",
    }
    data.update(over)
    return data


def test_anonymous_files_on_the_page_and_gets_number_and_secret_once(world: Any) -> None:
    r = Client().post("/portal/complaints/new/", {**form(world), "photos": [png()]})
    assert r.status_code == 201
    c = Complaint.objects.get()
    assert c.number in r.content.decode()
    assert c.township_id == world.township_a.pk  # routed by location
    assert c.due_at > c.filed_at
    secret = r.context["secret"]
    assert secret and secret not in c.secret_hash and len(c.secret_hash) == 64
    assert attachments_of(c).count() == 1
    assert r.headers["Cache-Control"].startswith("max-age=0")
    # the address is kept only as a salted hash
    attempt = FilingAttempt.objects.get()
    assert "127.0.0.1" not in attempt.address_hash and len(attempt.address_hash) == 64
    # following on the page: the status, not the secret in the URL
    r = Client().post("/portal/complaints/follow/", {"number": c.number, "secret": secret})
    assert r.status_code == 200 and c.get_state_display() in r.content.decode()
    r = Client().post("/portal/complaints/follow/", {"number": c.number, "secret": "wrong"})
    assert r.status_code == 404


def test_honeypot_and_place_outside_the_county_are_refused(world: Any) -> None:
    r = Client().post("/portal/complaints/new/", form(world, website="http://spam"))
    assert r.status_code == 422 and "website" in r.context["form"].errors
    r = Client().post("/portal/complaints/new/", form(world, lon=116.4, lat=39.9))
    assert r.status_code == 422 and "lon" in r.context["form"].errors
    assert not Complaint.objects.exists()


def test_device_reports_go_to_the_bureau(world: Any) -> None:
    filed = services.file_complaint(
        category="device", description="监测设备被砸坏了。", lon=world.well_a.lon,
        lat=world.well_a.lat,
    )  # fmt: skip
    assert filed.complaint.township_id is None
    assert str(filed.complaint.handler) == "县水务局"


def test_api_file_and_follow(world: Any) -> None:
    c = Client()
    r = c.post(
        "/api/complaints/",
        {
            "category": "pollution",
            "description": "河边渗坑排污。",
            "lon": world.well_b.lon,
            "lat": world.well_b.lat,
            "photos": [png(), png(12)],
        },
    )
    assert r.status_code == 201, r.content
    body = r.json()
    number, secret = body["number"], body["secret"]
    complaint = Complaint.objects.get(number=number)
    assert complaint.township_id == world.township_b.pk
    assert attachments_of(complaint).count() == 2
    r = c.get(f"/api/complaints/{number}", HTTP_X_COMPLAINT_SECRET=secret)
    assert r.status_code == 200
    assert r.json()["state"] == "new" and r.json()["events"][0]["action"] == "file"
    assert "name" not in r.json() and "secret" not in r.json()
    assert c.get(f"/api/complaints/{number}", HTTP_X_COMPLAINT_SECRET="nope").status_code == 404
    assert c.get(f"/api/complaints/{number}").status_code == 404
    # a bad field is a 422 naming it
    r = c.post(
        "/api/complaints/", {"category": "pollution", "description": "x", "lon": 1, "lat": 1}
    )
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} >= {"description", "lon"}


def test_photo_limits(world: Any, settings: Any) -> None:
    settings.AQUIFER = {
        **settings.AQUIFER,
        "PORTAL": {"PHOTO_MAX_BYTES": 200, "MAX_PHOTOS": 1},
    }
    data = {"category": "other", "description": "照片太大了。", "lon": world.well_a.lon,
            "lat": world.well_a.lat}  # fmt: skip
    r = Client().post("/api/complaints/", {**data, "photos": [png(64)]})
    assert r.status_code in (400, 422) and r.json()["errors"][0]["field"] == "photos"
    r = Client().post("/api/complaints/", {**data, "photos": [png(), png()]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "photos"
    assert not Complaint.objects.exists()


def test_rate_limit_per_address(world: Any, settings: Any) -> None:
    settings.AQUIFER = {**settings.AQUIFER, "PORTAL": {"RATE_PER_HOUR": 2}}
    data = {"category": "other", "description": "重复提交测试。", "lon": world.well_a.lon,
            "lat": world.well_a.lat}  # fmt: skip
    c = Client()
    assert [c.post("/api/complaints/", data).status_code for _ in range(3)] == [201, 201, 429]
    other = Client(REMOTE_ADDR="10.9.9.9")
    assert other.post("/api/complaints/", data).status_code == 201
    r = c.post("/portal/complaints/new/", form(world))
    assert r.status_code == 429


@pytest.mark.parametrize(
    ("role", "expected"),
    [("bureau", {"A", "B"}), ("inspector", {"A", "B"}), ("township", {"A"})],
)
def test_staff_list_scope(world: Any, complaints: Any, role: str, expected: set[str]) -> None:
    a, b = complaints
    names = {a.complaint.number: "A", b.complaint.number: "B"}
    r = world.client(role).get("/api/portal/complaints/?state=all")
    assert r.status_code == 200
    assert {names[i["number"]] for i in r.json()["items"]} == expected
    page = world.client(role).get("/complaints/?state=all")
    assert page.status_code == 200
    assert (b.complaint.number in page.content.decode()) == ("B" in expected)


@pytest.mark.parametrize("role", ["water_user", "public", "anonymous"])
def test_public_roles_have_no_desk(world: Any, complaints: Any, role: str) -> None:
    a, _b = complaints
    r = world.client(role).get("/api/portal/complaints/")
    assert r.status_code in (401, 403)
    assert world.client(role).get(f"/complaints/{a.complaint.pk}/").status_code == 404


def test_identity_is_the_bureaus_alone(world: Any, complaints: Any) -> None:
    a, _b = complaints
    pk = a.complaint.pk
    assert world.client("bureau").get(f"/api/portal/complaints/{pk}").json()["name"] == "张三"
    officer = world.client("township")
    assert officer.get(f"/api/portal/complaints/{pk}").json()["name"] is None
    page = officer.get(f"/complaints/{pk}/").content.decode()
    assert "张三" not in page and "13900000000" not in page
    assert "张三" in world.client("bureau").get(f"/complaints/{pk}/").content.decode()
    # nor in the export, nor in the audit trail as plain text
    export = world.client("bureau").get("/api/portal/complaints/export?format=csv&state=all")
    assert export.status_code == 200 and "张三" not in export.content.decode()
    from aquifer.core.models import AuditEntry

    entry = AuditEntry.objects.filter(object_type="portal.complaint").first()
    assert entry is not None and "张三" not in json.dumps(entry.after, ensure_ascii=False)


def test_workflow_and_what_the_filer_sees(world: Any, complaints: Any) -> None:
    a, b = complaints
    officer = world.client("township")
    pk = a.complaint.pk
    url = f"/api/portal/complaints/{pk}/actions"

    def act(action: str, text: str = "", client: Any = officer) -> Any:
        return client.post(url, json.dumps({"action": action, "text": text}),
                           content_type="application/json")  # fmt: skip

    assert act("accept").status_code == 200
    assert act("note", "内部：联系村委核实").status_code == 200
    assert act("reply").status_code == 422  # a reply needs its text
    assert act("reply", "已核实并立案查处。").status_code == 200
    assert act("close").status_code == 200
    assert act("reject", "理由").status_code == 422  # not from closed
    # an officer of township A may not handle B's
    r = officer.post(f"/api/portal/complaints/{b.complaint.pk}/actions",
                     json.dumps({"action": "accept"}), content_type="application/json")  # fmt: skip
    assert r.status_code == 404
    # the inspector reads but does not handle
    r = world.client("inspector").post(
        f"/api/portal/complaints/{b.complaint.pk}/actions",
        json.dumps({"action": "accept"}),
        content_type="application/json",
    )
    assert r.status_code == 403
    services.link_case(a.complaint, kind="inspection", object_id=7, label="现场检查 #7")
    followed = (
        Client()
        .get(f"/api/complaints/{a.complaint.number}", HTTP_X_COMPLAINT_SECRET=a.secret)
        .json()
    )
    assert followed["state"] == "closed" and followed["reply"] == "已核实并立案查处。"
    texts = [e["text"] for e in followed["events"]]
    assert "内部：联系村委核实" not in texts
    assert followed["cases"][0]["label"] == "现场检查 #7"


def test_page_actions_and_rejection(world: Any, complaints: Any) -> None:
    _a, b = complaints
    bureau = world.client("bureau")
    url = f"/complaints/{b.complaint.pk}/act"
    assert bureau.post(url, {"action": "reject"}).status_code == 422
    assert bureau.post(url, {"action": "reject", "text": "不属于本局职责。"}).status_code == 302
    b.complaint.refresh_from_db()
    assert b.complaint.state == ComplaintState.REJECTED
    assert b.complaint.reason == "不属于本局职责。"


def test_notifications_on_filing_and_when_overdue(world: Any, complaints: Any) -> None:
    from django.utils import timezone

    assert len(complaints) == 2
    filed = Notice.objects.filter(event="complaint.filed")
    assert filed.count() == 2
    assert filed.filter(township_id=world.township_a.pk).exists()
    later = timezone.now() + __import__("datetime").timedelta(days=400)
    assert services.notify_overdue(later) == 2
    assert services.notify_overdue(later) == 0  # once
    assert Notice.objects.filter(event="complaint.overdue").count() == 2


def test_a_registered_case_opener_links_the_complaint(world: Any, complaints: Any) -> None:
    from aquifer.portal import panels

    a, b = complaints
    opened: list[Any] = []

    def open_inspection(complaint: Any, user: Any) -> tuple[Any, str, str]:
        opened.append(complaint.pk)
        return 42, "现场检查 #42", "/inspections/42/"

    real = panels._OPENERS.get("inspection")  # supervision's own (portal/wiring.py)
    panels.register_opener(panels.CaseOpener("inspection", "立案检查", open_inspection))
    try:
        officer = world.client("township")
        page = officer.get(f"/complaints/{a.complaint.pk}/").content.decode()
        assert "立案检查" in page
        r = officer.post(f"/complaints/{a.complaint.pk}/case/inspection")
        assert r.status_code == 302 and opened == [a.complaint.pk]
        a.complaint.refresh_from_db()
        assert a.complaint.state == ComplaintState.ACCEPTED
        assert a.complaint.links.get().object_id == "42"
        # the inspector reads but may not open a case; out of township: not found
        r = world.client("inspector").post(f"/complaints/{a.complaint.pk}/case/inspection")
        assert r.status_code == 403
        assert officer.post(f"/complaints/{b.complaint.pk}/case/inspection").status_code == 404
    finally:
        panels._OPENERS.pop("inspection")
        if real is not None:
            panels.register_opener(real)
    followed = (
        Client()
        .get(f"/api/complaints/{a.complaint.number}", HTTP_X_COMPLAINT_SECRET=a.secret)
        .json()
    )
    assert followed["cases"] == [
        {"kind": "inspection", "label": "现场检查 #42", "at": followed["cases"][0]["at"]}
    ]
