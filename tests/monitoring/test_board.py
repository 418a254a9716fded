"""The alarm board (monitoring/board.py): summary per role, groups, order by due time, bulk
acknowledge / resolve with one reason (page and API), and a query count that does not grow
with the number of alarms."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from aquifer.core.models import AuditEntry
from aquifer.monitoring import alarms, board
from aquifer.monitoring.models import Alarm

pytestmark = pytest.mark.django_db


def _alarm(world: Any, town: str, kind: str, n: int, hours_ago: float, **kw: Any) -> Alarm:
    device = world.device_a if town == "a" else world.device_b
    return alarms.raise_alarm(
        kind=kind,
        key=f"{kind}:{town}:{n}",
        title=f"{kind} {town}{n}",
        device=device,
        at=timezone.now() - dt.timedelta(hours=hours_ago),
        **kw,
    )


@pytest.fixture
def flood(world: Any) -> dict[str, Alarm]:
    """Township A: two offline (one critical, one far overdue), one low battery; township B:
    three offline; plus one resolved in A (not counted)."""
    out = {
        "a1": _alarm(world, "a", "device_offline", 1, 1, severity="critical"),
        "a2": _alarm(world, "a", "device_offline", 2, 2000),
        "a3": _alarm(world, "a", "low_battery", 3, 3, severity="info"),
        "b1": _alarm(world, "b", "device_offline", 1, 4),
        "b2": _alarm(world, "b", "device_offline", 2, 5),
        "b3": _alarm(world, "b", "device_offline", 3, 6),
    }
    closed = _alarm(world, "a", "low_battery", 9, 1)
    alarms.resolve(closed, world.accounts["bureau"], "fixed")
    return out


def row_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr id="alarm-\d+" data-id="(\d+)"', html)]


def test_summary_counts_what_each_role_sees(world: Any, flood: Any) -> None:
    now = timezone.now()
    s = board.summary(world.accounts["bureau"], now)
    assert s.total == 6 and s.overdue == 1
    assert [(c.key, c.n) for c in s.by_kind] == [("device_offline", 5), ("low_battery", 1)]
    assert {c.key: c.n for c in s.by_severity} == {"critical": 1, "warning": 4, "info": 1}
    assert [c.key for c in s.by_severity] == ["critical", "warning", "info"]
    assert {c.key: c.n for c in s.by_township} == {world.township_a.pk: 3, world.township_b.pk: 3}

    s = board.summary(world.accounts["township"], now)  # township A's officer
    assert s.total == 3
    assert {c.key: c.n for c in s.by_kind} == {"device_offline": 2, "low_battery": 1}
    assert [(c.key, c.n) for c in s.by_township] == [(world.township_a.pk, 3)]


@pytest.mark.parametrize("role", ["bureau", "township"])
def test_each_count_links_to_the_filtered_board(world: Any, flood: Any, role: str) -> None:
    c = world.client(role)
    html = c.get("/alarms/").content.decode()
    head = re.search(r'<section class="alarm-summary".*?</section>', html, re.S)
    assert head is not None
    links = dict(re.findall(r'data-filter="([^"]+)">.*?<strong>(\d+)</strong>', head.group(0)))
    if role == "bureau":
        assert links["kind=device_offline"] == "5"
        assert links[f"township_id={world.township_b.pk}"] == "3"
    else:
        assert links["kind=device_offline"] == "2"
        assert f"township_id={world.township_b.pk}" not in links
    assert links[f"township_id={world.township_a.pk}"] == "3"
    assert links["severity=critical"] == "1"
    # following a link filters the board to that many alarms
    for query, n in links.items():
        page = c.get(f"/alarms/?group=none&{query}").content.decode()
        assert len(row_ids(page)) == int(n), query
    overdue = row_ids(c.get("/alarms/?group=none&overdue=on").content.decode())
    assert overdue == [flood["a2"].pk]


def test_grouped_by_kind_expandable_and_switchable(world: Any, flood: Any) -> None:
    c = world.client("bureau")
    # the page's own part (the menu above it folds its groups in <details> too)
    html = c.get("/alarms/").content.decode().split("<main", 1)[1]  # grouped unless asked
    groups = re.findall(
        r'<section class="alarm-group[^"]*" id="group-(\w+)"[^>]*data-count="(\d+)"', html
    )
    # the most urgent group first: device_offline holds the overdue alarm
    assert groups == [("device_offline", "5"), ("low_battery", "1")]
    assert html.count("<details") == 2 and 'id="alarm-table"' not in html
    assert "?group=none" in html  # the switch to the flat list
    flat = c.get("/alarms/?group=none").content.decode().split("<main", 1)[1]
    assert 'id="alarm-table"' in flat and len(row_ids(flat)) == 6
    assert 'class="alarm-group' not in flat  # (its one <details> keeps the filter)
    # a group shows its first members by due time, and how many more there are
    qs = Alarm.objects.filter(closed_at__isnull=True)
    got = {g.kind: g for g in board.groups(qs, timezone.now(), preview=2)}
    offline = got["device_offline"]
    assert offline.count == 5 and offline.more == 3 and offline.overdue == 1
    assert offline.severity == "critical"
    first = list(qs.filter(kind="device_offline").order_by("due_at")[:2])
    assert offline.members == first


def test_sorted_by_due_time_with_overdue_marked(world: Any, flood: Any) -> None:
    c = world.client("bureau")
    html = c.get("/alarms/?group=none").content.decode()
    expected = list(
        Alarm.objects.filter(closed_at__isnull=True)
        .order_by("due_at", "id")
        .values_list("pk", flat=True)
    )
    assert row_ids(html) == expected and expected[0] == flood["a2"].pk
    row = re.search(rf'<tr id="alarm-{flood["a2"].pk}".*?</tr>', html, re.S)
    assert row is not None and "is-overdue" in row.group(0) and "已逾期" in row.group(0)
    assert 'aria-sort="ascending"' in html  # the due-time header says so
    # the severity is written out, not a colour only
    assert re.search(r'class="sev sev-critical"><span aria-hidden="true">▲</span> 严重', html)


def _states(*alarms_: Alarm) -> list[str]:
    return [Alarm.objects.get(pk=a.pk).state for a in alarms_]


def test_bulk_acknowledge_from_the_board(world: Any, flood: Any) -> None:
    c = world.client("township")
    a1, a2 = flood["a1"], flood["a2"]
    r = c.post(
        "/alarms/bulk/",
        {"ids": [a1.pk, a2.pk], "action": "acknowledge", "reason": "巡检员已出发", "kind": ""},
    )
    assert r.status_code == 302 and "/alarms/" in r["Location"]
    assert _states(a1, a2) == ["acknowledged", "acknowledged"]
    for a in (a1, a2):
        entry = AuditEntry.objects.filter(object_type="monitoring.alarm", object_id=str(a.pk))
        assert entry.order_by("-id").first().reason == "巡检员已出发"  # type: ignore[union-attr]
        assert list(a.events.values_list("action", flat=True)) == ["opened", "acknowledged"]
    page = c.get(r["Location"]).content.decode()
    assert "已确认 2 条告警。" in page


def test_bulk_resolve_a_whole_group_within_the_filter(world: Any, flood: Any) -> None:
    c = world.client("bureau")
    r = c.post(
        "/alarms/bulk/",
        {
            "kinds": ["device_offline"],
            "township_id": world.township_b.pk,
            "action": "resolve",
            "reason": "通信恢复",
            "group": "kind",
        },
    )
    assert r.status_code == 302
    assert f"township_id={world.township_b.pk}" in r["Location"]
    assert _states(flood["b1"], flood["b2"], flood["b3"]) == ["resolved"] * 3
    assert _states(flood["a1"], flood["a2"], flood["a3"]) == ["open"] * 3  # not in the filter


def test_bulk_all_in_the_filter(world: Any, flood: Any) -> None:
    c = world.client("township")  # "all" is all *it* sees: township A's
    r = c.post("/alarms/bulk/", {"all": "1", "action": "acknowledge", "reason": "已知晓"})
    assert r.status_code == 302
    assert _states(flood["a1"], flood["a2"], flood["a3"]) == ["acknowledged"] * 3
    assert _states(flood["b1"]) == ["open"]


def test_bulk_without_a_reason_names_the_field_and_changes_nothing(world: Any, flood: Any) -> None:
    c = world.client("bureau")
    r = c.post("/alarms/bulk/", {"ids": [flood["a1"].pk], "action": "resolve", "reason": " "})
    assert r.status_code == 422
    errors = re.search(r'id="bulk-errors">(.*?)</ul>', r.content.decode(), re.S)
    assert errors is not None and "处理原因" in errors.group(1)
    assert f'value="{flood["a1"].pk}" form="alarm-bulk" checked' in r.content.decode()
    assert _states(flood["a1"]) == ["open"]


def test_bulk_with_an_alarm_out_of_scope_is_refused_whole(world: Any, flood: Any) -> None:
    c = world.client("township")
    own, foreign = flood["a1"], flood["b1"]
    r = c.post(
        "/alarms/bulk/", {"ids": [own.pk, foreign.pk], "action": "acknowledge", "reason": "x"}
    )
    assert r.status_code == 422
    errors = re.search(r'id="bulk-errors">(.*?)</ul>', r.content.decode(), re.S)
    assert errors is not None and str(foreign.pk) in errors.group(1)
    assert _states(own, foreign) == ["open", "open"]  # all or nothing


def test_bulk_refuses_a_state_that_does_not_fit_and_says_which(world: Any, flood: Any) -> None:
    c = world.client("bureau")
    alarms.acknowledge(flood["a1"], world.accounts["bureau"], "seen")
    r = c.post(
        "/alarms/bulk/",
        {"ids": [flood["a1"].pk, flood["a2"].pk], "action": "acknowledge", "reason": "x"},
    )
    assert r.status_code == 422
    refused = re.search(r'id="bulk-refused">(.*?)</div>', r.content.decode(), re.S)
    assert refused is not None and f"#{flood['a1'].pk}" in refused.group(1)
    assert f"#{flood['a2'].pk}" not in refused.group(1)
    assert _states(flood["a2"]) == ["open"]


def test_roles_that_may_not_act_cannot_post_in_bulk(world: Any, flood: Any) -> None:
    for role in ("water_user", "inspector"):
        r = world.client(role).post(
            "/alarms/bulk/", {"ids": [flood["a1"].pk], "action": "resolve", "reason": "x"}
        )
        assert r.status_code == 403, role
    assert _states(flood["a1"]) == ["open"]


def test_service_refuses_what_the_policy_forbids(world: Any, flood: Any) -> None:
    """The inspector sees every alarm but may change none: each is refused and reported."""
    with pytest.raises(board.BulkRefused) as caught:
        board.apply(world.accounts["inspector"], "resolve", "x", [flood["a1"].pk, flood["b1"].pk])
    assert [(r.id, r.code) for r in caught.value.refusals] == [
        (flood["a1"].pk, "forbidden"),
        (flood["b1"].pk, "forbidden"),
    ]
    assert _states(flood["a1"], flood["b1"]) == ["open", "open"]


API = "/api/monitoring/alarms/bulk"


def _post(c: Any, body: dict[str, Any]) -> Any:
    return c.post(API, body, content_type="application/json")


def test_api_bulk(world: Any, flood: Any) -> None:
    c = world.client("township")
    ids = [flood["a1"].pk, flood["a3"].pk]
    r = _post(c, {"ids": ids, "action": "resolve", "reason": "已处理"})
    assert r.status_code == 200, r.content
    assert r.json()["count"] == 2
    assert {i["state"] for i in r.json()["items"]} == {"resolved"}
    assert (
        AuditEntry.objects.filter(
            object_type="monitoring.alarm", object_id__in=[str(i) for i in ids], reason="已处理"
        ).count()
        == 2
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "resolve", "reason": ""}, "reason"),
        ({"action": "resolve"}, "reason"),
        ({"action": "explode", "reason": "x"}, "action"),
        ({"action": "acknowledge", "reason": "x", "foreign": True}, "ids"),
        ({"action": "acknowledge", "reason": "x", "ids": []}, "ids"),
    ],
)
def test_api_bulk_422_names_the_field(
    world: Any, flood: Any, body: dict[str, Any], field: str
) -> None:
    c = world.client("township")
    ids = [flood["a1"].pk]
    if body.pop("foreign", False):
        ids.append(flood["b1"].pk)
    r = _post(c, {"ids": ids, **body})
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == [field]
    assert _states(flood["a1"]) == ["open"]


def test_api_bulk_state_conflict_is_409_with_each_refusal(world: Any, flood: Any) -> None:
    c = world.client("bureau")
    alarms.resolve(flood["a1"], world.accounts["bureau"], "done")
    r = _post(c, {"ids": [flood["a1"].pk, flood["a2"].pk], "action": "resolve", "reason": "x"})
    assert r.status_code == 409
    assert [(i["id"], i["code"]) for i in r.json()["refused"]] == [(flood["a1"].pk, "state")]
    assert _states(flood["a2"]) == ["open"]
    assert _post(world.client("water_user"), {"ids": [flood["a1"].pk]}).status_code == 403


def _queries(c: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert c.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_the_alarms(world: Any, flood: Any) -> None:
    urls = ["/alarms/", "/alarms/?group=none", "/alarms/?severity=warning"]
    clients = {role: world.client(role) for role in ("bureau", "township")}
    before = {(r, u): _queries(c, u) for r, c in clients.items() for u in urls}
    kinds = ["device_offline", "low_battery", "device_status", "quota_80"]
    for n in range(60):
        _alarm(world, "ab"[n % 2], kinds[n % len(kinds)], 100 + n, n % 7)
    after = {(r, u): _queries(c, u) for r, c in clients.items() for u in urls}
    assert after == before


def test_a_board_filter_is_saved_with_its_view_and_offered_beside_it(
    world: Any, flood: Any
) -> None:
    c = world.client("township")
    board_url = "/alarms/?kind=device_offline&group=none"
    assert 'id="saved-filters"' in c.get(board_url).content.decode()
    r = c.post(
        "/saved-filters/",
        {"url_name": "monitoring:alarm_list", "name": "离线", "query": board_url[8:] + "&page=2"},
    )
    assert r.status_code == 302 and r["Location"] == board_url
    html = c.get("/alarms/").content.decode()
    assert f'href="{board_url.replace("&", "&amp;")}"' in html
    # the saved view opens flat and filtered: township A's two offline devices
    assert sorted(row_ids(c.get(r["Location"]).content.decode())) == sorted(
        [flood["a1"].pk, flood["a2"].pk]
    )
    r = c.post(
        "/saved-filters/",
        {"url_name": "monitoring:alarm_list", "name": "x", "query": "colour=red"},
        follow=True,
    )
    assert "colour" in r.content.decode()
