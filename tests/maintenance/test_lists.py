"""The ticket list is declared once (maintenance/filters.py, maintenance/tables.py): the
FilterSet filters the list, the board, the API list and the export; the Table gives the list
its sortable columns and the export the same columns."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from aquifer.core.roles import Action
from aquifer.core.scoping import visible_to
from aquifer.maintenance import services
from aquifer.maintenance.filters import TicketFilterSet
from aquifer.maintenance.models import Ticket
from aquifer.maintenance.tables import TicketTable
from tests.lists import api_ids, assert_every_column_sorts, csv_rows, page_ids

pytestmark = pytest.mark.django_db


@pytest.fixture
def three(world: Any) -> tuple[Ticket, Ticket, Ticket]:
    """a: township A, assigned to its officer, overdue; b: township B, urgent, new;
    c: township A, low, closed."""
    bureau, officer = world.accounts["bureau"], world.accounts["township"]
    now = timezone.now()
    a = services.open_ticket(
        by=bureau,
        title="A 设备不上报",
        description="离线",
        device=world.device_a,
        at=now - dt.timedelta(days=30),
    )
    services.act(a, "assign", by=bureau, assignee=officer, at=now - dt.timedelta(days=29))
    b = services.open_ticket(
        by=bureau, title="B 设备电量低", device=world.device_b, priority="urgent"
    )
    c = services.open_ticket(
        by=bureau,
        title="A 外壳破损",
        device=world.device_a,
        priority="low",
        at=now - dt.timedelta(days=2),
    )
    services.act(c, "assign", by=bureau, assignee=officer)
    services.act(c, "start", by=officer)
    services.act(c, "close", by=officer, resolution="更换外壳")
    return Ticket.objects.get(pk=a.pk), b, Ticket.objects.get(pk=c.pk)


@pytest.mark.parametrize(
    "query",
    [
        "",
        "state=all",
        "state=closed",
        "state=all&township_id={a}",
        "priority=urgent",
        "state=all&source=staff",
        "mine=on",
        "overdue=on",
        "state=all&device_id={da}",
        "state=all&q=外壳",
    ],
)
def test_the_same_filter_gives_the_same_tickets_on_the_page_and_in_the_api(
    world: Any, three: Any, query: str
) -> None:
    q = query.format(a=world.township_a.pk, da=world.device_a.pk)
    c = world.client("township")  # "mine" is theirs
    on_page = page_ids(c.get(f"/maintenance/?{q}"))
    api_q = q.replace("=on", "=true")
    assert sorted(on_page) == sorted(api_ids(c.get(f"/api/maintenance/tickets/?{api_q}")))
    rows = csv_rows(c.get(f"/api/maintenance/tickets/export?format=csv&{api_q}"))
    assert len(rows) - 1 == len(on_page)
    # The page's export links carry its filters (and give the same rows).
    if q:
        link = f"/api/maintenance/tickets/export?format=csv&{urlencode(parse_qsl(q))}"
        assert link.replace("&", "&amp;") in c.get(f"/maintenance/?{q}").content.decode()
        assert len(csv_rows(c.get(link))) - 1 == len(on_page)


def test_filters_pick_the_right_tickets(world: Any, three: Any) -> None:
    a, b, closed = three
    c = world.client("bureau")
    assert sorted(page_ids(c.get("/maintenance/"))) == sorted([a.pk, b.pk])  # not done
    assert sorted(api_ids(c.get("/api/maintenance/tickets/?state=all"))) == sorted(
        [a.pk, b.pk, closed.pk]
    )
    assert page_ids(c.get("/maintenance/?overdue=on")) == [a.pk]
    assert api_ids(c.get("/api/maintenance/tickets/?overdue=true")) == [a.pk]
    assert api_ids(c.get("/api/maintenance/tickets/?overdue=false&priority=urgent")) == [b.pk]
    officer = world.accounts["township"].pk
    r = c.get(f"/api/maintenance/tickets/?state=all&assignee_id={officer}")
    assert sorted(api_ids(r)) == sorted([a.pk, closed.pk])
    board = c.get("/maintenance/?view=board&state=closed").content.decode()
    assert f'data-id="{closed.pk}"' in board and f'data-id="{a.pk}"' not in board


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("state=bogus", "state"),
        ("priority=highest", "priority"),
        ("source=mail", "source"),
        ("township_id=abc", "township_id"),
        ("device_id=999999", "device_id"),
        ("assignee_id=x", "assignee_id"),
    ],
)
def test_a_bad_filter_value_is_a_422_naming_the_field(
    world: Any, three: Any, query: str, field: str
) -> None:
    c = world.client("bureau")
    for url in (
        f"/api/maintenance/tickets/?{query}",
        f"/api/maintenance/tickets/export?format=csv&{query}",
    ):
        r = c.get(url)
        assert r.status_code == 422, url
        assert [e["field"] for e in json.loads(r.content)["errors"]] == [field], url


def test_a_bad_filter_value_on_the_page_is_a_form_error(world: Any, three: Any) -> None:
    a, b, _closed = three
    r = world.client("bureau").get("/maintenance/?priority=highest&source=mail")
    assert r.status_code == 200
    html = r.content.decode()
    errors = re.search(r'<ul class="errorlist" id="filter-errors">(.*?)</ul>', html, re.S)
    assert errors is not None
    assert "优先级:" in errors.group(1) and "来源:" in errors.group(1)
    assert sorted(page_ids(r)) == sorted([a.pk, b.pk])  # the bad values are left out
    assert 'href="/api/maintenance/tickets/export?format=csv"' in html


def test_the_filter_bar_is_the_filtersets_form(world: Any, three: Any) -> None:
    html = world.client("bureau").get("/maintenance/").content.decode()
    for name in TicketFilterSet.base_filters:
        assert f'name="{name}"' in html, name
    assert '<option value="open" selected>' in html
    assert 'type="checkbox" name="overdue"' in html
    # A township officer is not offered other townships; a water user not "assigned to me".
    html = world.client("township").get("/maintenance/").content.decode()
    assert 'type="hidden" name="township_id"' in html
    html = world.client("water_user").get("/maintenance/").content.decode()
    assert 'type="hidden" name="mine"' in html


def test_openapi_describes_the_filtersets_parameters(world: Any) -> None:
    doc = json.loads(world.client("anonymous").get("/api/openapi.json").content)
    for url in ("/api/maintenance/tickets/", "/api/maintenance/tickets/export"):
        listed = [p["name"] for p in doc["paths"][url]["get"]["parameters"]]
        assert set(TicketFilterSet.base_filters) <= set(listed), url
        assert len(listed) == len(set(listed)), url
    params = {p["name"]: p for p in doc["paths"]["/api/maintenance/tickets/"]["get"]["parameters"]}
    assert set(params) == set(TicketFilterSet.base_filters) | {"limit", "offset"}
    assert params["overdue"]["schema"] == {"type": "boolean"}
    assert params["state"]["schema"]["enum"][:2] == ["open", "all"]


def test_every_column_sorts_both_ways(world: Any, three: Any) -> None:
    c = world.client("bureau")
    user = world.accounts["bureau"]
    names = assert_every_column_sorts(
        c, "/maintenance/?state=all&", TicketTable, visible_to(user, Action.VIEW, Ticket)
    )
    assert len(names) == 10


def test_sorting_tickets(world: Any, three: Any) -> None:
    a, b, closed = three
    c = world.client("bureau")
    assert page_ids(c.get("/maintenance/?state=all&sort=opened_at")) == [a.pk, closed.pk, b.pk]
    assert page_ids(c.get("/maintenance/?state=all&sort=-opened_at")) == [b.pk, closed.pk, a.pk]
    assert page_ids(c.get("/maintenance/?sort=-township&state=all"))[0] == b.pk  # 北留 > 凤城


def test_export_columns_are_the_tables_columns(world: Any, three: Any) -> None:
    a, _b, _closed = three
    c = world.client("bureau")
    columns = list(TicketTable([]).columns.iterall())
    headers = [str(col.header) for col in columns]
    html = c.get("/maintenance/").content.decode()
    thead = re.search(r'<table id="ticket-list".*?<thead>(.*?)</thead>', html, re.S)
    assert thead is not None
    for col in columns:
        shown = f">{col.header}<" in thead.group(1) or f">{col.header} " in thead.group(1)
        assert shown == col.visible, col.name
    # The page: the number links to the ticket, the overdue one is marked.
    assert f'<a href="/maintenance/tickets/{a.pk}/">{a.number}</a>' in html
    assert 'class="badge overdue"' in html
    rows = csv_rows(
        c.get(f"/api/maintenance/tickets/export?format=csv&device_id={world.device_a.pk}")
    )
    assert rows[0] == headers
    first = dict(zip([col.name for col in columns], rows[1], strict=True))
    assert first["number"] == a.number and first["title"] == "A 设备不上报"
    assert first["state"] == "已派单" and first["priority"] == "普通"
    assert first["township"] == world.township_a.name
    assert first["assignee"] == world.accounts["township"].get_username()
    assert first["opened_at"] == timezone.localtime(a.opened_at).strftime("%Y-%m-%d %H:%M")
    sheet = load_workbook(io.BytesIO(c.get("/api/maintenance/tickets/export").content)).active
    assert [cell.value for cell in next(sheet.iter_rows())] == headers


def test_a_township_officer_sees_only_their_township(world: Any, three: Any) -> None:
    a, _b, closed = three
    c = world.client("township")
    mine = sorted([a.pk, closed.pk])
    assert sorted(page_ids(c.get("/maintenance/?state=all"))) == mine
    assert sorted(api_ids(c.get("/api/maintenance/tickets/?state=all"))) == mine
    assert len(csv_rows(c.get("/api/maintenance/tickets/export?format=csv&state=all"))) == 3
    assert sorted(page_ids(c.get("/maintenance/?state=all&sort=-priority"))) == mine
    # Another township's tickets: none on the page nor in the API, nor its devices'.
    b = world.township_b.pk
    assert page_ids(c.get(f"/maintenance/?state=all&township_id={b}")) == []
    assert api_ids(c.get(f"/api/maintenance/tickets/?state=all&township_id={b}")) == []
    r = c.get(f"/api/maintenance/tickets/?device_id={world.device_b.pk}")
    assert r.status_code == 422
    assert world.client("public").get("/api/maintenance/tickets/export").status_code == 403
    assert world.client("anonymous").get("/api/maintenance/tickets/export").status_code == 401
