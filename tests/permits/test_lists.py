"""The permit lists are declared once (permits/filters.py, permits/tables.py): the FilterSet
filters the pages, the API lists and the exports; each Table gives its page the columns and its
exports the same columns."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from openpyxl import load_workbook

from aquifer.accounting.service import Volume as Vol
from aquifer.core.roles import Action
from aquifer.core.scoping import visible_to
from aquifer.permits import reports, services
from aquifer.permits.filters import PermitFilterSet
from aquifer.permits.models import Permit
from aquifer.permits.tables import LedgerTable, PermitTable, QuotaUseTable
from tests.lists import api_ids, assert_every_column_sorts, csv_rows, page_ids
from tests.permits.test_services import ON, grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def three(world: Any, monkeypatch: Any) -> tuple[Permit, Permit, Permit]:
    """Active permits in township A (20 000 m³, 5 000 used) and B (7 000 m³, 6 000 used), and
    a pending application (no number yet) in A."""
    pa = grant(world)
    pb = grant(world, well=world.well_b, quota=7_000)
    app = services.apply_for_permit(
        holder=world.user_a,
        wells=[world.well_a],
        source="shallow",
        use_type="industrial",
        annual_quota_m3=900,
        received_on=ON,
    )
    used = {world.well_a.pk: Vol(4_000.0, 1_000.0, estimated=True), world.well_b.pk: Vol(6_000.0)}

    def well_volumes(
        year: int, month: int | None = None, wells: Any = None, **kw: Any
    ) -> dict[int, Vol]:
        return {w: used.get(w, Vol(0.0)) for w in (wells or used)}

    monkeypatch.setattr("aquifer.accounting.service.well_volumes", well_volumes)
    return pa, pb, Permit.objects.get(pk=app.permit_id)


def thead(response: Any, table_id: str) -> str:
    """The header row of the page's table ``table_id``."""
    html = response.content.decode()
    found = re.search(rf'<table id="{table_id}".*?<thead>(.*?)</thead>', html, re.S)
    assert found is not None, table_id
    return found.group(1)


def headers(table: Any, data: Any) -> list[str]:
    return [
        str(c.header) for c in table(data).columns.iterall() if not c.column.exclude_from_export
    ]


# --- Filters: the same on the page, in the API, in the exports ------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "",
        "township_id={a}",
        "township_id={b}&status=active",
        "status=pending",
        "q=北留",
        "use_type=industrial",
        "source=shallow&holder_id={ua}",
    ],
)
def test_the_same_filter_gives_the_same_permits_on_the_page_and_in_the_api(
    world: Any, three: Any, query: str
) -> None:
    q = query.format(a=world.township_a.pk, b=world.township_b.pk, ua=world.user_a.pk)
    c = world.client("bureau")
    on_page = page_ids(c.get(f"/permits/?{q}"))
    assert on_page == api_ids(c.get(f"/api/permits/?{q}&limit=500"))
    for url in (f"/permits/export/?format=csv&{q}", f"/api/permits/export?format=csv&{q}"):
        assert len(csv_rows(c.get(url))) - 1 == len(on_page), url
    # Quota use: the active ones among them.
    active = list(
        Permit.objects.filter(pk__in=on_page, status="active").values_list("pk", flat=True)
    )
    assert sorted(page_ids(c.get(f"/permits/quota-use/?year=2026&{q}"))) == sorted(active)
    api = api_ids(c.get(f"/api/permits/quota-use/?year=2026&{q}&limit=500"), "permit")
    assert sorted(api) == sorted(active)


def test_filters_pick_the_right_permits(world: Any, three: Any) -> None:
    pa, pb, pending = three
    c = world.client("bureau")
    assert page_ids(c.get(f"/permits/?township_id={world.township_b.pk}")) == [pb.pk]
    assert api_ids(c.get("/api/permits/?status=pending")) == [pending.pk]
    assert sorted(api_ids(c.get(f"/api/permits/?holder_id={world.user_a.pk}"))) == sorted(
        [pa.pk, pending.pk]
    )
    assert api_ids(c.get("/api/permits/?q=北留")) == [pb.pk]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=nonsense", "status"),
        ("source=air", "source"),
        ("township_id=abc", "township_id"),
        ("township_id=999999", "township_id"),
        ("holder_id=999999", "holder_id"),
    ],
)
def test_a_bad_filter_value_is_a_422_naming_the_field(
    world: Any, three: Any, query: str, field: str
) -> None:
    c = world.client("bureau")
    for url in (
        f"/api/permits/?{query}",
        f"/api/permits/quota-use/?{query}",
        f"/api/permits/export?format=csv&{query}",
        f"/api/permits/export?what=quota-use&format=csv&{query}",
    ):
        r = c.get(url)
        assert r.status_code == 422, url
        body = json.loads(r.content)
        assert [e["field"] for e in body["errors"]] == [field], url


