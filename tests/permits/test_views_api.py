"""Permit pages and API for every role: scope, workflow actions, exports, rules page."""

from __future__ import annotations

import io
import json
from datetime import date
from typing import Any

import pytest
from openpyxl import load_workbook

from aquifer.core.models import AuditEntry
from aquifer.permits import services
from aquifer.permits.models import (
    ApplicationStatus,
    EmergencyWindow,
    Permit,
    PermitApplication,
    PermitStatus,
    RuleSettings,
)
from aquifer.permits.workdays import KNOWN_YEARS
from tests.permits.test_services import grant

pytestmark = pytest.mark.django_db

ROLES = ("bureau", "township", "water_user", "inspector", "public", "anonymous")


@pytest.fixture
def two(world: Any) -> tuple[Permit, Permit]:
    """An active permit in township A (user A's) and one in township B (user B's)."""
    return grant(world), grant(world, well=world.well_b, quota=7_000)


def post_json(client: Any, url: str, body: Any) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


# ----------------------------------------------------------------------------- pages


@pytest.mark.parametrize(
    ("role", "expect"),
    [
        ("bureau", {"A", "B"}),
        ("township", {"A"}),
        ("water_user", {"A"}),
        ("inspector", {"A", "B"}),
    ],
)
def test_list_page_scoped(world: Any, two: Any, role: str, expect: set[str]) -> None:
    pa, pb = two
    r = world.client(role).get("/permits/")
    assert r.status_code == 200
    body = r.content.decode()
    seen = {k for k, p in (("A", pa), ("B", pb)) if f'data-id="{p.pk}"' in body}
    assert seen == expect


def test_list_page_public_and_anonymous(world: Any, two: Any) -> None:
    assert world.client("public").get("/permits/").status_code == 403
    r = world.client("anonymous").get("/permits/")
    assert r.status_code == 302 and "/login" in r["Location"]


@pytest.mark.parametrize(
    ("role", "a", "b"),
    [
        ("bureau", 200, 200),
        ("township", 200, 404),
        ("water_user", 200, 404),
        ("inspector", 200, 200),
        ("public", 404, 404),
    ],
)
def test_detail_page_scoped(world: Any, two: Any, role: str, a: int, b: int) -> None:
    pa, pb = two
    c = world.client(role)
    assert c.get(f"/permits/{pa.pk}/").status_code == a
    assert c.get(f"/permits/{pb.pk}/").status_code == b


def test_detail_shows_decision_reasons_and_sources(world: Any, two: Any) -> None:
    pa, _pb = two
    services.change_quota(pa, 10**12, reason="x", by=None, source="web")  # fine: no cap
    RuleSettings.objects.create(county_cap_m3=1)
    services.change_quota(pa, 10**12 + 5, reason="超指标", by=None, source="web")
    r = world.client("bureau").get(f"/permits/{pa.pk}/")
    body = r.content.decode()
    assert 'data-rule="county_cap"' in body
    assert "地下水管理条例" in body and "第十七条" in body


