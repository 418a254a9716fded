"""Who may do what, declared once: the policy registry (docs/architecture.md, "Roles and scoping").

Each app declares its policies in its own ``policies.py``; core imports every app's module when
it starts (:func:`autodiscover`, like the admin's ``autodiscover_modules``). A policy is either

* a **model policy** — per action (``view``, ``add``, ``change``, ``delete`` and the app's
  named actions: ``decide``, ``acknowledge`` …) and per role, a :class:`Rule` that gives the
  rows as a queryset filter and answers the same question for one instance; or
* a **capability** — a page, report or export that is not one model (``"permits.ledger"``),
  per role allowed or not (or a predicate on the user).

Deny by default: a model without a policy is the bureau's alone; an undeclared capability
or action is denied to all but the bureau. :mod:`aquifer.core.scoping` (``visible_to``,
``can``, ``require``) and :func:`allowed` read this registry; nothing else compares roles.

An app's ``policies.py``::

    from aquifer.core.policies import ALL, OWN_TOWNSHIP, Role, capability, model_policy

    model_policy(Permit, decide={Role.BUREAU: ALL})
    capability("permits.ledger", Role.BUREAU, Role.TOWNSHIP, Role.INSPECTOR)
    routes({"permits:zone_ledger": "permits.ledger",
            "permits_decide": ("permits.permit", "decide")})
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.db.models import Q

from aquifer.core.roles import Action, Role, role_of

__all__ = [
    "ALL",
    "NONE",
    "OWN",
    "OWN_TOWNSHIP",
    "SIGNED_IN",
    "STAFF",
    "Policy",
    "Role",
    "Rule",
    "allowed",
    "autodiscover",
    "capability",
    "extend",
    "model_policy",
    "policy_of",
    "registry",
    "route_allows",
    "route_policy",
    "routes",
    "when",
]

#: Every role that signs in (the public's accounts and anonymous visitors are ``PUBLIC``).
SIGNED_IN = (Role.BUREAU, Role.TOWNSHIP, Role.WATER_USER, Role.INSPECTOR)
#: The government's people: bureau, township officers, inspectors.
STAFF = (Role.BUREAU, Role.TOWNSHIP, Role.INSPECTOR)


def resolve(instance: Any, path: str) -> Any:
    """Follow an ORM lookup path (``"well__township_id"``) on an instance."""
    value = instance
    for part in path.split("__"):
        if value is None:
            return None
        value = getattr(value, part)
    return value


class Rule(ABC):
    """Which rows a role may act on: :meth:`q` for querysets, :meth:`test` for one record.

    ``q`` answers True (all rows), False (none) or a ``Q``; ``test`` the same for an instance
    (which may be unsaved, so a record about to be created is judged by its attributes)."""

    @abstractmethod
    def q(self, user: Any, model: type[models.Model]) -> models.Q | bool: ...

    @abstractmethod
    def test(self, user: Any, obj: Any) -> bool: ...

    def __or__(self, other: Rule) -> Rule:
        return _AnyOf((self, other))


@dataclass(frozen=True)
class _Const(Rule):
    value: bool

    def q(self, user: Any, model: type[models.Model]) -> bool:
        return self.value

    def test(self, user: Any, obj: Any) -> bool:
        return self.value


ALL: Rule = _Const(True)
NONE: Rule = _Const(False)


@dataclass(frozen=True)
class _Path(Rule):
    """Rows whose ``path`` (default: the model's Scope path) equals the user's ``attr``."""

    scope_field: str  # "township" or "owner"
    user_attr: str  # "township_id" or "water_user_id"
    path: str | None = None

    def _path(self, model: type[models.Model]) -> str | None:
        from aquifer.core.scoping import scope_of

        return self.path or getattr(scope_of(model), self.scope_field)

    def q(self, user: Any, model: type[models.Model]) -> models.Q | bool:
        path, value = self._path(model), getattr(user, self.user_attr, None)
        if not path or value is None:
            return False
        return models.Q(**{path: value})

    def test(self, user: Any, obj: Any) -> bool:
        path, value = self._path(type(obj)), getattr(user, self.user_attr, None)
        return bool(path) and value is not None and resolve(obj, str(path)) == value


def own_township(path: str | None = None) -> Rule:
    """Rows of the user's township (the model's ``Scope.township`` path unless given)."""
    return _Path("township", "township_id", path)


def own(path: str | None = None) -> Rule:
    """Rows of the user's water user (the model's ``Scope.owner`` path unless given)."""
    return _Path("owner", "water_user_id", path)


OWN_TOWNSHIP: Rule = own_township()
OWN: Rule = own()


@dataclass(frozen=True)
class _When(Rule):
    """A rule on the user alone (``user_test``), optionally with a row filter and test."""

    user_test: Callable[[Any], bool]
    row_q: Callable[[Any], models.Q] | None = None
    row_test: Callable[[Any, Any], bool] | None = None

    def q(self, user: Any, model: type[models.Model]) -> models.Q | bool:
        if not self.user_test(user):
            return False
        return self.row_q(user) if self.row_q else True

    def test(self, user: Any, obj: Any) -> bool:
        if not self.user_test(user):
            return False
        return self.row_test(user, obj) if self.row_test else True


def when(
    user_test: Callable[[Any], bool],
    row_q: Callable[[Any], models.Q] | None = None,
    row_test: Callable[[Any, Any], bool] | None = None,
) -> Rule:
    """A predicate: ``user_test(user)``, and for rows ``row_q(user)`` / ``row_test(user, obj)``."""
    return _When(user_test, row_q, row_test)


@dataclass(frozen=True)
class _AnyOf(Rule):
    rules: tuple[Rule, ...]

    def q(self, user: Any, model: type[models.Model]) -> models.Q | bool:
        out: models.Q | None = None
        for r in self.rules:
            q = r.q(user, model)
            if q is True:
                return True
            if q is False:
                continue
            out = q if out is None else out | q
        return out if out is not None else False

    def test(self, user: Any, obj: Any) -> bool:
        return any(r.test(user, obj) for r in self.rules)


#: Per role (``Role.BUREAU`` or ``"bureau"``): a Rule, or True / False for ALL / NONE.
RoleRules = Mapping[Role, Rule | bool] | Mapping[str, Rule | bool]


@dataclass
class Policy:
    """What each role may do, per action, on a model (``model`` set) or a capability."""

    name: str
    model: type[models.Model] | None = None
    actions: dict[str, dict[Role, Rule]] = field(default_factory=dict)

    def rule(self, role: Role, action: str) -> Rule:
        """Deny by default: an action or role not declared gets NONE."""
        return self.actions.get(str(action), {}).get(role, NONE)

    def roles(self, action: str) -> set[Role]:
        return {r for r, rule in self.actions.get(str(action), {}).items() if rule is not NONE}


def _normalise(rules: RoleRules) -> dict[Role, Rule]:
    out: dict[Role, Rule] = {}
    for role, rule in rules.items():
        out[Role(role)] = (ALL if rule else NONE) if isinstance(rule, bool) else rule
    return out


def standard_rules(model: type[models.Model]) -> dict[str, dict[Role, Rule]]:
    """The registry's default for a model with a ``Scope`` (see :mod:`aquifer.core.scoping`).

    view: bureau all; inspector all that belongs to a township or water user; township its
    own township; water user its own records; shared data every signed-in role; public data
    everyone. add/change: bureau; township in its own township (not shared data). delete:
    the bureau."""
    from aquifer.core.scoping import scope_of

    s = scope_of(model)
    view: dict[Role, Rule] = {Role.BUREAU: ALL}
    if s.public:
        view.update({r: ALL for r in Role})
    elif s.shared:
        view.update({r: ALL for r in SIGNED_IN})
    else:
        if s.township or s.owner:
            view[Role.INSPECTOR] = ALL
        if s.township:
            view[Role.TOWNSHIP] = OWN_TOWNSHIP
        if s.owner:
            view[Role.WATER_USER] = OWN
    edit: dict[Role, Rule] = {Role.BUREAU: ALL}
    if s.township and not s.shared:
        edit[Role.TOWNSHIP] = OWN_TOWNSHIP
    return {
        Action.VIEW: view,
        HISTORY: history_rules(view),
        Action.ADD: dict(edit),
        Action.CHANGE: dict(edit),
        Action.DELETE: {Role.BUREAU: ALL},
    }


_BUREAU_ONLY = {Role.BUREAU: ALL}


#: A record's audit trail: whoever signed in may see the record (the public sees zones and
#: townships, but not who in the bureau changed them).
HISTORY = "history"


def history_rules(view: Mapping[Role, Rule]) -> dict[Role, Rule]:
    """The ``history`` action from a ``view`` table: the same rows, for every role but the
    public (accounts and anonymous visitors alike)."""
    return {role: rule for role, rule in view.items() if role != Role.PUBLIC and rule is not NONE}


class Registry:
    def __init__(self) -> None:
        self.policies: dict[str, Policy] = {}
        self.route_map: dict[str, tuple[str, str]] = {}

    def model(self, model: type[models.Model], **actions: RoleRules) -> Policy:
        name = model._meta.label_lower
        table = standard_rules(model)
        table.update({a: _normalise(r) for a, r in actions.items()})
        if "view" in actions and HISTORY not in actions:
            table[HISTORY] = history_rules(table[Action.VIEW])
        self.policies[name] = Policy(name, model, table)
        return self.policies[name]

    def capability(self, name: str, rules: RoleRules) -> Policy:
        self.policies[name] = Policy(name, None, {"use": _normalise(rules)})
        return self.policies[name]

    def get(self, name: str) -> Policy | None:
        return self.policies.get(name)

    def for_model(self, model: type[models.Model]) -> Policy:
        name = model._meta.label_lower
        default = {a: _BUREAU_ONLY for a in [*Action, HISTORY]}
        return self.policies.get(name) or Policy(name, model, default)


registry = Registry()


def model_policy(model: type[models.Model], **actions: RoleRules) -> Policy:
    """Declare ``model``'s policy: the standard view/add/change/delete rules of its Scope,
    with ``actions`` (``decide={Role.BUREAU: ALL}``; also ``view=…`` to override) on top."""
    return registry.model(model, **actions)


def extend(model: type[models.Model], **actions: RoleRules) -> Policy:
    """Add named actions to a lower app's model policy (the permits app's ``apply`` on a
    registry record, say). The model's own app declares its policy; apps load lowest first."""
    policy = registry.policies.get(model._meta.label_lower) or registry.model(model)
    policy.actions.update({a: _normalise(r) for a, r in actions.items()})
    return policy


