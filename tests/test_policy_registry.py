"""The policy registry is the one place that decides access (docs/architecture.md, "Roles and
scoping"): no other module compares roles, and every model has a declared policy."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.urls import get_resolver

from aquifer.core.policies import HISTORY, policy_of, registry, route_allows
from aquifer.core.roles import Role
from aquifer.core.scoping import can, can_see_history, visible_to

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "aquifer"

#: Comparing or naming roles: role_of(…), Role.BUREAU…, ``x.role == …``, ``role in …``.
PY_ROLE = re.compile(
    r"role_of\(|Role\.(BUREAU|TOWNSHIP|WATER_USER|INSPECTOR|PUBLIC)\b"
    r"|\brole\s*(==|!=|\bin\b|\bnot in\b)"
)
HTML_ROLE = re.compile(r"\brole(\.value)?\s*(==|!=|\bin\b)|\brole\.value\b|is_superuser")

#: The places that may name roles, and why. Each selects data by a stored role or builds
#: accounts; none decides whether a request may see or do something.
ALLOWED = {
    "core/roles.py": "defines the roles and role_of",
    "core/models.py": "User.clean: a township officer needs a township, a water user a user",
    "core/api.py": "/api/me reports the caller's role",
    "core/context_processors.py": "the role's label in the page header",
    "notifications/service.py": "recipients of a notice by their stored role",
    "notifications/models.py": "the roles a notification rule may address",
    "maintenance/services.py": "the users a ticket may be assigned to",
    "registry/demo/accounts.py": "demo accounts",
    "monitoring/demo.py": "the demo's bureau account",
}


def _offenders() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted(SRC.rglob("*")):
        if "migrations" in path.parts or path.suffix not in (".py", ".html"):
            continue
        rel = path.relative_to(SRC).as_posix()
        if path.name == "policies.py":  # each app's declarations
            continue
        pattern = PY_ROLE if path.suffix == ".py" else HTML_ROLE
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line):
                found.setdefault(rel, []).append(f"{rel}:{n}: {line.strip()}")
    return found


def test_no_role_comparison_outside_the_registry() -> None:
    """Views, API operations, reports, forms, services and templates ask the registry
    (``allowed``, ``can``, ``visible_to``, ``perms_of``); a role comparison anywhere else
    fails here, unless it is in :data:`ALLOWED` (data selection, not access)."""
    found = _offenders()
    outside = [hit for rel, hits in found.items() if rel not in ALLOWED for hit in hits]
    assert outside == []
    # The allowlist stays honest: an entry that no longer names a role is removed.
    assert sorted(set(ALLOWED) - set(found)) == []


def test_the_scan_finds_a_role_comparison() -> None:
    assert PY_ROLE.search("if role_of(request.user) == Role.BUREAU:")
    assert PY_ROLE.search("    if user.role == 'bureau':")
    assert HTML_ROLE.search("{% if role == 'bureau' %}")
    assert HTML_ROLE.search("{% if role.value in 'bureau township' %}")
    assert not HTML_ROLE.search("{{ role.label }}")
    assert not PY_ROLE.search('        "role": str,')


def test_every_aquifer_model_has_a_policy() -> None:
    """Deny by default holds anyway, but a model's access is declared, not left implicit: a
    new model without a ``model_policy`` in its app's policies.py fails here."""
    missing = [
        m._meta.label_lower
        for m in apps.get_models()
        if m.__module__.startswith("aquifer.") and policy_of(m._meta.label_lower) is None
    ]
    assert missing == []


def test_every_scoped_model_gives_the_bureau_everything() -> None:
    for m in apps.get_models():
        policy = policy_of(m._meta.label_lower)
        if policy is not None and hasattr(m, "scope"):
            assert {"view", "add", "change", "delete", HISTORY} <= set(policy.actions)
            assert Role.BUREAU in policy.roles("view"), m


def test_history_is_not_for_the_public(world: Any) -> None:
    """The public reads zones but not who in the bureau changed them; a township officer
    reads the history of its own township's wells, not of another's."""
    zone, public, officer = world.zone, world.accounts["public"], world.accounts["township"]
    assert can(public, "view", zone) and not can_see_history(public, zone)
    assert can_see_history(officer, zone)
    assert can_see_history(officer, world.well_a) and not can_see_history(officer, world.well_b)
    from aquifer.registry.models import Well

    assert list(visible_to(officer, HISTORY, Well)) == [world.well_a]
    assert not visible_to(public, HISTORY, Well).exists()


@pytest.mark.parametrize(
    ("role", "route", "on_object", "expected"),
    [
        # A list the role has no rule for at all: refused before the code runs.
        ("public", "well_list", False, False),
        ("water_user", "audit_list", False, False),
        # A filtered list: passes (the rows are the role's own).
        ("township", "well_list", False, True),
        ("water_user", "well_list", False, True),
        # One record: the view answers 404 / 403 itself.
        ("public", "well_read", True, True),
        # Capabilities.
        ("township", "security_events", False, False),
        ("bureau", "security_events", False, True),
        ("public", "maintenance_checklist", False, False),
        ("inspector", "maintenance_checklist", False, True),
        ("bureau", "rights:account", False, False),
        ("water_user", "rights:account", False, True),
        # An unlinked route passes the gate (the matrix test fails for it instead).
        ("public", "no-such-route", False, True),
    ],
)
def test_route_gate(world: Any, role: str, route: str, on_object: bool, expected: bool) -> None:
    get_resolver().url_patterns  # noqa: B018 - the API links its CRUD routes when it loads
    assert route_allows(world.accounts[role], route, on_object) is expected


def test_the_registry_refuses_what_is_not_declared(world: Any) -> None:
    bureau, officer = world.accounts["bureau"], world.accounts["township"]
    assert registry.get("no.such.capability") is None
    from aquifer.core.policies import allowed

    assert allowed(bureau, "no.such.capability")
    assert not allowed(officer, "no.such.capability")
    assert not can(officer, "no_such_action", world.well_a)
