"""No input is a 500: every operation of the OpenAPI document, fed what breaks servers.

The cases are generated from the document itself, so a new route is covered when it is
added: every integer parameter gets 2**70, every string query parameter a NUL character,
every JSON write route a body of 100,000 nested brackets and a string with a NUL. Both test
passes (SQLite, PostgreSQL) run them.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

import pytest

from aquifer.api.api import api
from aquifer.registry.models import Township, WaterUser

DOC = api.get_openapi_schema()
HUGE = 2**70
OPERATIONS = [
    (method, path, op)
    for path, ops in DOC["paths"].items()
    for method, op in ops.items()
    if method in ("get", "post", "put", "patch", "delete")
]


def _types(schema: dict[str, Any]) -> set[str]:
    return {schema.get("type", "")} | {s.get("type", "") for s in schema.get("anyOf", [])}


def _url(path: str, path_values: dict[str, Any], query: dict[str, Any]) -> str:
    url = re.sub(r"\{(\w+)\}", lambda m: str(path_values.get(m.group(1), 1)), path)
    return f"{url}?{urlencode(query)}" if query else url


def _call(c: Any, method: str, url: str, body: str | None = None) -> Any:
    if body is None and method in ("get", "delete"):
        return getattr(c, method)(url)
    if body is None:
        body = "{}"
    return getattr(c, method)(url, body, content_type="application/json")


def _fields(r: Any) -> set[str]:
    return {e["field"] for e in json.loads(r.content).get("errors", [])}


INT_PARAMS = [
    pytest.param(method, path, p["name"], p["in"], id=f"{method} {path} {p['name']}")
    for method, path, op in OPERATIONS
    for p in op.get("parameters", [])
    if "integer" in _types(p.get("schema", {}))
]
TEXT_QUERY_PARAMS = [
    pytest.param(method, path, p["name"], id=f"{method} {path} {p['name']}")
    for method, path, op in OPERATIONS
    for p in op.get("parameters", [])
    if p["in"] == "query" and "string" in _types(p.get("schema", {}))
]
JSON_WRITES = [
    pytest.param(method, path, id=f"{method} {path}")
    for method, path, op in OPERATIONS
    if "application/json" in op.get("requestBody", {}).get("content", {})
    and "DeviceAuth" not in json.dumps(op.get("security", []))
]


def test_the_document_has_what_the_cases_need() -> None:
    assert len(INT_PARAMS) > 30 and len(TEXT_QUERY_PARAMS) > 10 and len(JSON_WRITES) > 20


@pytest.mark.parametrize(("method", "path", "name", "where"), INT_PARAMS)
def test_integer_beyond_64_bits_is_422_naming_it(
    world: Any, method: str, path: str, name: str, where: str
) -> None:
    c = world.client("bureau")
    query = {name: HUGE} if where == "query" else {}
    r = _call(c, method, _url(path, {name: HUGE}, query))
    assert r.status_code == 422, r.content
    assert name in _fields(r), r.content


@pytest.mark.parametrize(("method", "path", "name"), TEXT_QUERY_PARAMS)
def test_nul_in_a_query_string_is_422_naming_it(
    world: Any, method: str, path: str, name: str
) -> None:
    r = _call(world.client("bureau"), method, _url(path, {}, {name: "a\x00b"}))
    assert r.status_code == 422, r.content
    assert name in _fields(r), r.content


@pytest.mark.parametrize(("method", "path"), JSON_WRITES)
def test_deeply_nested_body_is_400_naming_the_body(world: Any, method: str, path: str) -> None:
    depth = 100_000  # 200 kB
    r = _call(world.client("bureau"), method, _url(path, {}, {}), "[" * depth + "]" * depth)
    assert r.status_code == 400, r.content
    assert "请求体嵌套过深" in json.loads(r.content)["detail"]


@pytest.mark.parametrize(("method", "path"), JSON_WRITES)
def test_nul_in_a_body_string_is_422_naming_the_field(world: Any, method: str, path: str) -> None:
    body = json.dumps({"name": "井\x00", "note": {"deep": ["ok", "a\x00"]}})
    r = _call(world.client("bureau"), method, _url(path, {}, {}), body)
    assert r.status_code == 422, r.content
    assert _fields(r) == {"name", "note.deep.1"}, r.content


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"township_id": NaN}', "township_id"),
        ('{"a": [1, {"b": Infinity}]}', "a.1.b"),
        ('{"x": 1e400}', "x"),
        ('{"township_id": 99999999999999999999999}', "township_id"),
    ],
)
def test_numbers_no_database_can_store_are_422_naming_the_field(
    world: Any, body: str, field: str
) -> None:
    r = _call(world.client("bureau"), "post", "/api/water-users/", body)
    assert r.status_code == 422, r.content
    assert _fields(r) == {field}


def test_a_boolean_is_not_an_id(world: Any) -> None:
    n = WaterUser.objects.count()
    body = {"name": "某公司", "use_type": "industrial", "township_id": True}
    r = _call(world.client("bureau"), "post", "/api/water-users/", json.dumps(body))
    assert r.status_code == 422, r.content
    assert "township_id" in _fields(r)
    assert WaterUser.objects.count() == n


def test_a_boolean_is_not_a_number(world: Any) -> None:
    r = _call(
        world.client("bureau"),
        "patch",
        f"/api/wells/{world.well_a.pk}",
        json.dumps({"depth_m": True}),
    )
    assert r.status_code == 422, r.content
    assert "depth_m" in _fields(r)


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ('{"seat_lon": NaN}', "seat_lon"),
        ('{"seat_lat": 1e308}', "seat_lat"),
        ('{"seat_lon": -1e308}', "seat_lon"),
        ('{"seat_lat": 90.5}', "seat_lat"),
    ],
)
def test_township_seat_must_be_a_place_on_earth(world: Any, patch: str, field: str) -> None:
    r = _call(world.client("bureau"), "patch", f"/api/townships/{world.township_a.pk}", patch)
    assert r.status_code == 422, r.content
    assert _fields(r) == {field}
    world.township_a.refresh_from_db()
    assert world.township_a.seat_lat is None or abs(world.township_a.seat_lat) <= 90


@pytest.mark.parametrize(
    "query",
    [
        {"start": "0001-01-01"},
        {"end": "9999-12-31"},
        {"start": "0001-01-01", "end": "9999-12-31"},
    ],
)
def test_extreme_dates_in_the_health_api_are_422_naming_them(
    world: Any, query: dict[str, str]
) -> None:
    r = world.client("bureau").get(_url("/api/monitoring/health/", {}, query))
    assert r.status_code == 422, r.content
    assert _fields(r) == set(query)


@pytest.mark.parametrize(
    ("method", "path", "name"),
    [
        pytest.param(method, path, p["name"], id=f"{method} {path} {p['name']}")
        for method, path, op in OPERATIONS
        for p in op.get("parameters", [])
        if p["in"] == "query" and p["name"] in ("start", "end")
    ],
)
@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31"])
def test_extreme_dates_are_refused_on_every_route(
    world: Any, method: str, path: str, name: str, value: str
) -> None:
    pk = {"pk": world.device_a.pk}
    query = {"element": "depth_to_water", name: value} if "series" in path else {name: value}
    r = _call(world.client("bureau"), method, _url(path, pk, query))
    assert r.status_code == 422, r.content
    assert name in _fields(r)


def test_null_for_a_field_that_cannot_be_empty_is_422_naming_it(world: Any) -> None:
    c = world.client("bureau")
    for path, field in [
        (f"/api/wells/{world.well_a.pk}", "depth_m"),
        (f"/api/wells/{world.well_a.pk}", "code"),
        (f"/api/townships/{world.township_a.pk}", "name"),
        (f"/api/water-users/{world.user_a.pk}", "name"),
    ]:
        r = _call(c, "patch", path, json.dumps({field: None}))
        assert r.status_code == 422, (path, r.content)
        assert field in _fields(r), (path, r.content)
    assert Township.objects.get(pk=world.township_a.pk).name == world.township_a.name


def test_no_two_schemas_share_a_name() -> None:
    """The document keys schemas by class name: two of one name, and one route is described
    by the other's schema (schemathesis found ``AuditOut`` twice)."""
    from pydantic import BaseModel

    seen: dict[str, type[BaseModel]] = {}
    todo: list[Any] = [
        m
        for _p, r in api._routers
        for v in r.path_operations.values()
        for o in v.operations
        for m in [*o.models, *o.response_models.values()]
    ]
    while todo:
        item = todo.pop()
        if isinstance(item, type) and issubclass(item, BaseModel):
            if item.__module__.startswith("aquifer") and item.__name__ in seen:
                assert seen[item.__name__] is item, item.__name__
            seen.setdefault(item.__name__, item)
            todo.extend(f.annotation for f in item.model_fields.values())
        else:
            todo.extend(getattr(item, "__args__", ()))