def test_a_bad_filter_value_on_the_page_is_a_form_error(world: Any, three: Any) -> None:
    pa, pb, pending = three
    r = world.client("bureau").get("/permits/?status=nonsense&township_id=abc")
    assert r.status_code == 200
    html = r.content.decode()
    errors = re.search(r'<ul class="errorlist" id="filter-errors">(.*?)</ul>', html, re.S)
    assert errors is not None
    assert "状态:" in errors.group(1) and "乡镇:" in errors.group(1)
    # The bad values are left out of the filtering and out of the export links.
    assert set(page_ids(r)) == {pa.pk, pb.pk, pending.pk}
    assert 'href="/permits/export/?format=csv"' in html
    r = world.client("bureau").get("/permits/quota-use/?year=2026&source=air")
    assert r.status_code == 200 and 'id="filter-errors"' in r.content.decode()
    assert set(page_ids(r)) == {pa.pk, pb.pk}


def test_the_filter_bar_is_the_filtersets_form(world: Any, three: Any) -> None:
    html = world.client("bureau").get("/permits/").content.decode()
    for name in PermitFilterSet.base_filters:
        assert f'name="{name}"' in html, name
    assert 'type="hidden" name="holder_id"' in html


def test_openapi_describes_the_filtersets_parameters(world: Any) -> None:
    doc = json.loads(world.client("anonymous").get("/api/openapi.json").content)
    for url in ("/api/permits/", "/api/permits/quota-use/", "/api/permits/export"):
        listed = [p["name"] for p in doc["paths"][url]["get"]["parameters"]]
        assert set(PermitFilterSet.base_filters) <= set(listed), url
        assert len(listed) == len(set(listed)), url
    params = {p["name"]: p for p in doc["paths"]["/api/permits/"]["get"]["parameters"]}
    assert set(params) == set(PermitFilterSet.base_filters) | {"limit", "offset"}
    assert params["township_id"]["schema"] == {"type": "integer"}
    assert "active" in params["status"]["schema"]["enum"]


# --- Sorting --------------------------------------------------------------------------------------


def test_every_permit_column_sorts_both_ways(world: Any, three: Any) -> None:
    c = world.client("bureau")
    user = world.accounts["bureau"]
    names = assert_every_column_sorts(
        c, "/permits/?", PermitTable, visible_to(user, Action.VIEW, Permit)
    )
    assert {"number", "holder", "annual_quota_m3", "valid_until", "status"} <= set(names)


def test_sorting_permits_by_quota(world: Any, three: Any) -> None:
    pa, pb, pending = three
    c = world.client("bureau")
    assert page_ids(c.get("/permits/?sort=annual_quota_m3")) == [pending.pk, pb.pk, pa.pk]
    assert page_ids(c.get("/permits/?sort=-annual_quota_m3")) == [pa.pk, pb.pk, pending.pk]
    r = c.get(f"/permits/?sort=-annual_quota_m3&township_id={world.township_a.pk}")
    assert page_ids(r) == [pa.pk, pending.pk]
    assert sorted(page_ids(c.get("/permits/?sort=nonsense"))) == sorted([pa.pk, pb.pk, pending.pk])


def test_every_quota_use_column_sorts_both_ways(world: Any, three: Any) -> None:
    c = world.client("bureau")
    permits = Permit.objects.filter(status="active")
    rows = reports.quota_rows(permits.prefetch_related("wells"), 2026)
    table = QuotaUseTable(rows)
    columns = [col for col in table.columns if col.orderable]
    assert {col.name for col in columns} == {
        "number",
        "holder",
        "township",
        "quota_m3",
        "used_m3",
        "estimated_m3",
        "share",
    }
    for col in columns:
        for sign, reverse in (("", False), ("-", True)):
            key = col.order_by[0].bare.replace("__", ".")

            def value(row: Any, key: str = key) -> Any:
                for part in key.split("."):
                    row = getattr(row, part)
                return row

            expected = [r.permit.pk for r in sorted(rows, key=value, reverse=reverse)]
            got = page_ids(c.get(f"/permits/quota-use/?year=2026&sort={sign}{col.name}"))
            assert got == expected, f"{sign}{col.name}"
    pa, pb, _pending = three
    # B has used 6 000 of 7 000 m³, A 5 000 of 20 000.
    assert page_ids(c.get("/permits/quota-use/?year=2026&sort=-share")) == [pb.pk, pa.pk]
    assert page_ids(c.get("/permits/quota-use/?year=2026&sort=used_m3")) == [pa.pk, pb.pk]


# --- Exports: the Tables' columns -----------------------------------------------------------------


