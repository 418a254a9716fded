"""OGC API – Features at /ogcapi/, read with OWSLib's OGC API Features client."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from owslib.ogcapi.features import Features

from aquifer.opendata.ogcapi.collections import COLLECTIONS, Collection, register
from aquifer.registry.models import Well

URL = "http://testserver/ogcapi/"


@pytest.fixture
def private_well(world: Any) -> Well:
    w = Well(code="W-C-9", depth_m=60, layer="shallow", purpose="agricultural",
             owner=world.user_a, lon=world.well_a.lon + 0.001, lat=world.well_a.lat)  # fmt: skip
    w.save()
    return w


def test_owslib_reads_collections_and_items(world: Any, private_well: Well, http: Any) -> None:
    api = Features(URL)
    assert (
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
        in (api.conformance()["conformsTo"])
    )
    ids = {c["id"] for c in api.collections()["collections"]}
    assert ids >= {"wells", "monitoring-wells", "zones", "townships"}
    wells = api.collection_items("wells", limit=100)
    codes = {f["properties"]["code"] for f in wells["features"]}
    assert codes == {"W-A-1", "W-B-1"}  # the public: monitoring wells only, public fields
    assert set(wells["features"][0]["properties"]) == {"code", "name", "kind", "township", "layer"}
    townships = api.collection_items("townships", limit=100)
    names = {f["properties"]["name"] for f in townships["features"]}
    assert {world.township_a.name, world.township_b.name} <= names
    assert townships["numberReturned"] == townships["numberMatched"]
    assert any(f["geometry"]["type"] in ("Polygon", "MultiPolygon")
               for f in townships["features"] if f["geometry"])  # fmt: skip


def test_paging_and_bbox(world: Any, private_well: Well) -> None:
    bureau = world.client("bureau")
    page = bureau.get("/ogcapi/collections/wells/items", {"limit": 2}).json()
    assert page["numberMatched"] == 3 and page["numberReturned"] == 2
    nxt = next(link["href"] for link in page["links"] if link["rel"] == "next")
    rest = bureau.get(nxt.replace("http://testserver", "")).json()
    assert rest["numberReturned"] == 1
    assert "owner_id" in rest["features"][0]["properties"]
    a = world.well_a
    box = f"{a.lon - 0.0005},{a.lat - 0.0005},{a.lon + 0.0005},{a.lat + 0.0005}"
    inside = bureau.get("/ogcapi/collections/wells/items", {"bbox": box}).json()
    assert [f["properties"]["code"] for f in inside["features"]] == ["W-A-1"]
    t = world.township_a
    seat = f"{t.seat_lon - 0.001},{t.seat_lat - 0.001},{t.seat_lon + 0.001},{t.seat_lat + 0.001}"
    towns = Client().get("/ogcapi/collections/townships/items", {"bbox": seat}).json()
    assert t.name in [f["properties"]["name"] for f in towns["features"]]


@pytest.mark.parametrize(
    "query, field", [({"bbox": "1,2,3"}, "bbox"), ({"bbox": "a,b,c,d"}, "bbox"),
                     ({"limit": "-1"}, "limit"), ({"offset": "x"}, "offset")],
)  # fmt: skip
def test_bad_parameters_are_400(world: Any, query: dict[str, str], field: str) -> None:
    response = Client().get("/ogcapi/collections/wells/items", query)
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == field


def test_one_item_scoped_and_unknown(world: Any, private_well: Well) -> None:
    assert Client().get(f"/ogcapi/collections/wells/items/{private_well.pk}").status_code == 404
    one = world.client("bureau").get(f"/ogcapi/collections/wells/items/{private_well.pk}")
    assert one.status_code == 200 and one.json()["properties"]["code"] == "W-C-9"
    assert Client().get("/ogcapi/collections/nope/items").status_code == 404


def test_a_collection_is_one_declaration(world: Any) -> None:
    """What the supply coverage areas will be: one register() call."""
    extra = register(Collection(
        "test-zones", "测试", "test", COLLECTIONS["zones"].rows, COLLECTIONS["zones"].geometry,
        COLLECTIONS["zones"].properties, ("code",),
    ))  # fmt: skip
    try:
        body = Client().get("/ogcapi/collections/test-zones/items").json()
        assert body["numberMatched"] == 1 and set(body["features"][0]["properties"]) == {"code"}
    finally:
        COLLECTIONS.pop(extra.id)


def test_supply_coverage_areas_are_a_collection(world: Any) -> None:
    from tests.closure.helpers import supply

    _work, area = supply(112.417, 35.486)
    got = Client().get("/ogcapi/collections/supply-areas/items?f=json").json()
    assert got["numberMatched"] == 1
    feature = got["features"][0]
    assert feature["geometry"]["type"] == "Polygon"
    assert feature["properties"]["name"] == area.name == "县城东片"
    assert feature["properties"]["work"] == "张峰水库供水工程"
