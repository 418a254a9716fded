"""Every API endpoint × every role: who reads, creates, changes and deletes what.

Township A is 凤城镇 (the township officer's), B is 北留镇. The water user owns A's records.
A refused change leaves the record exactly as it was.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from aquifer.registry.models import Device, MonitoringWell, Township, WaterUser, Well, Zone

ROLES = ["bureau", "township", "water_user", "inspector", "public", "anonymous"]

MODELS = {
    "wells": Well,
    "water-users": WaterUser,
    "devices": Device,
    "monitoring-wells": MonitoringWell,
    "zones": Zone,
    "townships": Township,
}


def records(world: Any, path: str) -> tuple[Any, Any]:
    """(record in township A / owned by the water user, record in township B)."""
    return {
        "wells": (world.well_a, world.well_b),
        "water-users": (world.user_a, world.user_b),
        "devices": (world.device_a, world.device_b),
        "monitoring-wells": (world.monitoring_a, world.monitoring_b),
        "zones": (world.zone, world.zone),
        "townships": (world.township_a, world.township_b),
    }[path]


PATCHES = {
    "wells": {"name": "改名"},
    "water-users": {"contact_person": "张三"},
    "devices": {"manufacturer": "某厂"},
    "monitoring-wells": {"monitors_quality": True},
    "zones": {"notes": "改"},
    "townships": {"name_en": "Changed"},
}


def new_payload(world: Any, path: str, where: str, tag: str) -> dict[str, Any]:
    """A valid creation payload for a record located in township A or B."""
    a = where == "A"
    if path == "wells":
        x, y = (112.418, 35.487) if a else (112.574, 35.534)
        return {
            "code": f"N-{tag}-{where}",
            "x": x,
            "y": y,
            "depth_m": 60,
            "layer": "shallow",
            "purpose": "agricultural",
        }
    if path == "water-users":
        t = world.township_a if a else world.township_b
        return {"name": f"新用户{tag}{where}", "use_type": "industrial", "township_id": t.pk}
    if path == "devices":
        w = world.well_a if a else world.well_b
        return {
            "kind": "flow_meter",
            "protocol": "MQTT",
            "station_address": f"dev-{tag}-{where}",
            "well_id": w.pk,
            "secret": "s3cret-key",
        }
    if path == "monitoring-wells":
        w = Well(code=f"MW-{tag}-{where}", depth_m=40, layer="shallow", purpose="monitoring")
        w.set_location(*((112.419, 35.488) if a else (112.575, 35.535)))
        w.save()
        return {"well_id": w.pk, "monitors_level": True}
    if path == "zones":
        lon, lat = (112.30, 35.60) if a else (112.20, 35.45)
        ring = [
            [lon, lat],
            [lon + 0.01, lat],
            [lon + 0.01, lat + 0.01],
            [lon, lat + 0.01],
            [lon, lat],
        ]
        return {
            "code": f"Z-{tag}-{where}",
            "name": "新分区",
            "kind": "balanced",
            "layer": "deep",
            "geometry": {"type": "Polygon", "coordinates": [ring]},
            "allowable_extraction_m3": 1000,
            "designation_document": "测试文件",
        }
    if path == "townships":
        return {
            "code": f"1405229{9 if a else 8}{len(tag) % 10}",
            "name": f"测试乡{tag}{where}",
            "kind": "township",
            "is_current": False,
        }
    raise AssertionError(path)


SCOPED = ["wells", "water-users", "devices", "monitoring-wells"]
SHARED = ["zones", "townships"]

# Expected (read A, read B) for township-scoped entities.
READ = {
    "bureau": (200, 200),
    "township": (200, 404),
    "water_user": (200, 404),
    "inspector": (200, 200),
    "public": (404, 404),
    "anonymous": (404, 404),
}
# The roles whose policy gives them no row of a township-scoped entity: a list is refused.
REFUSED = {"public": 403, "anonymous": 401}
# Expected (create in A, create in B).
CREATE = {
    "bureau": (201, 201),
    "township": (201, 403),
    "water_user": (403, 403),
    "inspector": (403, 403),
    "public": (403, 403),
    "anonymous": (401, 401),
}
# Expected (change A, change B).
CHANGE = {
    "bureau": (200, 200),
    "township": (200, 404),
    "water_user": (403, 404),
    "inspector": (403, 403),
    "public": (404, 404),
    "anonymous": (401, 401),
}


def body(r: Any) -> Any:
    return json.loads(r.content)


def state(obj: Any) -> dict[str, Any]:
    fresh = type(obj).objects.get(pk=obj.pk)
    return {
        f.attname: getattr(fresh, f.attname)
        for f in fresh._meta.concrete_fields
        if f.attname != "updated_at"
    }


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", SCOPED)
def test_scoped_entities(world: Any, role: str, path: str) -> None:
    c = world.client(role)
    a, b = records(world, path)

    r = c.get(f"/api/{path}/")
    if role in REFUSED:
        # No rule for this role at all: the list is refused (not an empty page).
        assert r.status_code == REFUSED[role]
    else:
        listed = {item["id"] for item in body(r)["items"]}
        want_a, want_b = (s == 200 for s in READ[role])
        assert (a.pk in listed, b.pk in listed) == (want_a, want_b)

    assert c.get(f"/api/{path}/{a.pk}").status_code == READ[role][0]
    assert c.get(f"/api/{path}/{b.pk}").status_code == READ[role][1]
    assert c.get(f"/api/{path}/{a.pk}/history").status_code == READ[role][0]
    assert c.get(f"/api/{path}/{b.pk}/history").status_code == READ[role][1]

    for where, expected in zip("AB", CREATE[role], strict=True):
        if role == "township" and where == "B" and path in ("devices", "monitoring-wells"):
            expected = 422  # the well it would hang on is out of sight: "no such well"
        payload = new_payload(world, path, where, role)
        before = MODELS[path].objects.count()
        r = c.post(f"/api/{path}/", json.dumps(payload), content_type="application/json")
        assert r.status_code == expected, (where, r.content)
        assert MODELS[path].objects.count() == before + (1 if expected == 201 else 0)

    for obj, expected in zip((a, b), CHANGE[role], strict=True):
        before = state(obj)
        r = c.patch(
            f"/api/{path}/{obj.pk}", json.dumps(PATCHES[path]), content_type="application/json"
        )
        assert r.status_code == expected, (obj, r.content)
        if expected != 200:
            assert state(obj) == before

    # Only the bureau deletes; everyone else is refused and the record stays.
    r = c.delete(f"/api/{path}/{b.pk}")
    if role == "bureau":
        assert r.status_code in (204, 409)  # 409 where other records still refer to it
    else:
        assert r.status_code in (401, 403, 404)
        assert MODELS[path].objects.filter(pk=b.pk).exists()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", SHARED)
def test_shared_reference_data(world: Any, role: str, path: str) -> None:
    """Townships and zones: everyone reads them; only the bureau changes them."""
    c = world.client(role)
    a, b = records(world, path)
    listed = {item["id"] for item in body(c.get(f"/api/{path}/"))["items"]}
    assert {a.pk, b.pk} <= listed
    assert c.get(f"/api/{path}/{a.pk}").status_code == 200

    payload = new_payload(world, path, "A", role)
    r = c.post(f"/api/{path}/", json.dumps(payload), content_type="application/json")
    writer = role == "bureau"
    assert r.status_code == (201 if writer else 401 if role == "anonymous" else 403), r.content

    before = state(a)
    r = c.patch(f"/api/{path}/{a.pk}", json.dumps(PATCHES[path]), content_type="application/json")
    assert r.status_code == (200 if writer else 401 if role == "anonymous" else 403)
    if not writer:
        assert state(a) == before


def test_bureau_deletes_an_unreferenced_record(world: Any) -> None:
    c = world.client("bureau")
    u = WaterUser.objects.create(name="临时用户", use_type="service", township=world.township_a)
    assert c.delete(f"/api/water-users/{u.pk}").status_code == 204
    assert not WaterUser.objects.filter(pk=u.pk).exists()


def test_delete_of_a_referenced_record_is_a_conflict_and_keeps_it(world: Any) -> None:
    r = world.client("bureau").delete(f"/api/water-users/{world.user_a.pk}")
    assert r.status_code == 409
    assert "取水井" in body(r)["detail"]
    assert WaterUser.objects.filter(pk=world.user_a.pk).exists()


@pytest.mark.parametrize("role", ROLES)
def test_map_layers_follow_scope(world: Any, role: str) -> None:
    c = world.client(role)
    r = c.get("/api/map/wells.geojson")
    if role in REFUSED:  # the map does not ask for the wells layer (showWells is false)
        assert r.status_code == REFUSED[role]
    else:
        wells = {f["properties"]["code"] for f in body(r)["features"]}
        want = {
            "bureau": {"W-A-1", "W-B-1"},
            "township": {"W-A-1"},
            "water_user": {"W-A-1"},
            "inspector": {"W-A-1", "W-B-1"},
        }[role]
        assert wells == want
    zones = body(c.get("/api/map/zones.geojson"))["features"]
    assert [z["properties"]["code"] for z in zones] == ["JC-HCXF"]
    townships = body(c.get("/api/map/townships.geojson"))["features"]
    assert len(townships) == 15


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", SCOPED)
def test_exports_follow_scope(world: Any, role: str, path: str) -> None:
    r = world.client(role).get(f"/api/{path}/export?format=csv")
    if role in REFUSED:
        assert r.status_code == REFUSED[role]
        return
    assert r.status_code == 200
    lines = r.content.decode("utf-8-sig").strip().splitlines()
    a_visible, b_visible = (s == 200 for s in READ[role])
    assert len(lines) - 1 == int(a_visible) + int(b_visible)


@pytest.mark.parametrize("role", ROLES)
def test_audit_list_follows_scope(world: Any, role: str) -> None:
    """The trail is AuditEntry's view policy: a filtered list for the roles it names; the
    roles without a rule (water users, the public) are refused, not given an empty page."""
    r = world.client(role).get("/api/audit/?object_type=registry.well&limit=500")
    refused = {"water_user": 403, "public": 403, "anonymous": 401}
    if role in refused:
        assert r.status_code == refused[role]
        return
    assert r.status_code == 200
    ids = {e["object_id"] for e in body(r)["items"]}
    a, b = str(world.well_a.pk), str(world.well_b.pk)
    want = {"bureau": {a, b}, "township": {a}, "inspector": {a, b}}[role]
    assert ids == want


def test_township_officer_cannot_move_a_well_into_another_township(world: Any) -> None:
    c = world.client("township")
    before = state(world.well_a)
    r = c.patch(
        f"/api/wells/{world.well_a.pk}",
        json.dumps({"x": 112.573, "y": 35.533}),
        content_type="application/json",
    )
    assert r.status_code == 403
    assert state(world.well_a) == before


def test_foreign_keys_must_point_into_scope(world: Any) -> None:
    """An officer cannot attach their well to another township's water user."""
    c = world.client("township")
    r = c.patch(
        f"/api/wells/{world.well_a.pk}",
        json.dumps({"owner_id": world.user_b.pk}),
        content_type="application/json",
    )
    assert r.status_code == 422
    assert body(r)["errors"][0]["field"] == "owner"
    assert Well.objects.get(pk=world.well_a.pk).owner_id == world.user_a.pk