def test_permit_export_columns_are_the_tables_columns(world: Any, three: Any) -> None:
    c = world.client("bureau")
    table = PermitTable(Permit.objects.none())
    expected = headers(PermitTable, Permit.objects.none())
    page = thead(c.get("/permits/"), "permit-list")
    for col in table.columns.iterall():
        assert (f">{col.header}<" in page or f">{col.header} " in page) == col.visible, col.name
    for url in ("/permits/export/?format=csv", "/api/permits/export?format=csv"):
        assert csv_rows(c.get(url))[0] == expected, url
    sheet = load_workbook(io.BytesIO(c.get("/api/permits/export?format=xlsx").content)).active
    assert [cell.value for cell in next(sheet.iter_rows())] == expected


def test_exported_permit_values(world: Any, three: Any) -> None:
    pa, _pb, _pending = three
    rows = csv_rows(world.client("bureau").get(f"/api/permits/export?format=csv&q={pa.number}"))
    names = [col.name for col in PermitTable([]).columns.iterall()]
    first = dict(zip(names, rows[1], strict=True))
    assert first["number"] == pa.number
    assert first["holder"] == "凤城供水站"
    assert first["township"] == world.township_a.name
    assert first["status"] == pa.get_status_display()
    assert first["annual_quota_m3"] == "20000"
    assert first["valid_from"] == pa.valid_from.isoformat()
    assert first["wells"] == "W-A-1"


def test_quota_use_export_columns_and_values(world: Any, three: Any) -> None:
    pa, pb, _pending = three
    c = world.client("bureau")
    expected = headers(QuotaUseTable, [])
    r = c.get("/permits/quota-use/?year=2026")
    page = thead(r, "quota-use-list")
    for col in QuotaUseTable([]).columns.iterall():
        assert (f">{col.header}<" in page or f">{col.header} " in page) == col.visible, col.name
    for url in (
        "/permits/quota-use/export/?format=csv&year=2026",
        "/api/permits/export?what=quota-use&format=csv&year=2026",
    ):
        rows = csv_rows(c.get(url))
        assert rows[0] == expected, url
        names = [col.name for col in QuotaUseTable([]).columns.iterall()]
        by_number = {r[0]: dict(zip(names, r, strict=True)) for r in rows[1:]}
        b = by_number[pb.number]
        assert (b["year"], b["quota_m3"], b["used_m3"]) == ("2026", "7000", "6000.0")
        assert float(b["share"]) == pytest.approx(6 / 7, abs=1e-4)
        assert by_number[pa.number]["estimated_m3"] == "1000.0"
    assert "<td>86 %</td>" in r.content.decode()  # 6 000 of 7 000 m³ on the page


def test_ledger_export_columns_are_the_tables_columns(world: Any, three: Any) -> None:
    c = world.client("bureau")
    expected = headers(LedgerTable, [])
    for url in (
        "/permits/ledger/export/?format=csv&year=2026",
        "/api/permits/export?what=ledger&format=csv&year=2026",
    ):
        rows = csv_rows(c.get(url))
        assert rows[0] == expected, url
        assert [r[1] for r in rows[1:]].count("JC-HCXF") == 1
        assert rows[-1][0] == "全县"
    r = c.get("/permits/ledger/?year=2026")
    zones, townships = thead(r, "ledger-zones"), thead(r, "ledger-townships")
    for col in LedgerTable([]).columns.iterall():
        assert (f">{col.header}<" in zones) == col.visible, col.name
    assert ">分区类型<" not in townships and ">许可水量 (m³/年)<" in townships
    assert "<td>JC-HCXF</td>" in r.content.decode()


# --- Scoping --------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["township", "water_user"])
def test_lists_and_exports_hold_only_what_the_user_sees(world: Any, three: Any, role: str) -> None:
    pa, _pb, pending = three
    c = world.client(role)
    ids = api_ids(c.get("/api/permits/?limit=500"))
    assert sorted(ids) == sorted([pa.pk, pending.pk])
    assert page_ids(c.get("/permits/")) == ids
    assert sorted(page_ids(c.get("/permits/?sort=-township"))) == sorted(ids)
    assert len(csv_rows(c.get("/api/permits/export?format=csv"))) - 1 == len(ids)
    assert page_ids(c.get("/permits/quota-use/?year=2026")) == [pa.pk]
    rows = csv_rows(c.get("/api/permits/export?what=quota-use&format=csv&year=2026"))
    assert [r[0] for r in rows[1:]] == [pa.number]
    # Asking for the other township's permits finds none (or is refused: not a choice).
    b = world.township_b.pk
    assert page_ids(c.get(f"/permits/?township_id={b}")) == []
    r = c.get(f"/api/permits/?township_id={b}")
    assert r.status_code == 422 or api_ids(r) == []
    assert c.get(f"/api/permits/?holder_id={world.user_b.pk}").status_code == 422
