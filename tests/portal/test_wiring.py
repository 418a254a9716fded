"""The governance apps on the portal: a complaint opens an enforcement case or an
inspection in one action, and closure, assessment, enforcement and credit are published."""

from __future__ import annotations

from typing import Any

from django.test import Client

from aquifer.enforcement.models import Case
from aquifer.supervision.models import Inspection


def _follow(complaint: Any) -> dict[str, Any]:
    return (
        Client()
        .get(
            f"/api/complaints/{complaint.complaint.number}",
            HTTP_X_COMPLAINT_SECRET=complaint.secret,
        )
        .json()
    )


def test_a_complaint_opens_an_enforcement_case_the_filer_sees(world: Any, complaints: Any) -> None:
    a, _b = complaints
    bureau = world.client("bureau")
    page = bureau.get(f"/complaints/{a.complaint.pk}/").content.decode()
    assert "登记执法案件" in page and "安排督查检查" in page
    r = bureau.post(f"/complaints/{a.complaint.pk}/case/enforcement")
    assert r.status_code == 302
    case = Case.objects.get(source="complaint")
    assert case.kind == "unapproved_works"  # an illegal well
    assert case.township_id == world.township_a.pk
    assert case.source_ref == f"complaint:{a.complaint.pk}"
    assert case.evidence.filter(kind="document").exists()
    followed = _follow(a)
    assert followed["state"] == "accepted"
    assert [(c["kind"], c["label"]) for c in followed["cases"]] == [("enforcement", case.number)]


def test_a_complaint_opens_an_inspection_of_its_township(world: Any, complaints: Any) -> None:
    _a, b = complaints
    r = world.client("bureau").post(f"/complaints/{b.complaint.pk}/case/inspection")
    assert r.status_code == 302
    inspection = Inspection.objects.get()
    assert inspection.township_id == world.township_b.pk
    assert b.complaint.number in inspection.subject
    assert _follow(b)["cases"][0]["kind"] == "inspection"


def test_a_category_without_a_case_kind_is_told_not_crashed(world: Any) -> None:
    from aquifer.portal import services

    other = services.file_complaint(
        category="other",
        description="其他问题。",
        lon=world.well_a.lon,
        lat=world.well_a.lat,
        address="10.0.0.9",
    )
    r = world.client("bureau").post(
        f"/complaints/{other.complaint.pk}/case/enforcement", follow=True
    )
    assert r.status_code == 200
    assert "不对应案由" in r.content.decode()
    assert not Case.objects.exists()


def test_a_water_user_cannot_open_cases(world: Any, complaints: Any) -> None:
    a, _b = complaints
    r = world.client("water_user").post(f"/complaints/{a.complaint.pk}/case/enforcement")
    assert r.status_code in (403, 404)
    assert not Case.objects.exists()


def test_every_governance_panel_is_published(world: Any) -> None:
    panels = {p["key"]: p for p in Client().get("/api/portal/panels").json()}
    for key in ("closure", "assessment", "enforcement", "credit"):
        assert panels[key]["published"], key
        assert panels[key]["headers"], key


def test_complaints_answered_on_time_feed_the_assessment(world: Any, complaints: Any) -> None:
    import datetime as dt

    from django.utils import timezone

    from aquifer.portal import services
    from aquifer.portal.models import Complaint
    from aquifer.supervision import measures

    a, b = complaints
    year = timezone.localdate().year
    assert measures.complaints_on_time(year) == {}  # nothing due yet
    services.act(a.complaint, "reply", by=world.accounts["bureau"], text="已查处。")
    Complaint.objects.filter(pk=b.complaint.pk).update(due_at=timezone.now() - dt.timedelta(days=1))
    got = measures.complaints_on_time(year)
    assert (got[world.township_a.pk].num, got[world.township_a.pk].den) == (1, 1)
    assert (got[world.township_b.pk].num, got[world.township_b.pk].den) == (0, 1)
