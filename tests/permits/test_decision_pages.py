"""The rule engine's verdict on a permit application, as the officer and the applicant see it.

The officer sees the verdict and its reasons *before* deciding; the applicant when applying.
A refusal is an error banner, never a success one; reasons read as sentences in the page's
language (no raw rule ids on screen); an application has one number wherever it appears.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from aquifer.permits import services
from aquifer.permits.models import ApplicationStatus, PermitApplication, PermitStatus
from aquifer.registry.models import Well
from tests.conftest import HUANGCHENG
from tests.permits.test_services import grant

pytestmark = pytest.mark.django_db

RAW_CODES = ("prohibited_zone", "overexploited_zone", "county_cap", "register")


def visible_text(html: str) -> str:
    """The text a reader sees: no tags, no attributes, no scripts."""
    html = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def banners(html: str) -> list[tuple[str, str]]:
    """The message banners: (level, text)."""
    block = re.search(r'<ul class="messages">(.*?)</ul>', html, re.S)
    if block is None:
        return []
    return [
        (level, " ".join(visible_text(text).split()))
        for level, text in re.findall(r'<li class="([^"]*)">(.*?)</li>', block.group(1), re.S)
    ]


def english(client: Client) -> Client:
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    return client


@pytest.fixture
def in_prohibited_zone(world: Any) -> Well:
    """A well of user A inside the prohibited zone (the rules refuse any permit for it)."""
    well = Well(code="W-JC-1", depth_m=60, layer="shallow", purpose="domestic", owner=world.user_a)
    well.set_location(*HUANGCHENG)
    well.save()
    assert well.zone_id == world.zone.pk
    return well


def apply(world: Any, well: Well, client: Client | None = None) -> Any:
    client = client or world.client("water_user")
    return client.post(
        "/permits/apply/",
        {
            "holder": world.user_a.pk,
            "wells": [well.pk],
            "source": "shallow",
            "use_type": "domestic",
            "annual_quota_m3": "30000",
            "term_years": "5",
        },
        follow=True,
    )


def test_applicant_is_warned_when_applying(world: Any, in_prohibited_zone: Well) -> None:
    r = apply(world, in_prohibited_zone)
    assert r.status_code == 200
    app = PermitApplication.objects.get()
    levels = dict(banners(r.content.decode()))
    assert f"申请 #{app.pk} 已受理" in levels["success"]
    # The rules' verdict, at once, as a warning, in Chinese sentences naming the zone.
    assert "不予许可" in levels["warning"]
    assert "皇城相府景区禁采区" in levels["warning"] and "禁止取用地下水" in levels["warning"]
    text = visible_text(r.content.decode())
    assert not any(code in text for code in RAW_CODES)


def test_applicant_is_warned_in_english(world: Any, in_prohibited_zone: Well) -> None:
    r = apply(world, in_prohibited_zone, english(world.client("water_user")))
    levels = dict(banners(r.content.decode()))
    assert "would be refused" in levels["warning"]
    assert "Groundwater may not be drawn in the prohibited zone" in levels["warning"]
    assert "禁止" not in levels["warning"]  # the sentence, not the stored Chinese text


def test_officer_sees_the_verdict_before_deciding(world: Any, in_prohibited_zone: Well) -> None:
    apply(world, in_prohibited_zone)
    app = PermitApplication.objects.get()
    page = world.client("bureau").get(f"/permits/{app.permit_id}/").content.decode()
    preview = page.split(f'id="preview-{app.pk}"')[1].split("</div>")[0]
    assert "refused" in page.split(f'id="preview-{app.pk}"')[1][:200]
    assert "规则预判" in preview and "皇城相府景区禁采区" in visible_text(preview)
    assert 'class="decide-form"' in page  # the verdict is there before the decision
    assert not any(code in visible_text(page) for code in RAW_CODES)
    page = english(world.client("bureau")).get(f"/permits/{app.permit_id}/").content.decode()
    assert "Rule check: the rules do not allow approval" in page
    assert "prohibited zone" in visible_text(page)


def test_approval_refused_by_the_rules_is_an_error_banner(
    world: Any, in_prohibited_zone: Well
) -> None:
    apply(world, in_prohibited_zone)
    app = PermitApplication.objects.get()
    url = f"/permits/applications/{app.pk}/decide/"
    r = world.client("bureau").post(url, {"approve": "1"}, follow=True)
    app.refresh_from_db()
    assert app.status == ApplicationStatus.REFUSED
    assert app.permit.status == PermitStatus.REFUSED
    found = banners(r.content.decode())
    assert [level for level, _t in found] == ["error"], found
    text = found[0][1]
    assert f"申请 #{app.pk}" in text and "不予许可" in text and "皇城相府景区禁采区" in text
    assert "prohibited_zone" not in text


def test_refusal_reasons_in_english(world: Any, in_prohibited_zone: Well) -> None:
    apply(world, in_prohibited_zone)
    app = PermitApplication.objects.get()
    c = english(world.client("bureau"))
    r = c.post(f"/permits/applications/{app.pk}/decide/", {"approve": "1"}, follow=True)
    (level, text), *_rest = banners(r.content.decode())
    assert level == "error"
    assert f"Application #{app.pk}: refused." in text
    assert "Groundwater may not be drawn in the prohibited zone" in text
    # The stored decision renders in the reader's language on the detail page too.
    page = c.get(f"/permits/{app.permit_id}/").content.decode()
    assert "Groundwater may not be drawn" in visible_text(page)
    assert "新增取水许可" not in visible_text(page)  # the decision's subject, translated


def test_bureau_refusal_and_approval_banners(world: Any) -> None:
    app = services.apply_for_permit(
        holder=world.user_a,
        wells=[world.well_a],
        source="shallow",
        use_type="domestic",
        annual_quota_m3=1000,
    )
    url = f"/permits/applications/{app.pk}/decide/"
    r = world.client("bureau").post(url, {"approve": "0", "note": "材料不全"}, follow=True)
    assert banners(r.content.decode()) == [
        ("error", f"申请 #{app.pk}：不予许可。 许可机关不予许可：材料不全")
    ]
    app2 = services.apply_for_permit(
        holder=world.user_b,
        wells=[world.well_b],
        source="shallow",
        use_type="agricultural",
        annual_quota_m3=1000,
    )
    r = world.client("bureau").post(
        f"/permits/applications/{app2.pk}/decide/", {"approve": "1"}, follow=True
    )
    assert banners(r.content.decode()) == [("success", f"申请 #{app2.pk}：已准予许可。")]


def test_an_application_has_one_number(world: Any) -> None:
    grant(world)  # an earlier permit and application
    pa = grant(world, well=world.well_b, quota=7_000)
    services.apply_for(pa, "renewal", by=None)  # applications now outnumber permits
    app = services.apply_for_permit(
        holder=world.user_a,
        wells=[world.well_a],
        source="shallow",
        use_type="domestic",
        annual_quota_m3=1000,
    )
    assert app.pk != app.permit_id  # otherwise this test could not tell them apart
    label = f"申请 #{app.pk}"
    c = world.client("bureau")
    listing = c.get("/permits/").content.decode()
    row = listing.split(f'data-id="{app.permit_id}"')[1].split("</tr>")[0]
    assert label in row and f"#{app.permit_id}<" not in row
    detail = visible_text(c.get(f"/permits/{app.permit_id}/").content.decode())
    assert label in detail
    assert set(re.findall(r"#(\d+)", detail)) == {str(app.pk)}
