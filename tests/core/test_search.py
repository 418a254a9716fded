"""The global search (core/search.py): finds records by identifier, only those the user may
open, goes straight to an exact match, and answers in a bounded number of queries."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext


def test_exact_code_goes_straight_to_the_well(world: Any) -> None:
    r = world.client("bureau").get("/search/", {"q": "w-a-1"})
    assert r.status_code == 302 and r["Location"] == f"/wells/{world.well_a.pk}/"


def test_partial_code_lists_matches_of_each_kind(world: Any) -> None:
    html = world.client("bureau").get("/search/", {"q": "W-"}).content.decode()
    assert 'data-kind="wells"' in html
    assert (
        f'href="/wells/{world.well_a.pk}/"' in html and f'href="/wells/{world.well_b.pk}/"' in html
    )


def test_uscc_station_address_and_user_name(world: Any) -> None:
    c = world.client("bureau")
    r = c.get("/search/", {"q": "91110000600037341L"})
    assert r.status_code == 302 and r["Location"] == world.user_a.get_absolute_url()
    r = c.get("/search/", {"q": "0014052201"})
    assert r.status_code == 302 and r["Location"] == world.device_a.get_absolute_url()
    html = c.get("/search/", {"q": "合作社"}).content.decode()
    assert world.user_b.get_absolute_url() in html


def test_township_officer_never_finds_another_townships_well(world: Any) -> None:
    c = world.client("township")  # officer of township A
    html = c.get("/search/", {"q": "W-"}).content.decode()
    assert f"/wells/{world.well_a.pk}/" in html
    assert f"/wells/{world.well_b.pk}/" not in html
    r = c.get("/search/", {"q": "W-B-1"})
    assert r.status_code == 200 and f"/wells/{world.well_b.pk}/" not in r.content.decode()
    body = c.get("/api/search", {"q": "1405220002"}).json()  # township B's logger
    assert body["results"] == [] and body["exact"] is None


def test_anonymous_finds_only_public_things(world: Any) -> None:
    c = world.client("anonymous")
    html = c.get("/search/", {"q": "W-"}).content.decode()
    assert "/wells/" not in html and 'href="/login/' in html
    body = c.get("/api/search", {"q": "皇城"}).json()
    assert [r["kind"] for r in body["results"]] == ["zones"]


def test_api_search_schema_and_errors(world: Any) -> None:
    c = world.client("bureau")
    body = c.get("/api/search", {"q": "W-A-1"}).json()
    assert body["exact"]["url"] == f"/wells/{world.well_a.pk}/"
    kinds = {r["kind"]: r for r in body["results"]}
    assert kinds["wells"]["hits"][0] == {
        "title": "W-A-1",
        "detail": body["results"][0]["hits"][0]["detail"],
        "url": f"/wells/{world.well_a.pk}/",
        "exact": True,
    }
    r = c.get("/api/search", {"q": "x" * 101})
    assert r.status_code == 422 and "q" in r.content.decode()
    assert c.get("/api/search").status_code == 422


def test_query_count_does_not_grow_with_matches(world: Any) -> None:
    from aquifer.core.audit import audit_context
    from aquifer.registry.models import Well

    c = world.client("bureau")
    with CaptureQueriesContext(connection) as few:
        c.get("/api/search", {"q": "W-"})
    with audit_context(source="test"):
        for i in range(12):
            w = Well(
                code=f"W-C-{i}", depth_m=50, layer="shallow", purpose="domestic", owner=world.user_a
            )
            w.set_location(112.417, 35.486)
            w.save()
    with CaptureQueriesContext(connection) as many:
        body = c.get("/api/search", {"q": "W-"}).json()
    assert len(many) == len(few)
    assert len({r["kind"]: r for r in body["results"]}["wells"]["hits"]) == 8
