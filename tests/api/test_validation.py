"""Bad input gets a 4xx that names the field; nothing is half saved."""

from __future__ import annotations

import json
from typing import Any

import pytest

from aquifer.core.models import AuditEntry
from aquifer.registry.models import WaterUser, Well, Zone

GOOD_WELL = {
    "code": "V-1",
    "x": 112.418,
    "y": 35.487,
    "depth_m": 60,
    "layer": "shallow",
    "purpose": "agricultural",
}


def post(c: Any, path: str, data: Any) -> Any:
    raw = data if isinstance(data, str) else json.dumps(data)
    return c.post(f"/api/{path}/", raw, content_type="application/json")


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"x": 116.4, "y": 39.9}, "x"),
        ({"code": "W-A-1"}, "code"),
        ({"depth_m": -3}, "depth_m"),
        ({"depth_m": "deep"}, "depth_m"),
        ({"layer": "middle"}, "layer"),
        ({"crs": 3857}, "crs"),
        ({"unknown_field": 1}, "unknown_field"),
        ({"status": "destroyed"}, "status"),
    ],
)
def test_bad_well_is_refused_with_the_field(world: Any, patch: dict[str, Any], field: str) -> None:
    c = world.client("bureau")
    n_wells, n_audit = Well.objects.count(), AuditEntry.objects.count()
    r = post(c, "wells", {**GOOD_WELL, **patch})
    assert r.status_code == 422, r.content
    errors = json.loads(r.content)["errors"]
    assert field in {e["field"] for e in errors}, errors
    assert all(e["message"] for e in errors)
    assert (Well.objects.count(), AuditEntry.objects.count()) == (n_wells, n_audit)


def test_missing_required_fields_are_all_named(world: Any) -> None:
    r = post(world.client("bureau"), "wells", {"code": "V-2"})
    fields = {e["field"] for e in json.loads(r.content)["errors"]}
    assert r.status_code == 422
    assert {"x", "y", "depth_m", "layer", "purpose"} <= fields


def test_malformed_json_says_where(world: Any) -> None:
    r = post(world.client("bureau"), "wells", '{"code": "V-3",, }')
    assert r.status_code == 400
    detail = json.loads(r.content)["detail"]
    assert "第 1 行第 16 列（字节 15）" in detail


def test_wrong_check_digit(world: Any) -> None:
    r = post(
        world.client("bureau"),
        "water-users",
        {
            "name": "某公司",
            "use_type": "industrial",
            "township_id": world.township_a.pk,
            "uscc": "91110000600037341K",
        },
    )
    assert r.status_code == 422
    assert json.loads(r.content)["errors"] == [
        {"field": "uscc", "message": "统一社会信用代码校验位错误 (check digit is wrong)"}
    ]
    assert not WaterUser.objects.filter(name="某公司").exists()


def test_invalid_geojson_zone(world: Any) -> None:
    ring = [[112.3, 35.5], [112.31, 35.5], [112.31, 35.51], [112.3, 35.51]]
    r = post(
        world.client("bureau"),
        "zones",
        {
            "code": "Z-9",
            "name": "z",
            "kind": "balanced",
            "layer": "deep",
            "geometry": {"type": "Polygon", "coordinates": [ring]},
            "allowable_extraction_m3": 1,
            "designation_document": "d",
        },
    )
    assert r.status_code == 422
    err = json.loads(r.content)["errors"][0]
    assert err["field"] == "geometry" and "not closed" in err["message"]
    assert not Zone.objects.filter(code="Z-9").exists()


def test_bad_station_address(world: Any) -> None:
    r = post(
        world.client("bureau"),
        "devices",
        {"kind": "flow_meter", "protocol": "SL651", "station_address": "12345"},
    )
    assert r.status_code == 422
    assert json.loads(r.content)["errors"][0]["field"] == "station_address"


def test_duplicate_station_address(world: Any) -> None:
    r = post(
        world.client("bureau"),
        "devices",
        {"kind": "flow_meter", "protocol": "SL651", "station_address": "0014052201"},
    )
    assert r.status_code == 422
    assert json.loads(r.content)["errors"][0]["field"] == "station_address"


def test_paging_and_filters(world: Any) -> None:
    c = world.client("bureau")
    page = json.loads(c.get("/api/wells/?limit=1&offset=1").content)
    assert page["count"] == 2 and len(page["items"]) == 1 and page["offset"] == 1
    only_b = json.loads(c.get(f"/api/wells/?township_id={world.township_b.pk}").content)
    assert [i["code"] for i in only_b["items"]] == ["W-B-1"]
    assert c.get("/api/wells/?limit=0").status_code == 422
    assert c.get("/api/wells/?status=nonsense").status_code == 422


def test_openapi_document(world: Any) -> None:
    r = world.client("anonymous").get("/api/openapi.json")
    assert r.status_code == 200
    doc = json.loads(r.content)
    for path in (
        "/api/wells/",
        "/api/wells/{pk}",
        "/api/zones/",
        "/api/water-users/",
        "/api/devices/",
        "/api/monitoring-wells/",
        "/api/townships/",
        "/api/audit/",
        "/api/map/wells.geojson",
    ):
        assert path in doc["paths"], path
    assert set(doc["paths"]["/api/wells/"]) == {"get", "post"}
    assert set(doc["paths"]["/api/wells/{pk}"]) == {"get", "patch", "delete"}
