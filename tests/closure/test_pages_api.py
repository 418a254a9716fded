"""Pages, API and export of the closure programme: scoped, 4xx naming the field."""

from __future__ import annotations

import io
import json
from typing import Any

from openpyxl import load_workbook

from aquifer.closure import services
from aquifer.closure.models import ClosureEntry
from aquifer.registry.models import Well
from tests.closure.helpers import TODAY, png, supply

SEAT = (112.417, 35.486)
PAGES = [
    "",
    "map/",
    "map.geojson",
    "candidates/",
    "progress/",
    "balance/",
    "recovery/",
    "attribution/",
    "meteo/",
    "supply/",
]


def _post(client: Any, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


def test_pages_answer_the_bureau(world: Any) -> None:
    supply(*SEAT)
    services.enrol(world.accounts["bureau"], world.well_a, deadline=TODAY, method="seal")
    c = world.client("bureau")
    for p in PAGES:
        r = c.get(f"/closure/{p}")
        assert r.status_code == 200, p
    feats = c.get("/closure/map.geojson").json()["features"]
    kinds = {f["properties"]["kind"] for f in feats}
    assert kinds == {"entry", "candidate", "coverage"}


def test_enrol_advance_inspect_through_the_api(world: Any) -> None:
    _work, area = supply(*SEAT)
    c = world.client("bureau")
    r = _post(
        c,
        "/api/closure/entries/",
        {"well_id": world.well_a.pk, "deadline": "2026-09-30", "method": "melt"},
    )
    assert r.status_code == 422
    r = _post(
        c, "/api/closure/entries/", {"well_id": 999999, "deadline": "2026-09-30", "method": "seal"}
    )
    assert r.status_code == 422 and "well_id" in r.content.decode()
    r = _post(
        c,
        "/api/closure/entries/",
        {
            "well_id": world.well_a.pk,
            "deadline": "2026-09-30",
            "method": "seal",
            "replacement_area_id": area.pk,
        },
    )
    assert r.status_code == 201, r.content
    pk = r.json()["id"]
    assert r.json()["reasons"] == ["covered", "no_permit"]
    r = _post(c, f"/api/closure/entries/{pk}/advance", {"to": "closed"})
    assert r.status_code in (400, 422) and "status" in r.content.decode()
    assert _post(c, f"/api/closure/entries/{pk}/advance", {"to": "notified"}).status_code == 200
    assert _post(c, f"/api/closure/entries/{pk}/advance", {"to": "closed"}).status_code == 200
    r = _post(
        c,
        f"/api/closure/entries/{pk}/inspections",
        {
            "inspected_at": "2026-01-01T10:00:00+08:00",
            "lon": SEAT[0],
            "lat": SEAT[1],
            "signed_by": "张三",
        },
    )
    assert r.status_code == 201, r.content
    ins = r.json()["id"]
    r = c.post(
        f"/api/closure/inspections/{ins}/files", {"label": "photo", "file": io.BytesIO(png())}
    )
    assert r.status_code == 201 and r.json()["files"][0]["label"] == "photo"
    # Township A's officer sees it; the water user owning the well too; the public not.
    detail = c.get(f"/api/closure/entries/{pk}").json()
    assert detail["inspections"][0]["files"][0]["sha256"]
    other = world.client("township")
    assert other.get(f"/api/closure/entries/{pk}").status_code == 200
    assert (
        world.client("water_user").get(f"/api/closure/entries/{pk}").status_code == 200
    )  # own well
    assert world.client("public").get(f"/api/closure/entries/{pk}").status_code == 403


def test_export_has_the_list_columns(world: Any) -> None:
    services.enrol(world.accounts["bureau"], world.well_b, deadline=TODAY, method="backfill")
    r = world.client("bureau").get("/closure/export?format=xlsx")
    ws = load_workbook(io.BytesIO(r.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "井编号" and rows[1][0] == "W-B-1"
    # Officer A sees none of township B's.
    r = world.client("township").get("/api/closure/entries/")
    assert r.json()["count"] == 0


def test_coverage_import_api(world: Any) -> None:
    work, _area = supply(*SEAT)
    c = world.client("bureau")
    bad = {"work_id": work.pk, "geojson": {"type": "Point", "coordinates": [1, 2]}}
    r = _post(c, "/api/closure/coverage/import", bad)
    assert r.status_code in (400, 422) and "geojson" in r.content.decode()
    ok = {
        "work_id": work.pk,
        "served_on": "2026-01-01",
        "geojson": {
            "type": "Polygon",
            "coordinates": [[[112.45, 35.49], [112.46, 35.49], [112.46, 35.5], [112.45, 35.49]]],
        },
    }
    r = _post(c, "/api/closure/coverage/import", ok)
    assert r.status_code == 201 and r.json()[0]["served_on"] == "2026-01-01"
    assert _post(world.client("township"), "/api/closure/coverage/import", ok).status_code == 403


def _candidate_rows(html: str) -> list[str]:
    import re

    return re.findall(r'<tr data-well="([^"]+)">', html)


def test_candidates_page_counts_filters_pages_and_enrols_from_a_row(world: Any) -> None:
    from tests.closure.helpers import well
    from tests.conftest import HUANGCHENG

    supply(*SEAT)
    hc = well("W-HC", *HUANGCHENG)
    for i in range(55):  # unpermitted wells east of the seat: more than a page
        well(f"W-N-{i:02d}", SEAT[0] + 0.03 + 0.0005 * i, SEAT[1] + 0.01)
    c = world.client("bureau")
    html = c.get("/closure/candidates/").content.decode()
    assert len(_candidate_rows(html)) == 50 and 'rel="next"' in html
    everyone = _candidate_rows(html) + _candidate_rows(
        c.get("/closure/candidates/?page=2").content.decode()
    )
    assert len(everyone) == len(set(everyone)) == 58  # 55 + W-HC + the two world wells
    # the summary counts each reason and links to it
    assert 'data-reason="prohibited">' in html and "?reason=prohibited" in html
    only = c.get("/closure/candidates/?reason=prohibited").content.decode()
    assert _candidate_rows(only) == ["W-HC"]
    assert _candidate_rows(c.get("/closure/candidates/?q=w-hc").content.decode()) == ["W-HC"]
    town = hc.township
    rows = _candidate_rows(c.get(f"/closure/candidates/?township={town.pk}").content.decode())
    assert "W-HC" in rows
    assert all(w.township_id == town.pk for w in Well.objects.filter(code__in=rows))
    # biggest first: a covered well whose permit allows 1,000,000 m³ leads, last by code
    from aquifer.core.audit import audit_context
    from aquifer.permits.models import Permit

    big = well("W-Z", SEAT[0] + 0.001, SEAT[1] + 0.001)
    with audit_context(source="test"):
        p = Permit.objects.create(
            holder=world.user_a, source="shallow", use_type="industrial",
            annual_quota_m3=1_000_000, status="active", township=world.township_a,
        )  # fmt: skip
        p.wells.add(big)
    by_code = _candidate_rows(c.get("/closure/candidates/?page=2").content.decode())
    assert by_code[-1] == "W-Z"
    by_volume = c.get("/closure/candidates/?sort=-volume").content.decode()
    assert _candidate_rows(by_volume)[0] == "W-Z"
    # a bad filter names its field and leaves the list whole
    bad = c.get("/closure/candidates/?township=999999&reason=melt")
    assert bad.status_code == 200
    text = bad.content.decode()
    assert 'id="filter-errors"' in text and "乡镇" in text and "关停理由" in text
    assert len(_candidate_rows(text)) == 50
    # a row's link puts its well into the enrol form
    pick = c.get(f"/closure/candidates/?enrol={hc.code}").content.decode()
    assert 'name="well" value="W-HC"' in pick
    # and the form enrols it; a code that names no well is refused naming the field
    form = {"deadline": "2026-12-31", "method": "seal", "connection": ""}
    r = c.post("/closure/candidates/", {**form, "well": "W-NOPE"})
    assert r.status_code == 200 and "没有编号为“W-NOPE”的取水井" in r.content.decode()
    r = c.post("/closure/candidates/", {**form, "well": "w-hc"})
    assert r.status_code == 302
    entry = ClosureEntry.objects.get(well=hc)
    assert r["Location"] == entry.get_absolute_url()
    assert entry.reasons == ["prohibited", "no_permit"]
    assert "W-HC" not in _candidate_rows(c.get("/closure/candidates/").content.decode())