def test_bearer_token_acts_as_its_user(world: Any) -> None:
    from django.test import Client

    from aquifer.core.models import ApiToken

    _, key = ApiToken.issue(world.accounts["township"], "rtu-gateway")
    c = Client()
    r = c.get("/api/wells/", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert {i["code"] for i in body(r)["items"]} == {"W-A-1"}
    r = c.get("/api/wells/", HTTP_AUTHORIZATION="Bearer aq_wrong")
    assert r.status_code == 401  # a wrong key is refused, not served as the public
    r = c.post(
        "/api/wells/",
        json.dumps(new_payload(world, "wells", "A", "tok")),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert r.status_code == 201


@pytest.mark.parametrize("path", ["/api/wells/", "/api/zones/", "/api/me"])
@pytest.mark.parametrize("kind", ["unknown", "revoked", "empty", "inactive"])
def test_a_bearer_key_that_does_not_authenticate_gets_401(world: Any, path: str, kind: str) -> None:
    """A list the public may read (zones), one it may not (wells), and /me: a client whose key
    stopped working learns it (401 with a Bearer challenge), it is not quietly served as the
    public with an empty list."""
    from django.test import Client

    from aquifer.core.models import ApiToken

    token, key = ApiToken.issue(world.accounts["township"], "rtu-gateway")
    if kind == "unknown":
        key = "aq_" + "x" * 43
    elif kind == "revoked":
        ApiToken.objects.filter(pk=token.pk).update(revoked=True)
    elif kind == "empty":
        key = ""
    else:
        type(world.accounts["township"]).objects.filter(username="officer_a").update(
            is_active=False
        )
    r = Client().get(path, HTTP_AUTHORIZATION=f"Bearer {key}".rstrip())
    assert r.status_code == 401, r.content
    assert r["WWW-Authenticate"].startswith("Bearer ")
    assert 'error="invalid_token"' in r["WWW-Authenticate"]
    assert "items" not in body(r)
    # Without the header the public still reads what it may (and is asked to log in for
    # the rest, with the plain challenge).
    plain = Client().get(path)
    assert plain.status_code == (401 if path == "/api/wells/" else 200)
    assert 'error="invalid_token"' not in plain.get("WWW-Authenticate", "")
