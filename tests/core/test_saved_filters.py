"""Saved filters (core.SavedFilter): kept from a list's filter bar, listed beside it, the
owner's own (the bureau may share with the bureau), audited, and refused with the field named
when the query has a key the list's FilterSet does not know."""

from __future__ import annotations

import json
from typing import Any

from aquifer.core.models import AuditEntry, SavedFilter, User
from aquifer.core.roles import Role


def test_save_from_the_list_and_find_it_beside_the_filter_bar(world: Any) -> None:
    c = world.client("township")
    r = c.post(
        "/saved-filters/",
        {"url_name": "registry:well_list", "name": "浅层井", "query": "layer=shallow&page=3"},
    )
    assert r.status_code == 302 and r["Location"] == "/wells/?layer=shallow"
    saved = SavedFilter.objects.get(name="浅层井")
    assert saved.owner == world.accounts["township"] and saved.query == "layer=shallow"
    assert AuditEntry.objects.filter(
        object_type="core.savedfilter", object_id=str(saved.pk)
    ).exists()
    html = c.get("/wells/").content.decode()
    assert 'id="saved-filters"' in html and 'href="/wells/?layer=shallow"' in html
    # Another account of the same role does not see it.
    other = User.objects.create_user("officer_b", role=Role.TOWNSHIP, township=world.township_b)
    c2 = world.client("township")
    c2.force_login(other)
    assert "浅层井" not in c2.get("/wells/").content.decode()
    assert c2.post(f"/saved-filters/{saved.pk}/delete").status_code == 404
    assert c.post(f"/saved-filters/{saved.pk}/delete").status_code == 302
    assert not SavedFilter.objects.filter(pk=saved.pk).exists()


def test_unknown_filter_key_is_refused_naming_it(world: Any) -> None:
    c = world.client("bureau")
    r = c.post(
        "/saved-filters/",
        {"url_name": "registry:well_list", "name": "x", "query": "colour=blue"},
        follow=True,
    )
    assert "colour" in r.content.decode() and not SavedFilter.objects.exists()
    r = c.post(
        "/api/saved-filters",
        json.dumps({"url_name": "registry:well_list", "name": "x", "query": "colour=blue"}),
        content_type="application/json",
    )
    assert r.status_code == 422 and "query" in r.content.decode() and "colour" in r.content.decode()
    r = c.post(
        "/api/saved-filters",
        json.dumps({"url_name": "registry:nothing", "name": "x"}),
        content_type="application/json",
    )
    assert r.status_code == 422 and "url_name" in r.content.decode()


def test_api_crud_for_the_owner_and_sharing_in_the_bureau(world: Any) -> None:
    c = world.client("bureau")
    body = {"url_name": "permits:permit_list", "name": "全部", "query": "", "shared": True}
    r = c.post("/api/saved-filters", json.dumps(body), content_type="application/json")
    assert r.status_code == 201, r.content
    pk = r.json()["id"]
    assert r.json()["url"] == "/permits/" and r.json()["mine"] is True
    r = c.patch(
        f"/api/saved-filters/{pk}",
        json.dumps({"name": "所有许可"}),
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["name"] == "所有许可"
    colleague = User.objects.create_user("bureau2", role=Role.BUREAU)
    c2 = world.client("anonymous")
    c2.force_login(colleague)
    shared = c2.get("/api/saved-filters").json()
    assert [f["name"] for f in shared] == ["所有许可"] and shared[0]["mine"] is False
    assert c2.delete(f"/api/saved-filters/{pk}").status_code == 403
    # A township officer sees none of it and may not share.
    t = world.client("township")
    assert t.get("/api/saved-filters").json() == []
    assert t.get(f"/api/saved-filters/{pk}").status_code == 404
    body = {"url_name": "registry:well_list", "name": "x", "query": "q=W", "shared": True}
    r = t.post("/api/saved-filters", json.dumps(body), content_type="application/json")
    assert r.status_code == 422 and "shared" in r.content.decode()
    assert c.delete(f"/api/saved-filters/{pk}").status_code == 204
    assert world.client("anonymous").get("/api/saved-filters").status_code in (401, 403)


def test_empty_list_says_what_to_do(world: Any) -> None:
    c = world.client("bureau")
    html = c.get("/wells/", {"q": "nothing-like-this"}).content.decode()
    assert 'id="empty-state"' in html and 'href="/wells/">' in html
