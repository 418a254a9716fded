"""The alarm board is declared once (monitoring/filters.py, monitoring/tables.py): the FilterSet
filters the board, the API list and the export; the Table gives the board its sortable columns
and the export the same columns."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from typing import Any

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from aquifer.core.roles import Action
from aquifer.core.scoping import visible_to
from aquifer.monitoring import alarms
from aquifer.monitoring.filters import AlarmFilterSet
from aquifer.monitoring.models import Alarm
from aquifer.monitoring.tables import AlarmTable
from tests.lists import api_ids, assert_every_column_sorts, csv_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def three(world: Any) -> tuple[Alarm, Alarm, Alarm]:
    """a: township A, open; b: township B, critical; c: township A, resolved (closed)."""
    now = timezone.now()
    a = alarms.raise_alarm(
        kind="device_offline",
        key="k:a",
        title="A offline",
        device=world.device_a,
        at=now - dt.timedelta(hours=3),
    )
    b = alarms.raise_alarm(
        kind="low_battery",
        key="k:b",
        title="B battery",
        severity="critical",
        device=world.device_b,
        at=now - dt.timedelta(hours=2),
    )
    c = alarms.raise_alarm(
        kind="low_battery",
        key="k:c",
        title="A battery",
        severity="info",
        device=world.device_a,
        at=now - dt.timedelta(hours=1),
    )
    alarms.resolve(c, world.accounts["bureau"], "换电池")
    return a, b, Alarm.objects.get(pk=c.pk)


def page_ids(response: Any) -> list[int]:
    assert response.status_code == 200
    return [
        int(pk)
        for pk in re.findall(r'<tr id="alarm-\d+" data-id="(\d+)"', response.content.decode())
    ]


@pytest.mark.parametrize(
    "query",
    [
        "state=",
        "state=active",
        "state=resolved",
        "state=&township_id={a}",
        "state=&kind=low_battery",
        "state=&severity=critical",
        "state=&device_id={da}",
    ],
)
def test_the_same_filter_gives_the_same_alarms_on_the_board_and_in_the_api(
    world: Any, three: Any, query: str
) -> None:
    q = query.format(a=world.township_a.pk, da=world.device_a.pk)
    c = world.client("bureau")
    on_board = page_ids(c.get(f"/alarms/?group=none&sort=-opened_at&{q}"))
    assert on_board == api_ids(c.get(f"/api/alarms/?{q}&limit=500"))
    assert len(csv_rows(c.get(f"/api/alarms/export?format=csv&{q}"))) - 1 == len(on_board)


def test_filters_pick_the_right_alarms(world: Any, three: Any) -> None:
    a, b, closed = three
    c = world.client("bureau")
    # the board: not closed (by default sorted by due time; here newest first, as the API)
    assert page_ids(c.get("/alarms/?group=none&sort=-opened_at")) == [b.pk, a.pk]
    assert api_ids(c.get("/api/alarms/?state=active")) == [b.pk, a.pk]
    assert api_ids(c.get("/api/alarms/")) == [closed.pk, b.pk, a.pk]
    assert page_ids(
        c.get(f"/alarms/?sort=-opened_at&state=&township_id={world.township_a.pk}")
    ) == [
        closed.pk,
        a.pk,
    ]
    assert api_ids(c.get("/api/alarms/?severity=critical")) == [b.pk]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("state=nonsense", "state"),
        ("kind=nope", "kind"),
        ("severity=loud", "severity"),
        ("township_id=abc", "township_id"),
        ("township_id=999999", "township_id"),
        ("device_id=999999", "device_id"),
    ],
)
def test_a_bad_filter_value_is_a_422_naming_the_field(
    world: Any, three: Any, query: str, field: str
) -> None:
    c = world.client("bureau")
    for url in (f"/api/alarms/?{query}", f"/api/alarms/export?format=csv&{query}"):
        r = c.get(url)
        assert r.status_code == 422, url
        assert [e["field"] for e in json.loads(r.content)["errors"]] == [field], url


def test_a_bad_filter_value_on_the_board_is_a_form_error(world: Any, three: Any) -> None:
    a, b, _closed = three
    r = world.client("bureau").get("/alarms/?kind=nope&severity=loud")
    html = r.content.decode()
    errors = re.search(r'<ul class="errorlist" id="filter-errors">(.*?)</ul>', html, re.S)
    assert errors is not None
    assert "告警类型:" in errors.group(1) and "级别:" in errors.group(1)
    assert set(page_ids(r)) == {b.pk, a.pk}  # the bad values are left out of the filtering


def test_the_filter_bar_is_the_filtersets_form(world: Any, three: Any) -> None:
    html = world.client("bureau").get("/alarms/").content.decode()
    for name in AlarmFilterSet.base_filters:
        assert f'name="{name}"' in html, name
    assert 'type="hidden" name="device_id"' in html
    assert '<option value="active" selected>' in html  # the board's default


def test_openapi_describes_the_filtersets_parameters(world: Any) -> None:
    doc = json.loads(world.client("anonymous").get("/api/openapi.json").content)
    for url in ("/api/alarms/", "/api/alarms/export"):
        listed = [p["name"] for p in doc["paths"][url]["get"]["parameters"]]
        assert set(AlarmFilterSet.base_filters) <= set(listed), url
        assert len(listed) == len(set(listed)), url
    params = {p["name"]: p for p in doc["paths"]["/api/alarms/"]["get"]["parameters"]}
    assert set(params) == set(AlarmFilterSet.base_filters) | {"limit", "offset"}
    assert params["state"]["schema"]["enum"][0] == "active"


def test_every_column_sorts_both_ways(world: Any, three: Any) -> None:
    c = world.client("bureau")
    user = world.accounts["bureau"]
    names = assert_every_column_sorts(
        c, "/alarms/?state=&", AlarmTable, visible_to(user, Action.VIEW, Alarm), page_ids
    )
    assert set(names) == {
        "severity",
        "kind",
        "township",
        "opened_at",
        "count",
        "due_at",
        "state",
    }


def test_sorting_the_board(world: Any, three: Any) -> None:
    a, b, closed = three
    c = world.client("bureau")
    assert page_ids(c.get("/alarms/?state=&sort=opened_at")) == [a.pk, b.pk, closed.pk]
    assert page_ids(c.get("/alarms/?sort=-opened_at")) == [b.pk, a.pk]
    assert page_ids(c.get("/alarms/?sort=nonsense")) == [b.pk, a.pk]


def test_export_columns_are_the_tables_columns(world: Any, three: Any) -> None:
    a, _b, _closed = three
    c = world.client("bureau")
    columns = [col for col in AlarmTable([]).columns.iterall()]
    headers = [str(col.header) for col in columns]
    html = c.get("/alarms/?group=none").content.decode()
    thead = re.search(r'<table id="alarm-table".*?<thead>(.*?)</thead>', html, re.S)
    assert thead is not None
    for col in columns:
        assert (f">{col.header}<" in thead.group(1) or f">{col.header} " in thead.group(1)) == (
            col.visible
        ), col.name
    rows = csv_rows(
        c.get(f"/api/alarms/export?format=csv&device_id={world.device_a.pk}&state=active")
    )
    assert rows[0] == headers
    first = dict(zip([col.name for col in columns], rows[1], strict=True))
    assert first["kind"] == "设备离线" and first["severity"] == "警告"
    assert first["title"] == "A offline" and first["township"] == world.township_a.name
    assert first["opened_at"] == timezone.localtime(a.opened_at).strftime("%Y-%m-%d %H:%M")
    sheet = load_workbook(io.BytesIO(c.get("/api/alarms/export").content)).active
    assert [cell.value for cell in next(sheet.iter_rows())] == headers


def test_a_township_officer_sees_only_their_township(world: Any, three: Any) -> None:
    a, _b, closed = three
    c = world.client("township")
    assert page_ids(c.get("/alarms/?state=&sort=-opened_at")) == [closed.pk, a.pk]
    assert api_ids(c.get("/api/alarms/?limit=500")) == [closed.pk, a.pk]
    assert len(csv_rows(c.get("/api/alarms/export?format=csv"))) == 3
    assert sorted(page_ids(c.get("/alarms/?state=&sort=-township"))) == sorted([a.pk, closed.pk])
    # The other township is not a choice: a form error on the board, a 422 in the API.
    b = world.township_b.pk
    r = c.get(f"/alarms/?township_id={b}")
    assert 'id="filter-errors"' in r.content.decode() and page_ids(r) == [a.pk]
    assert c.get(f"/api/alarms/?township_id={b}").status_code == 422
    assert c.get(f"/api/alarms/export?township_id={b}").status_code == 422
    assert world.client("public").get("/api/alarms/export").status_code == 403
    assert world.client("anonymous").get("/api/alarms/export").status_code == 401
