"""Every page and every API operation × every role, generated from the URL resolver, the
OpenAPI document and the policy registry (docs/architecture.md, "Roles and scoping").

Each route must be linked to a policy (``aquifer.core.policies.routes``): a route nobody
linked fails here, so a new endpoint cannot ship without saying who may use it. The answer
each role gets must then agree with the policy:

- allowed → not 401 / 403 / 404 (a write with a minimal body may still be refused as invalid);
- a record out of the role's sight (township B's for township A's officer) → 404;
- visible but not allowed → 403;
- anonymous without the right → the login page (pages) or 401 (API).

Every request runs in a savepoint that is rolled back, so one world serves all routes of a
role (a bureau DELETE does not take well A away from the next route).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from aquifer.core.policies import allowed, policy_of, route_policy
from aquifer.core.scoping import can

ROLES = ["bureau", "township", "water_user", "inspector", "public", "anonymous"]
MISSING = 999_999  # a pk no table has: routes whose model the world has no record of
API_PAGES = {"openapi-json", "openapi-view", "api-root"}  # the API's own pages
DEVICE_AUTH = {"aquifer_telemetry_ingest_api_ingest_readings"}
ADMIN_ROLES = {"bureau", "anonymous"}  # the admin's routes all answer alike for non-staff


@dataclass(frozen=True)
class Route:
    key: str  # URL name ("permits:zone_ledger") or API operation id
    path: str  # with {placeholders}
    method: str  # "GET", or "" for pages (GET, then POST on 405)
    body: dict[str, Any] | None = None


class _Rollback(Exception):
    pass


def _walk(resolver: URLResolver, prefix: str = "", ns: str = "") -> Iterator[tuple[str, str]]:
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            inner = f"{ns}:{p.namespace}" if ns and p.namespace else (p.namespace or ns)
            yield from _walk(p, prefix + str(p.pattern), inner or "")
        else:
            assert isinstance(p, URLPattern)
            if ns == "api" and p.name not in API_PAGES:
                continue  # the API's operations: from the OpenAPI document below
            name = p.name or ""
            key = f"{ns}:{name}" if ns else name
            if ns.split(":")[0] == "admin":
                key = "admin:*"
            yield key or prefix + str(p.pattern), prefix + str(p.pattern)


def _page_path(pattern: str) -> str:
    s = pattern.replace("^", "").replace("$", "")
    s = re.sub(r"\(\?P<app_label>[^)]*\)", "registry", s)
    s = re.sub(r"\(\?P<url>[^)]*\)", "no-such-page/", s)
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", "/" + s)


def page_routes() -> list[Route]:
    return [Route(k, _page_path(p), "") for k, p in _walk(get_resolver())]


def _minimal(schema: dict[str, Any], components: dict[str, Any]) -> Any:
    """The smallest value the schema accepts syntactically (so access checks are reached)."""
    if "$ref" in schema:
        return _minimal(components[schema["$ref"].rsplit("/", 1)[1]], components)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return _minimal(schema[key][0], components)
    if "enum" in schema:
        return schema["enum"][0]
    t = schema.get("type")
    if t == "object" or "properties" in schema:
        props = schema.get("properties", {})
        return {k: _minimal(props[k], components) for k in schema.get("required", [])}
    return {"string": "x", "integer": 1, "number": 1, "boolean": False, "array": []}.get(str(t))


def api_routes() -> list[Route]:
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    components = doc.get("components", {}).get("schemas", {})
    out = []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            query = [
                f"{p['name']}={_minimal(p.get('schema', {}), components)}"
                for p in op.get("parameters", [])
                if p["in"] == "query" and p.get("required")
            ]
            body = None
            content = op.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                body = _minimal(content["application/json"].get("schema", {}), components)
            full = path + ("?" + "&".join(query) if query else "")
            out.append(Route(op["operationId"], full, method.upper(), body))
    return out


def _objects(world: Any) -> dict[str, tuple[Any, Any]]:
    return {
        "registry.well": (world.well_a, world.well_b),
        "registry.wateruser": (world.user_a, world.user_b),
        "registry.device": (world.device_a, world.device_b),
        "registry.monitoringwell": (world.monitoring_a, world.monitoring_b),
        "registry.zone": (world.zone, world.zone),
        "registry.township": (world.township_a, world.township_b),
    }


def _fill(path: str, pk: Any) -> str:
    values = {"pk": pk, "object_id": pk, "action": "approve"}
    return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m.group(1), "x")), path)


def _send(client: Client, route: Route, url: str) -> Any:
    try:
        with transaction.atomic():
            if route.method in ("", "GET"):
                response = client.get(url)
                if route.method == "" and response.status_code == 405:
                    response = client.post(url, {})
            else:
                call = getattr(client, route.method.lower())
                body = json.dumps(route.body) if route.body is not None else None
                response = call(url, data=body, content_type="application/json")
            raise _Rollback
    except _Rollback:
        return response


def _check(route: Route, role: str, user: Any, obj: Any, response: Any) -> str | None:
    """None when the answer agrees with the policy, else what is wrong."""
    linked = route_policy(route.key)
    assert linked is not None  # checked by test_every_route_has_a_policy
    target, action = linked
    policy = policy_of(target)
    if policy is None:
        return f"links to {target!r}, which no policy declares"
    if policy.model is None:
        ok, hidden = allowed(user, target), False
    elif obj is not None:
        ok, hidden = can(user, action, obj), not can(user, "view", obj)
    else:
        ok, hidden = can(user, action, policy.model), False
    status = response.status_code
    if route.path.endswith(("/login/", "/logout/")):
        return None if status < 400 else f"log in / out answered {status}"
    if route.key in DEVICE_AUTH:  # devices sign their frames; no user role may push
        return None if status in (401, 403) else f"device-only, got {status}"
    if not ok and route.method in ("POST", "PATCH") and status == 422:
        return None  # refused before the access check by input validation (still refused)
    to_login = status == 302 and "login" in response.get("Location", "")
    if status >= 500:
        return f"server error {status}"
    if ok:
        if status in (401, 403) or to_login or (status == 404 and obj is not None):
            return f"allowed by {target}.{action} but got {status}"
        return None
    if role == "anonymous" or target == "core.admin":
        if to_login or status in (401, 404) or (status == 403 and role != "anonymous"):
            return None
        return f"anonymous/non-staff should log in ({target}.{action}), got {status}"
    if hidden or (obj is None and route_has_pk(route)):
        return None if status in (403, 404) else f"out of sight: want 404, got {status}"
    return None if status == 403 else f"denied by {target}.{action}: want 403, got {status}"


def route_has_pk(route: Route) -> bool:
    return "{pk}" in route.path or "{object_id}" in route.path


def test_every_route_has_a_policy(db: Any) -> None:
    """A page or API operation that no app's policies.py links to a policy fails."""
    unlinked = [r.key for r in page_routes() + api_routes() if route_policy(r.key) is None]
    assert unlinked == []
    undeclared = {
        route_policy(r.key)[0]  # type: ignore[index]
        for r in page_routes() + api_routes()
        if policy_of(route_policy(r.key)[0]) is None  # type: ignore[index]
    }
    assert undeclared == set()


