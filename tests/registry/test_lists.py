"""One declaration per model: the FilterSet filters both the list page and the API, the Table
gives the page its sortable columns and the exports their columns (registry/filters.py,
registry/tables.py)."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from openpyxl import load_workbook

from aquifer.core.roles import Action
from aquifer.core.scoping import visible_to
from aquifer.registry import filters, tables
from aquifer.registry.models import Device, MonitoringWell, Township, WaterUser, Well, Zone
from tests.lists import api_ids, csv_rows, page_ids

# (page and API path, model, FilterSet, Table)
LISTS = [
    ("townships", Township, filters.TownshipFilterSet, tables.TownshipTable),
    ("zones", Zone, filters.ZoneFilterSet, tables.ZoneTable),
    ("water-users", WaterUser, filters.WaterUserFilterSet, tables.WaterUserTable),
    ("wells", Well, filters.WellFilterSet, tables.WellTable),
    (
        "monitoring-wells",
        MonitoringWell,
        filters.MonitoringWellFilterSet,
        tables.MonitoringWellTable,
    ),
    ("devices", Device, filters.DeviceFilterSet, tables.DeviceTable),
]
IDS = [entry[0] for entry in LISTS]


def exported(table: Any) -> list[Any]:
    model = {t: m for _p, m, _f, t in LISTS}[table]
    return [
        c for c in table(model.objects.none()).columns.iterall() if not c.column.exclude_from_export
    ]


# --- The same filter on the page and in the API ---------------------------------------------------


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("wells", "township_id={b}&status=active"),
        ("wells", "township_id={a}&status=active"),
        ("wells", "township_id={b}&status=closed"),
        ("wells", "q=w-a&layer=shallow"),
        ("wells", "owner_id={ua}"),
        ("devices", "township_id={b}"),
        ("devices", "active=false"),
        ("monitoring-wells", "monitors_quality=true"),
        ("water-users", "township_id={a}&use_type=domestic"),
        ("townships", "is_current=false"),
        ("zones", "kind=prohibited&layer=deep"),
    ],
)
def test_the_same_filter_gives_the_same_rows_on_the_page_and_in_the_api(
    world: Any, path: str, query: str
) -> None:
    q = query.format(a=world.township_a.pk, b=world.township_b.pk, ua=world.user_a.pk)
    c = world.client("bureau")
    on_page = page_ids(c.get(f"/{path}/?{q}"))
    in_api = api_ids(c.get(f"/api/{path}/?{q}&limit=500"))
    assert on_page == in_api
    exported_rows = csv_rows(c.get(f"/api/{path}/export?format=csv&{q}"))
    assert len(exported_rows) - 1 == len(in_api)


def test_wells_by_township_and_status(world: Any) -> None:
    c = world.client("bureau")
    q = f"township_id={world.township_b.pk}&status=active"
    assert page_ids(c.get(f"/wells/?{q}")) == [world.well_b.pk]
    assert api_ids(c.get(f"/api/wells/?{q}")) == [world.well_b.pk]
    rows = csv_rows(c.get(f"/api/wells/export?format=csv&{q}"))
    assert [r[0] for r in rows[1:]] == ["W-B-1"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=nonsense", "status"),
        ("township_id=abc", "township_id"),
        ("township_id=999999", "township_id"),
        ("monitors_quality=maybe", "monitors_quality"),
    ],
)
def test_a_bad_filter_value_is_a_422_naming_the_field(world: Any, query: str, field: str) -> None:
    path = "monitoring-wells" if field.startswith("monitors") else "wells"
    c = world.client("bureau")
    for url in (f"/api/{path}/?{query}", f"/api/{path}/export?format=csv&{query}"):
        r = c.get(url)
        assert r.status_code == 422, url
        body = json.loads(r.content)
        assert body["detail"]
        assert [e["field"] for e in body["errors"]] == [field]
        assert body["errors"][0]["message"]


def test_a_bad_filter_value_on_the_page_is_a_form_error(world: Any) -> None:
    r = world.client("bureau").get("/wells/?status=nonsense&township_id=abc")
    assert r.status_code == 200
    html = r.content.decode()
    errors = re.search(r'<ul class="errorlist" id="filter-errors">(.*?)</ul>', html, re.S)
    assert errors is not None
    assert "状态:" in errors.group(1) and "乡镇:" in errors.group(1)
    # The bad values are left out of the filtering and out of the export links.
    assert set(page_ids(r)) == {world.well_a.pk, world.well_b.pk}
    assert 'href="/api/wells/export?format=csv"' in html


def test_the_filter_bar_is_the_filtersets_form(world: Any) -> None:
    html = world.client("township").get("/wells/").content.decode()
    for name in filters.WellFilterSet.base_filters:
        assert f'name="{name}"' in html, name
    assert 'type="hidden" name="owner_id"' in html
    assert '<option value="" selected>全部</option>' in html


@pytest.mark.parametrize(("path", "model", "filterset", "table"), LISTS, ids=IDS)
def test_openapi_describes_the_filtersets_parameters(
    world: Any, path: str, model: Any, filterset: Any, table: Any
) -> None:
    doc = json.loads(world.client("anonymous").get("/api/openapi.json").content)
    for url in (f"/api/{path}/", f"/api/{path}/export"):
        params = {p["name"]: p for p in doc["paths"][url]["get"]["parameters"]}
        assert set(filterset.base_filters) <= set(params), url
        assert len(doc["paths"][url]["get"]["parameters"]) == len(params), "a name twice"
    params = {p["name"]: p for p in doc["paths"][f"/api/{path}/"]["get"]["parameters"]}
    assert set(params) == set(filterset.base_filters) | {"limit", "offset"}


def test_openapi_parameter_types(world: Any) -> None:
    doc = json.loads(world.client("anonymous").get("/api/openapi.json").content)
    params = {p["name"]: p for p in doc["paths"]["/api/wells/"]["get"]["parameters"]}
    assert params["township_id"]["schema"] == {"type": "integer"}
    assert params["status"]["schema"]["enum"] == [
        s for s, _l in Well._meta.get_field("status").choices
    ]
    assert params["q"]["schema"] == {"type": "string"}
    params = {p["name"]: p for p in doc["paths"]["/api/devices/"]["get"]["parameters"]}
    assert params["active"]["schema"] == {"type": "boolean"}


# --- Sorting --------------------------------------------------------------------------------------


def _sortable(table: Any, model: Any) -> list[tuple[str, tuple[str, ...]]]:
    t = table(model.objects.none())
    return [(c.name, tuple(c.order_by)) for c in t.columns if c.orderable]


@pytest.mark.parametrize(("path", "model", "filterset", "table"), LISTS, ids=IDS)
def test_every_column_sorts_both_ways(
    world: Any, path: str, model: Any, filterset: Any, table: Any
) -> None:
    c = world.client("bureau")
    user = world.accounts["bureau"]
    columns = _sortable(table, model)
    assert columns, "no sortable column"
    for name, accessors in columns:
        for sign in ("", "-"):
            expected = list(
                visible_to(user, Action.VIEW, model)
                .order_by(*(sign + a for a in accessors), "pk")
                .values_list("pk", flat=True)
            )
            r = c.get(f"/{path}/?sort={sign}{name}")
            assert page_ids(r) == expected, f"{sign}{name}"
            html = r.content.decode()
            # Its header says so and links to the other way.
            other = name if sign else f"-{name}"
            assert f"sort={other}" in html


def test_sorting_wells_by_depth_and_code(world: Any) -> None:
    c = world.client("bureau")
    a, b = world.well_a.pk, world.well_b.pk  # 120 m and 80 m deep
    assert page_ids(c.get("/wells/?sort=depth_m")) == [b, a]
    assert page_ids(c.get("/wells/?sort=-depth_m")) == [a, b]
    assert page_ids(c.get("/wells/?sort=-code")) == [b, a]
    # Sorting keeps the filters, and a filter keeps the sorting.
    r = c.get(f"/wells/?sort=-code&township_id={world.township_a.pk}")
    assert page_ids(r) == [a]


@pytest.mark.parametrize("sort", ["nonsense", "-nonsense", "secret_hash", "lon", "", "code,zz"])
def test_sorting_by_an_unknown_column_is_ignored(world: Any, sort: str) -> None:
    c = world.client("bureau")
    default = page_ids(c.get("/devices/"))
    r = c.get(f"/devices/?sort={sort}")
    assert r.status_code == 200
    assert sorted(page_ids(r)) == sorted(default)


def test_sorted_pages_neither_repeat_nor_skip(world: Any, settings: Any) -> None:
    settings.AQUIFER = {**settings.AQUIFER, "PAGE_SIZE": 3}
    c = world.client("anonymous")
    seen: list[int] = []
    for number in range(1, -(-Township.objects.count() // 3) + 1):
        seen += page_ids(c.get(f"/townships/?sort=is_current&page={number}"))
    assert sorted(seen) == sorted(Township.objects.values_list("pk", flat=True))


# --- Exports --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "model", "filterset", "table"), LISTS, ids=IDS)
def test_export_columns_are_the_tables_columns(
    world: Any, path: str, model: Any, filterset: Any, table: Any
) -> None:
    c = world.client("bureau")
    columns = exported(table)
    headers = [str(col.header) for col in columns]
    # The page shows the same headers (but for the export-only columns).
    page = c.get(f"/{path}/").content.decode()
    for col in columns:
        assert (f">{col.header}<" in page or f">{col.header} " in page) == col.visible, col.name
    assert csv_rows(c.get(f"/api/{path}/export?format=csv"))[0] == headers
    sheet = load_workbook(io.BytesIO(c.get(f"/api/{path}/export?format=xlsx").content)).active
    assert [cell.value for cell in next(sheet.iter_rows())] == headers
    if path != "water-users":
        features = json.loads(c.get(f"/api/{path}/export?format=geojson").content)["features"]
        assert features
        assert all(list(f["properties"]) == [col.name for col in columns] for f in features)


def test_exported_values_match_the_page(world: Any) -> None:
    rows = csv_rows(world.client("bureau").get("/api/wells/export?format=csv&q=W-A-1"))
    names = [c.name for c in exported(tables.WellTable)]
    assert rows[0][names.index("depth_m")] == str(Well._meta.get_field("depth_m").verbose_name)
    first = dict(zip(names, rows[1], strict=True))
    assert first["code"] == "W-A-1"
    assert first["township"] == world.township_a.name
    assert first["owner"] == "凤城供水站"
    assert first["status"] == world.well_a.get_status_display()
    assert float(first["depth_m"]) == 120.0
    assert float(first["lon"]) == pytest.approx(world.well_a.lon)


# --- Scoping --------------------------------------------------------------------------------------


def test_a_township_officers_lists_and_exports_hold_only_their_township(world: Any) -> None:
    c = world.client("township")
    a, b = world.township_a.pk, world.township_b.pk
    for path, model in (("wells", Well), ("water-users", WaterUser), ("devices", Device)):
        ids = api_ids(c.get(f"/api/{path}/?limit=500"))
        assert ids and page_ids(c.get(f"/{path}/")) == ids
        objects = model.objects.filter(pk__in=ids)
        field = "well__township" if model is Device else "township"
        assert set(objects.values_list(field, flat=True)) == {a}
        assert len(csv_rows(c.get(f"/api/{path}/export?format=csv"))) - 1 == len(ids)
        # Asking for the other township's records finds none, on the page, in the API, in exports.
        assert page_ids(c.get(f"/{path}/?township_id={b}")) == []
        assert api_ids(c.get(f"/api/{path}/?township_id={b}")) == []
        assert len(csv_rows(c.get(f"/api/{path}/export?format=csv&township_id={b}"))) == 1
        # Sorting does not widen the list.
        assert sorted(page_ids(c.get(f"/{path}/?sort=-township"))) == sorted(ids)


def test_a_related_record_out_of_sight_is_not_a_filter_choice(world: Any) -> None:
    c = world.client("township")
    r = c.get(f"/api/wells/?owner_id={world.user_b.pk}")
    assert r.status_code == 422
    assert json.loads(r.content)["errors"][0]["field"] == "owner_id"
    assert c.get(f"/api/wells/?owner_id={world.user_a.pk}").status_code == 200
