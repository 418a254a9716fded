"""SensorThings API 1.1 at /sta/v1.1/: entities, query options, scoping, the latest
observation from the LatestReading table, and frost-sta-client reading it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import frost_sta_client as fsc
import orjson
import pytest
from django.test import Client

from aquifer.registry.models import Device, Well
from aquifer.telemetry.models import LatestReading, Reading
from aquifer.telemetry.store import ingest_tuples

T0 = datetime(2026, 1, 1, tzinfo=UTC)
STA = "/sta/v1.1/"


@pytest.fixture
def series(world: Any) -> dict[str, Any]:
    """Hourly depth readings of device A (on monitoring well A), and a private withdrawal
    well C with a flow series that the public must not see."""
    rows = [(world.device_a.pk, "depth_to_water", T0 + timedelta(hours=h), 10 + h / 10, 0)
            for h in range(48)]  # fmt: skip
    ingest_tuples(rows)
    wc = Well(code="W-C-9", depth_m=60, layer="shallow", purpose="agricultural",
              owner=world.user_a, lon=world.well_a.lon + 0.001, lat=world.well_a.lat)  # fmt: skip
    wc.save()
    dc = Device.objects.create(kind=world.device_a.kind, protocol=world.device_a.protocol,
                               station_address="PRIVATE-C", well=wc)  # fmt: skip
    ingest_tuples([(dc.pk, "flow_rate", T0, 3.5, 0)])
    return {"well_c": wc, "device_c": dc}


def get(client: Client, path: str) -> Any:
    response = client.get(STA + path)
    assert response.status_code == 200, response.content
    return response.json()


def test_root_lists_the_entity_sets(world: Any) -> None:
    body = get(Client(), "")
    assert [v["name"] for v in body["value"]] == [
        "Things", "Locations", "Sensors", "ObservedProperties", "Datastreams", "Observations",
    ]  # fmt: skip


def test_the_public_sees_monitoring_wells_only(world: Any, series: Any) -> None:
    anon = get(Client(), "Things?$count=true")
    codes = {t["name"] for t in anon["value"]}
    assert "W-C-9" not in codes and {"W-A-1", "W-B-1"} <= codes
    assert "owner_id" not in anon["value"][0]["properties"]
    assert Client().get(STA + f"Things({series['well_c'].pk})").status_code == 404
    bureau = get(world.client("bureau"), "Things")
    assert "W-C-9" in {t["name"] for t in bureau["value"]}
    assert "owner_id" in bureau["value"][0]["properties"]
    streams = get(Client(), "Datastreams")["value"]
    assert all(s["properties"]["element"] != "flow_rate" for s in streams)


def test_latest_observation_from_the_latest_table(world: Any, series: Any) -> None:
    ds = LatestReading.objects.get(device=world.device_a, element="depth_to_water")
    body = get(Client(), "Datastreams?$expand=Observations($top=1;$orderby=phenomenonTime desc)")
    mine = next(s for s in body["value"] if s["@iot.id"] == ds.pk)
    (obs,) = mine["Observations"]
    newest = Reading.objects.filter(device=world.device_a).order_by("-observed_at").first()
    assert newest is not None
    assert (obs["@iot.id"], obs["result"]) == (newest.pk, newest.value)
    assert obs["phenomenonTime"] == "2026-01-02T23:00:00Z"
    # the same answer as from the readings themselves
    slow = get(Client(), f"Datastreams({ds.pk})/Observations?$top=1&$orderby=phenomenonTime desc")
    assert slow["value"][0]["@iot.id"] == obs["@iot.id"]


def test_query_options(world: Any, series: Any) -> None:
    ds = LatestReading.objects.get(device=world.device_a, element="depth_to_water").pk
    path = f"Datastreams({ds})/Observations"
    page = get(Client(), f"{path}?$filter=result ge 12 and phenomenonTime lt 2026-01-02T12:00:00Z"
                         "&$orderby=result desc&$top=3&$skip=1&$count=true")  # fmt: skip
    assert page["@iot.count"] == 16  # hours 20…35: ≥ 12 m and before 12:00 on day 2
    assert [o["result"] for o in page["value"]] == [13.4, 13.3, 13.2]
    assert "@iot.nextLink" in page and "%24skip=4" in page["@iot.nextLink"]
    thing = get(Client(), f"Things({world.well_a.pk})?$expand=Locations,Datastreams/Sensor"
                          "&$select=name,Locations,Datastreams")  # fmt: skip
    assert thing["Locations"][0]["location"]["type"] == "Point"
    assert thing["Datastreams"][0]["Sensor"]["@iot.id"] == world.device_a.pk
    assert "description" not in thing
    prop = get(Client(), "ObservedProperties?$filter=id eq 'depth_to_water'")["value"]
    assert [p["@iot.id"] for p in prop] == ["depth_to_water"]


@pytest.mark.parametrize(
    "query, option",
    [("$top=x", "$top"), ("$filter=nosuch eq 1", "$filter"), ("$filter=((", "$filter"),
     ("$orderby=nosuch", "$orderby"), ("$expand=Nope", "$expand"), ("$count=maybe", "$count"),
     # not OData: options in an expand item are $-options; a nested expand is $expand=…
     ("$expand=Thing(Locations($top=1))", "$expand"), ("$expand=Thing(Locations)", "$expand"),
     ("$expand=Thing($top=1;foo=2)", "$expand")],
)  # fmt: skip
def test_bad_options_are_400_naming_them(world: Any, series: Any, query: str, option: str) -> None:
    response = Client().get(STA + "Datastreams?" + query)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == option


def test_a_nested_expand_in_the_odata_form_expands(world: Any, series: Any) -> None:
    ds = LatestReading.objects.get(device=world.device_a, element="depth_to_water").pk
    body = get(Client(), f"Datastreams({ds})?$expand=Thing($expand=Locations($top=1))")
    assert body["Thing"]["Locations"][0]["location"]["type"] == "Point"


def test_read_only_and_unknown_paths(world: Any) -> None:
    assert Client().post(STA + "Things", {}).status_code == 405
    assert Client().get(STA + "Nothing").status_code == 404
    assert Client().get(STA + "Things(abc)").status_code == 404
    bad = Client().get(STA + "Things", HTTP_AUTHORIZATION="Bearer aq_nope")
    assert bad.status_code == 401


def test_frost_client_reads_the_same_values_as_the_rest_api(
    world: Any, series: Any, http: Any
) -> None:
    service = fsc.SensorThingsService("http://testserver/sta/v1.1")
    things = list(service.things().query().list())
    assert {t.name for t in things} >= {"W-A-1", "W-B-1"}
    ds = LatestReading.objects.get(device=world.device_a, element="depth_to_water").pk
    stream = service.datastreams().find(ds)
    query = stream.get_observations().query().orderby("phenomenonTime", "ASC")
    observations = list(query.list())
    values = [o.result for o in observations]
    # the REST API's series of the same device and element (bureau, raw resolution)
    rest = world.client("bureau").get(
        f"/api/devices/{world.device_a.pk}/series",
        {"element": "depth_to_water", "start": "2026-01-01T00:00:00Z",
         "end": "2026-01-03T00:00:00Z", "resolution": "raw"},
    )  # fmt: skip
    assert rest.status_code == 200, rest.content
    rest_values = [p[1] for p in rest.json()["points"]]
    assert values == rest_values and len(values) == 48


def test_pages_by_time_follow_the_key_not_an_offset(world: Any, series: Any) -> None:
    ds = LatestReading.objects.get(device=world.device_a, element="depth_to_water").pk
    url: str | None = f"{STA}Datastreams({ds})/Observations?$top=10&$orderby=phenomenonTime desc"
    results: list[float] = []
    while url:
        page = Client().get(url.replace("http://testserver", "")).json()
        results += [o["result"] for o in page["value"]]
        url = page.get("@iot.nextLink")
        assert url is None or ("skiptoken" in url and "skip=" not in url.replace("skiptoken", ""))
    assert results == [round(10 + h / 10, 1) for h in reversed(range(48))]
    bad = Client().get(f"{STA}Datastreams({ds})/Observations?$orderby=phenomenonTime"
                       "&$skiptoken=nonsense")  # fmt: skip
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "$skiptoken"


LATEST = "$expand=Observations($top=1;$orderby=phenomenonTime desc)"


def _one_by_one(client: Client, ids: list[int], query: str) -> bytes:
    """A page written entity by entity: each Datastream asked for alone (the general path)."""
    items = [get(client, f"Datastreams({pk})?{query}") for pk in ids]
    return orjson.dumps({"value": items})


@pytest.mark.parametrize("query", [LATEST, "", f"$top=2&$skip=1&{LATEST}"])
def test_a_page_of_datastreams_is_byte_for_byte_the_entities(
    world: Any, series: Any, query: str
) -> None:
    """The page of Datastreams (and their newest Observation) is written by one loop over one
    query with the times formatted by the database (entities.datastream_values): the same
    bytes as each Datastream rendered alone, microseconds and the private well included."""
    when = T0 + timedelta(days=3, microseconds=250000)
    later = T0 + timedelta(hours=1)
    ingest_tuples([(world.device_a.pk, "depth_to_water", when, 9.75, 0),
                   (series["device_c"].pk, "flow_rate", later, 4.0, 0)])  # fmt: skip
    bureau = world.client("bureau")
    response = bureau.get(STA + "Datastreams?" + query)
    assert response.status_code == 200
    ids = [s["@iot.id"] for s in response.json()["value"]]
    assert ids and response.content == _one_by_one(bureau, ids, query)
    if query == LATEST:
        mine = LatestReading.objects.get(device=world.device_a, element="depth_to_water").pk
        (obs,) = next(s for s in response.json()["value"] if s["@iot.id"] == mine)["Observations"]
        assert obs["phenomenonTime"] == "2026-01-04T00:00:00.250000Z" and obs["result"] == 9.75
        private = LatestReading.objects.get(device=series["device_c"]).pk
        assert private in ids
        # nested in a Thing: the same loop, the same bytes
        thing = get(bureau, f"Things({world.well_a.pk})?$expand=Datastreams/{LATEST[8:]}")
        streams = thing["Datastreams"]
        assert streams and all(len(s["Observations"]) == 1 for s in streams)
        assert orjson.dumps({"value": streams}) == _one_by_one(
            bureau, [s["@iot.id"] for s in streams], query
        )


def test_the_public_gets_public_datastreams_only_with_their_newest_observation(
    world: Any, series: Any
) -> None:
    """The fast page keeps opendata.access's scope: an anonymous caller gets no Datastream of
    the private withdrawal well C, and the same bytes as entity by entity."""
    anon = Client()
    response = anon.get(STA + "Datastreams?$count=true&" + LATEST)
    body = response.json()
    private = LatestReading.objects.get(device=series["device_c"]).pk
    ids = [s["@iot.id"] for s in body["value"]]
    assert private not in ids and ids
    assert body["@iot.count"] == len(ids)
    assert all(s["properties"]["device_id"] != series["device_c"].pk for s in body["value"])
    assert response.content == orjson.dumps(
        {"@iot.count": len(ids), "value": orjson.loads(_one_by_one(anon, ids, LATEST))["value"]}
    )
    assert anon.get(STA + f"Datastreams({private})?{LATEST}").status_code == 404
    bureau = get(world.client("bureau"), "Datastreams?" + LATEST)
    assert private in {s["@iot.id"] for s in bureau["value"]}