def test_the_matrix_covers_pages_and_operations(db: Any) -> None:
    pages, ops = page_routes(), api_routes()
    assert len(ops) >= 120 and len(pages) >= 100
    assert {"permits_application_decide", "wellfoo_list"} & {r.key for r in ops} == {
        "permits_application_decide"
    }


@pytest.mark.parametrize("role", ROLES)
def test_role_against_every_route(world: Any, role: str) -> None:
    client = world.client(role)
    user = world.accounts.get(role)
    if user is None:
        from django.contrib.auth.models import AnonymousUser

        user = AnonymousUser()
    objects = _objects(world)
    problems = []
    for route in page_routes() + api_routes():
        if route.key == "admin:*" and role not in ADMIN_ROLES:
            continue
        linked = route_policy(route.key)
        assert linked is not None, route.key
        cases: list[Any] = [None]
        if route_has_pk(route):
            pair = objects.get(linked[0])
            cases = list(dict.fromkeys(pair)) if pair else [None]
        for obj in cases:
            pk = obj.pk if obj is not None else MISSING
            url = _fill(route.path, pk)
            # Logging out (the site's or the admin's) must not end this role's session.
            c = world.client(role) if url.endswith(("/logout/", "/login/")) else client
            response = _send(c, route, url)
            problem = _check(route, role, user, obj, response)
            if problem:
                problems.append(f"{route.method or 'PAGE'} {url} [{route.key}]: {problem}")
    assert problems == [], "\n".join(problems)
