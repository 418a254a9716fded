"""Pages, API and export of the closure programme: scoped, 4xx naming the field."""

from __future__ import annotations

import io
import json
from typing import Any

from openpyxl import load_workbook

from aquifer.closure import services
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