def capability(name: str, *roles: Role, **rules: Rule | bool) -> Policy:
    """Declare a named capability (``"app.thing"``) allowed to ``roles`` (and to the roles
    named in ``rules`` when their Rule's user test passes: ``township=when(…)``)."""
    table: dict[str, Rule | bool] = {r: ALL for r in roles}
    table.update(rules)
    return registry.capability(name, table)


def routes(mapping: Mapping[str, str | tuple[str, str]]) -> None:
    """Link URL names (``"permits:zone_ledger"``) and API operation ids to the policy that
    guards them: a capability name, or ``(model label, action)``. The policy matrix test
    reads this and fails for a route nobody linked."""
    for route, target in mapping.items():
        registry.route_map[route] = (target, "use") if isinstance(target, str) else target


def route_policy(route: str) -> tuple[str, str] | None:
    return registry.route_map.get(route)


def route_allows(user: Any, route: str, on_object: bool) -> bool:
    """The gate's answer before a route's code runs (the page middleware and the API ask it).

    A capability is asked as is. A model action on a route without a record in its path (a
    list, a create) is refused to a role with no rule for it at all; a role with a row filter
    passes and gets its rows (maybe none). A route on one record (``on_object``) passes: its
    view answers 404 out of sight, 403 visible but not allowed (:func:`scoping.require`).
    An unlinked route passes here; the policy matrix test fails for it."""
    linked = route_policy(route)
    if linked is None:
        return True
    target, action = linked
    policy = registry.get(target)
    if policy is None:
        return role_of(user) == Role.BUREAU
    if policy.model is None:
        return allowed(user, target)
    if on_object:
        return True
    return (
        registry.for_model(policy.model).rule(role_of(user), action).q(user, policy.model)
        is not False
    )