def test_apply_page_and_review_decide_flow(world: Any) -> None:
    wu = world.client("water_user")
    assert wu.get("/permits/apply/").status_code == 200
    r = wu.post(
        "/permits/apply/",
        {
            "holder": world.user_a.pk,
            "wells": [world.well_a.pk],
            "source": "shallow",
            "use_type": "domestic",
            "annual_quota_m3": "30000",
            "term_years": "5",
            "flags": ["domestic"],
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    app = PermitApplication.objects.get()
    assert app.permit.holder == world.user_a and app.status == ApplicationStatus.SUBMITTED
    # A water user cannot apply for someone else.
    r = wu.post(
        "/permits/apply/",
        {
            "holder": world.user_b.pk,
            "source": "surface",
            "use_type": "domestic",
            "annual_quota_m3": "1",
            "term_years": "5",
        },
    )
    assert r.status_code == 422 and PermitApplication.objects.count() == 1
    # Bad input: 422 naming the field, nothing stored.
    r = wu.post("/permits/apply/", {"holder": world.user_a.pk, "annual_quota_m3": "0"})
    assert r.status_code == 422 and 'id="errors-annual_quota_m3"' in r.content.decode()
    # Review: the township officer of A; not the bureau; not a water user.
    detail = f"/permits/{app.permit_id}/"
    assert 'class="review-form"' in world.client("township").get(detail).content.decode()
    page = world.client("bureau").get(detail).content.decode()
    assert 'class="decide-form"' in page and 'class="review-form"' not in page
    page = wu.get(detail).content.decode()
    assert "decide-form" not in page and "review-form" not in page
    url = f"/permits/applications/{app.pk}/review/"
    assert world.client("bureau").post(url, {"recommends": "1", "opinion": "x"}).status_code == 403
    assert wu.post(url, {"recommends": "1", "opinion": "x"}).status_code == 403
    r = world.client("township").post(url, {"recommends": "1", "opinion": "材料齐全"})
    assert r.status_code == 302
    app.refresh_from_db()
    assert app.status == ApplicationStatus.REVIEWED and app.township_recommends is True
    # Decide: the bureau only.
    url = f"/permits/applications/{app.pk}/decide/"
    assert world.client("township").post(url, {"approve": "1"}).status_code == 403
    assert world.client("bureau").post(url, {"approve": "1"}).status_code == 302
    app.permit.refresh_from_db()
    assert app.permit.status == PermitStatus.ACTIVE and app.permit.number


@pytest.mark.parametrize("role", ["inspector", "public"])
def test_apply_page_refused(world: Any, role: str) -> None:
    assert world.client(role).get("/permits/apply/").status_code == 403


def test_review_other_township_is_404(world: Any) -> None:
    app = services.apply_for_permit(
        holder=world.user_b,
        wells=[world.well_b],
        source="shallow",
        use_type="agricultural",
        annual_quota_m3=100,
    )
    r = world.client("township").post(
        f"/permits/applications/{app.pk}/review/", {"recommends": "1", "opinion": "x"}
    )
    assert r.status_code == 404


def test_quota_and_cancel_pages_bureau_only(world: Any, two: Any) -> None:
    pa, _pb = two
    for role in ("township", "water_user"):
        r = world.client(role).post(f"/permits/{pa.pk}/quota/", {"new_quota_m3": 1, "reason": "x"})
        assert r.status_code == 403
    r = world.client("bureau").post(f"/permits/{pa.pk}/quota/", {"new_quota_m3": 5, "reason": "x"})
    assert r.status_code == 302
    pa.refresh_from_db()
    assert pa.annual_quota_m3 == 5
    r = world.client("bureau").post(f"/permits/{pa.pk}/cancel/", {"reason": "注销"})
    pa.refresh_from_db()
    assert pa.status == PermitStatus.CANCELLED


def test_water_user_requests_renewal(world: Any, two: Any) -> None:
    pa, pb = two
    wu = world.client("water_user")
    r = wu.post(f"/permits/{pa.pk}/request/", {"kind": "renewal"})
    assert r.status_code == 302
    assert PermitApplication.objects.filter(permit=pa, kind="renewal").count() == 1
    assert wu.post(f"/permits/{pb.pk}/request/", {"kind": "renewal"}).status_code == 404


def test_ledger_quota_use_and_exports(world: Any, two: Any) -> None:
    bureau = world.client("bureau")
    r = bureau.get("/permits/ledger/?year=2026")
    assert r.status_code == 200 and "JC-HCXF" in r.content.decode()
    assert world.client("township").get("/permits/ledger/").status_code == 200
    assert world.client("water_user").get("/permits/ledger/").status_code == 403
    assert world.client("public").get("/permits/ledger/").status_code == 403
    assert bureau.get("/permits/quota-use/?year=2026").status_code == 200
    for url, sheet_has in (
        ("/permits/export/?format=xlsx", "取水(晋阳)字[2026]第0001号"),
        ("/permits/quota-use/export/?format=xlsx&year=2026", "取水(晋阳)字[2026]第0001号"),
        ("/permits/ledger/export/?format=xlsx&year=2026", "JC-HCXF"),
    ):
        r = bureau.get(url)
        assert r.status_code == 200, url
        wb = load_workbook(io.BytesIO(r.content))
        cells = {str(c.value) for row in wb.active.iter_rows() for c in row}
        assert sheet_has in cells, url
    # The township's export holds its own permits only.
    r = world.client("township").get("/permits/export/?format=xlsx")
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.active.max_row == 2


def test_rules_page_settings_and_emergency(world: Any) -> None:
    bureau = world.client("bureau")
    r = bureau.get("/permits/rules/")
    body = r.content.decode()
    assert r.status_code == 200 and 'data-rule="yellow_river_overloaded"' in body
    assert "水资管〔2020〕380号" in body
    for role in ("township", "inspector", "water_user"):
        r = world.client(role).get("/permits/rules/")
        assert r.status_code == 200 and 'id="settings-form"' not in r.content.decode()
    assert world.client("public").get("/permits/rules/").status_code == 403
    r = bureau.post(
        "/permits/rules/settings/",
        {"overloaded_townships": "140522100", "document": "晋水资源〔2020〕162号"},
    )
    assert r.status_code == 302
    assert services.rule_set().overloaded_townships == frozenset({"140522100"})
    # An unknown code is refused; the settings in force do not change.
    bureau.post("/permits/rules/settings/", {"overloaded_townships": "999", "document": "x"})
    assert RuleSettings.objects.count() == 1
    assert world.client("township").post("/permits/rules/settings/", {}).status_code == 403
    r = bureau.post(
        "/permits/rules/emergency/",
        {"name": "2026春旱", "start": "2026-04-01", "document": "阳政发〔2026〕1号"},
    )
    w = EmergencyWindow.objects.get()
    assert w.declared_by == "bureau"
    bureau.post(f"/permits/rules/emergency/{w.pk}/end/", {"end": "2026-05-01"})
    w.refresh_from_db()
    assert w.end == date(2026, 5, 1) and w.ended_by == "bureau"
    assert AuditEntry.objects.filter(object_type="permits.emergencywindow").count() == 2


# ----------------------------------------------------------------------------- API


@pytest.mark.parametrize(
    ("role", "expect"),
    [
        ("bureau", {"A", "B"}),
        ("township", {"A"}),
        ("water_user", {"A"}),
        ("inspector", {"A", "B"}),
        ("public", set()),
        ("anonymous", set()),
    ],
)
def test_api_list_and_read_scoped(world: Any, two: Any, role: str, expect: set[str]) -> None:
    pa, pb = two
    c = world.client(role)
    r = c.get("/api/permits/")
    if role in ("public", "anonymous"):  # no rule on permits: refused, not an empty list
        assert r.status_code == (401 if role == "anonymous" else 403)
    else:
        assert r.status_code == 200
        ids = {i["id"] for i in r.json()["items"]}
        assert ids == {p.pk for k, p in (("A", pa), ("B", pb)) if k in expect}
    for k, p in (("A", pa), ("B", pb)):
        assert c.get(f"/api/permits/{p.pk}").status_code == (200 if k in expect else 404)


def test_api_apply_validation_and_flow(world: Any) -> None:
    wu = world.client("water_user")
    r = post_json(
        wu,
        "/api/permits/applications/",
        {
            "holder_id": world.user_a.pk,
            "well_ids": [world.well_b.pk],
            "source": "shallow",
            "use_type": "domestic",
            "annual_quota_m3": 100,
        },
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "well_ids"  # not visible to her
    r = post_json(
        wu,
        "/api/permits/applications/",
        {
            "holder_id": world.user_a.pk,
            "well_ids": [world.well_a.pk],
            "source": "shallow",
            "use_type": "domestic",
            "annual_quota_m3": 100,
            "flags": ["nonsense"],
        },
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "flags"
    assert not Permit.objects.exists()
    r = post_json(
        wu,
        "/api/permits/applications/",
        {
            "holder_id": world.user_a.pk,
            "well_ids": [world.well_a.pk],
            "source": "shallow",
            "use_type": "domestic",
            "annual_quota_m3": 100,
        },
    )
    assert r.status_code == 201
    app_id = r.json()["id"]
    assert r.json()["working_days_left"] >= 44
    got = r.json()
    received, deadline = (date.fromisoformat(got[k]) for k in ("received_on", "deadline"))
    assert got["deadline_uncounted_years"] == [
        y for y in range(received.year, deadline.year + 1) if y not in KNOWN_YEARS
    ]
    assert post_json(world.client("inspector"), "/api/permits/applications/", {}).status_code in (
        403,
        422,
    )
    url = f"/api/permits/applications/{app_id}/decide"
    assert post_json(world.client("township"), url, {"approve": True}).status_code == 403
    r = post_json(world.client("bureau"), url, {"approve": False, "note": ""})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "note"
    r = post_json(world.client("bureau"), url, {"approve": True})
    assert r.status_code == 200 and r.json()["allowed"] is True
    assert post_json(world.client("bureau"), url, {"approve": True}).status_code == 409


def test_api_quota_rules_windows(world: Any, two: Any) -> None:
    pa, pb = two
    bureau = world.client("bureau")
    r = post_json(bureau, f"/api/permits/{pa.pk}/quota", {"new_quota_m3": 0, "reason": "x"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "new_quota_m3"
    r = post_json(bureau, f"/api/permits/{pa.pk}/quota", {"new_quota_m3": 25_000, "reason": "x"})
    assert r.status_code == 200 and r.json()["allowed"] is True
    r = post_json(
        world.client("township"), f"/api/permits/{pa.pk}/quota", {"new_quota_m3": 1, "reason": "x"}
    )
    assert r.status_code == 403
    r = post_json(
        world.client("township"), f"/api/permits/{pb.pk}/quota", {"new_quota_m3": 1, "reason": "x"}
    )
    assert r.status_code == 404
    r = world.client("inspector").get("/api/permits/rules")
    assert r.status_code == 200
    rules = {x["id"]: x for x in r.json()["ruleset"]["rules"]}
    assert rules["prohibited_zone"]["sources"][0]["document"] == "地下水管理条例"
    assert world.client("anonymous").get("/api/permits/rules").status_code in (401, 403)
    r = post_json(bureau, "/api/permits/rules/settings", {"document": "x", "county_cap_m3": -1})
    assert r.status_code == 422
    r = post_json(bureau, "/api/permits/rules/settings", {"document": "", "county_cap_m3": 1})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "document"
    r = post_json(
        bureau,
        "/api/permits/emergency-windows/",
        {"name": "x", "start": "2026-05-02", "end": "2026-05-01", "document": "d"},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "end"
    r = post_json(
        bureau,
        "/api/permits/emergency-windows/",
        {"name": "x", "start": "2026-05-02", "document": "d"},
    )
    assert r.status_code == 201
    wid = r.json()["id"]
    r = post_json(
        world.client("township"), f"/api/permits/emergency-windows/{wid}/end", {"end": "2026-05-03"}
    )
    assert r.status_code == 403
    r = post_json(bureau, f"/api/permits/emergency-windows/{wid}/end", {"end": "2026-05-03"})
    assert r.status_code == 200 and r.json()["end"] == "2026-05-03"


def test_api_ledger_quota_use_export(world: Any, two: Any) -> None:
    pa, _pb = two
    r = world.client("township").get("/api/permits/ledger/?year=2026")
    assert r.status_code == 200
    towns = {t["code"]: t for t in r.json()["townships"]}
    assert towns["140522100"]["permitted_m3"] == 20_000
    assert world.client("water_user").get("/api/permits/ledger/").status_code == 403
    r = world.client("water_user").get(f"/api/permits/{pa.pk}/quota-use?year=2026")
    assert r.status_code == 200 and r.json()["quota_m3"] == 20_000
    assert len(r.json()["monthly"]) == 12
    r = world.client("water_user").get("/api/permits/quota-use/?year=2026")
    assert [i["permit"] for i in r.json()["items"]] == [pa.pk]
    assert world.client("bureau").get("/api/permits/ledger/?year=1").status_code == 422
    r = world.client("bureau").get("/api/permits/export?what=ledger&year=2026")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxml")
    assert world.client("water_user").get("/api/permits/export?what=ledger").status_code == 403
    assert world.client("public").get("/api/permits/export").status_code == 403


@pytest.mark.parametrize("role", ["inspector", "public", "anonymous"])
def test_api_writes_refused_for_readers(world: Any, two: Any, role: str) -> None:
    pa, _pb = two
    app = services.apply_for(pa, "change", requested_quota_m3=10)
    c = world.client(role)
    for url, body in (
        (
            "/api/permits/applications/",
            {
                "holder_id": world.user_a.pk,
                "source": "surface",
                "use_type": "domestic",
                "annual_quota_m3": 5,
            },
        ),
        (f"/api/permits/applications/{app.pk}/review", {"recommends": True, "opinion": "x"}),
        (f"/api/permits/applications/{app.pk}/decide", {"approve": True}),
        (f"/api/permits/{pa.pk}/requests", {"kind": "renewal"}),
        (f"/api/permits/{pa.pk}/quota", {"new_quota_m3": 5, "reason": "x"}),
        (f"/api/permits/{pa.pk}/cancel", {"reason": "x"}),
        ("/api/permits/rules/settings", {"document": "x"}),
        ("/api/permits/emergency-windows/", {"name": "x", "start": "2026-01-01", "document": "d"}),
    ):
        r = post_json(c, url, body)
        assert r.status_code in (401, 403, 404), (url, r.status_code)
    pa.refresh_from_db()
    assert pa.status == PermitStatus.ACTIVE and pa.annual_quota_m3 == 20_000
    assert not EmergencyWindow.objects.exists() and not RuleSettings.objects.exists()


def _submitted(world: Any, flags: list[str]) -> PermitApplication:
    return services.apply_for_permit(
        holder=world.user_a,
        wells=[world.well_a],
        source="shallow",
        use_type="agricultural",
        annual_quota_m3=20000,
        term_years=5,
        flags=flags,
        by=world.accounts["water_user"],
    )


def test_the_reviewer_confirms_irrigation_of_reclaimed_land(world: Any) -> None:
    """条例 第二十五条: the application declares nothing, the reviewer finds the land
    illegally reclaimed; the bureau's approval is then refused by the rule, citing the fact."""
    app = _submitted(world, [])
    officer = world.client("township")
    r = post_json(
        officer,
        f"/api/permits/applications/{app.pk}/review",
        {"recommends": False, "opinion": "现场核实为非法开垦地", "reclaimed_land": True},
    )
    assert r.status_code == 200, r.content
    assert r.json()["reclaimed_land_finding"] is True
    app.refresh_from_db()
    assert "illegally_reclaimed_land" in app.permit.flags
    d = services.decide(app, approve=True, by=world.accounts["bureau"])
    assert not d.allowed
    assert any(x.rule_id == "illegal_reclamation" for x in d.reasons)
    page = world.client("bureau").get(f"/permits/{app.permit_id}/").content.decode()
    assert "核实：用于非法开垦土地灌溉" in page


def test_a_declaration_the_reviewer_finds_wrong_no_longer_decides(world: Any) -> None:
    app = _submitted(world, ["illegally_reclaimed_land"])
    r = world.client("township").post(
        f"/permits/applications/{app.pk}/review/",
        {"recommends": "1", "opinion": "经核实为合法耕地", "reclaimed_land": "0"},
    )
    assert r.status_code == 302
    app.refresh_from_db()
    assert app.reclaimed_land_finding is False
    assert "illegally_reclaimed_land" not in app.permit.flags
    d = services.decide(app, approve=True, by=world.accounts["bureau"])
    assert all(x.rule_id != "illegal_reclamation" for x in d.reasons)


def test_a_review_without_a_finding_keeps_the_declaration(world: Any) -> None:
    app = _submitted(world, ["illegally_reclaimed_land"])
    services.review(app, recommends=False, opinion="见申报", by=world.accounts["township"])
    app.refresh_from_db()
    assert app.reclaimed_land_finding is None
    assert "illegally_reclaimed_land" in app.permit.flags