def policy_of(name: str) -> Policy | None:
    return registry.get(name)


def rule_for(user: Any, action: str, model: type[models.Model]) -> Rule:
    return registry.for_model(model).rule(role_of(user), action)


def allowed(user: Any, name: str, obj: Any = None) -> bool:
    """Whether ``user`` may use the capability ``name`` (the bureau alone if undeclared).

    ``name`` may also be ``"app.model.action"``: then the question is
    :func:`aquifer.core.scoping.can` on ``obj`` (or on the model: on any row of it)."""
    role = role_of(user)
    policy = registry.get(name)
    if policy is None or policy.model is not None:
        app, _, rest = name.partition(".")
        model_name, _, action = rest.rpartition(".")
        target = registry.get(f"{app}.{model_name}")
        if target is not None and target.model is not None and action:
            from aquifer.core.scoping import can

            return can(user, action, obj if obj is not None else target.model)
        return role == Role.BUREAU
    rule = policy.rule(role, "use")
    return rule.test(user, obj)


def autodiscover() -> None:
    """Import every installed app's ``policies`` module (core's AppConfig.ready calls this)."""
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("policies")


# ----------------------------------------------------------------------------- core's own
# (core's policies.py is the registry itself, so its declarations sit here.)


def _declare_core() -> None:
    from aquifer.core.models import ApiToken, Attachment, AuditEntry, JobState, SavedFilter, User

    # The trail of changes: a filtered list (bureau and inspectors all of it, a township
    # officer their township's entries); water users and the public none (a 403).
    model_policy(AuditEntry)
    # Accounts, API tokens (``aquifer token``) and job bookkeeping: the bureau's (the admin).
    for model in (User, ApiToken, JobState, Attachment):
        model_policy(model)
    capability("core.security", Role.BUREAU)  # logins, lockouts, refusals (?source=security)
    capability("core.audit_verify", Role.BUREAU)  # check the hash chain
    capability("core.me", *Role)  # who am I (anonymous: the public)
    capability("core.public", *Role)  # the map, the language switch, log in / out
    # The morning view (the home page's figures): the signed-in roles; the public's is the portal.
    capability("core.morning", *SIGNED_IN)
    # The global search: every role; what it finds is scoped by each record's view policy.
    capability("core.search", *Role)
    # Saved filters: each signed-in account its own; the bureau also those a bureau account
    # shared with its role. Only the owner changes or deletes one.
    mine = when(
        lambda u: bool(getattr(u, "is_authenticated", False)),
        lambda u: Q(owner=u.pk),
        lambda u, f: f.owner_id == u.pk,
    )
    bureau_shared = when(
        lambda u: bool(getattr(u, "is_authenticated", False)),
        lambda u: Q(owner=u.pk) | Q(shared=True, owner__role=Role.BUREAU),
        lambda u, f: f.owner_id == u.pk or (f.shared and f.owner.role == Role.BUREAU),
    )
    own_rules = {r: mine for r in SIGNED_IN}
    model_policy(
        SavedFilter,
        view={**own_rules, Role.BUREAU: bureau_shared},
        add=own_rules,
        change=own_rules,
        delete=own_rules,
        history=own_rules,
    )
    capability("core.saved_filters", *SIGNED_IN)
    capability("core.share_filters", Role.BUREAU)  # share a saved filter with the bureau
    # An attachment's bytes: whoever may view the record it belongs to (the view asks that
    # record's policy and answers 404 to anyone else), so every role passes the gate.
    capability("core.attachment", *Role)
    # The Django admin: staff accounts (is_staff), whatever their role.
    staff = when(lambda u: bool(getattr(u, "is_staff", False)))
    capability("core.admin", **{str(r): staff for r in Role})
    routes(
        {
            # The morning view of each role; the public (anonymous too) is sent to the portal.
            "home": "core.public",
            "set_language": "core.public",
            "login": "core.public",
            "logout": "core.public",
            "audit_list": ("core.auditentry", "view"),  # the page and the API operation
            "audit_verify": "core.audit_verify",
            "search": "core.search",  # the page and the API operation
            "saved_filter_create": "core.saved_filters",
            "saved_filter_delete": "core.saved_filters",
            "saved_filter_list": "core.saved_filters",
            "saved_filter_get": "core.saved_filters",
            "saved_filter_add": "core.saved_filters",
            "saved_filter_update": "core.saved_filters",
            "saved_filter_remove": "core.saved_filters",
            "favicon": "core.public",
            "attachment": "core.attachment",
            "core_attachment_download": "core.attachment",
            "security_events": "core.security",
            "admin:*": "core.admin",
            "me": "core.me",
            "api:openapi-json": "core.public",
            "api:openapi-view": "core.public",
            "api:api-root": "core.public",
        }
    )
