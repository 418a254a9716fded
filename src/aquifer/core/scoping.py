"""Where a record belongs, and the questions views ask (NetBox's RestrictedQuerySet pattern).

Every queryset that a view, an API endpoint or an export uses comes from :func:`visible_to`;
one record is checked with :func:`can` / :func:`require`. The answers come from the policy
registry (:mod:`aquifer.core.policies`; each app declares its rules in its ``policies.py``).
Deny by default: a model without a policy is the bureau's alone.

A model says how it belongs to a township and to a water user::

    class Well(models.Model):
        scope = Scope(township="township_id", owner="owner_id")

``township`` and ``owner`` are ORM lookups (``"well__township_id"`` follows relations) that end
in the id of the record's township and of the water user who owns it. ``shared=True`` marks
county-wide reference data (townships, zones) that every signed-in role reads and only the
bureau changes; ``public=True`` lets the public read it too. A policy's rules
(``OWN_TOWNSHIP``, ``OWN``) follow these paths; :func:`aquifer.core.policies.standard_rules`
turns a Scope into the default table (docs/architecture.md, "Roles and scoping").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import Http404
from django.utils.translation import gettext as _

from aquifer.core.policies import HISTORY, allowed, registry, resolve, rule_for
from aquifer.core.roles import Action

__all__ = [
    "Scope",
    "allowed",
    "allowed_actions",
    "can",
    "can_see_history",
    "require",
    "require_any",
    "township_id_of",
    "visible_record",
    "visible_to",
]

M = TypeVar("M", bound=models.Model)


@dataclass(frozen=True)
class Scope:
    township: str | None = None
    owner: str | None = None
    shared: bool = False
    public: bool = False


_BUREAU_ONLY = Scope()


def scope_of(model: type[models.Model]) -> Scope:
    return getattr(model, "scope", _BUREAU_ONLY)


def township_id_of(instance: models.Model) -> int | None:
    """The id of the township a record belongs to, following its scope path."""
    path = scope_of(type(instance)).township
    return resolve(instance, path) if path else None


def visible_to(
    user: Any, action: str, model_or_qs: type[M] | models.QuerySet[M]
) -> models.QuerySet[M]:
    """The rows of a model (or of a queryset) on which ``user`` may perform ``action``."""
    if isinstance(model_or_qs, models.QuerySet):
        qs, model = model_or_qs, model_or_qs.model
    else:
        qs, model = model_or_qs._default_manager.all(), model_or_qs
    rule = rule_for(user, action, model).q(user, model)
    if rule is True:
        return qs
    if rule is False:
        return qs.none()
    return qs.filter(rule)


def can(user: Any, action: str, obj: models.Model | type[models.Model]) -> bool:
    """Whether ``user`` may perform ``action`` on ``obj``.

    ``obj`` may be unsaved (a record about to be created): the rule is evaluated on its
    attributes, so a township officer cannot create a well that lies in another township.
    Given a model class, answers whether the action is possible on any row of it.
    """
    model = obj if isinstance(obj, type) else type(obj)
    rule = rule_for(user, action, model)
    if isinstance(obj, type):
        return rule.q(user, model) is not False
    return rule.test(user, obj)


def can_see_history(user: Any, obj: models.Model) -> bool:
    """Whether ``user`` may read a record's audit trail: the ``history`` action of its policy
    (by default: signed in and the record visible; :func:`aquifer.core.policies.history_rules`).
    The public sees zones and townships, but not who in the bureau changed them."""
    return can(user, HISTORY, obj)


def allowed_actions(user: Any, obj: models.Model | type[models.Model]) -> set[str]:
    """Every action of the object's policy (view, add, change, delete and the named ones)
    that ``user`` may perform on it."""
    model = obj if isinstance(obj, type) else type(obj)
    actions = set(registry.for_model(model).actions) | {str(a) for a in Action}
    return {a for a in actions if can(user, a, obj)}


def require(user: Any, action: str, obj: models.Model) -> None:
    """Raise 404 when ``obj`` is out of the user's sight, 403 when visible but not allowed."""
    if action != Action.VIEW and obj.pk is not None and not can(user, Action.VIEW, obj):
        raise Http404
    if not can(user, action, obj):
        if action == Action.VIEW:
            raise Http404
        raise PermissionDenied(_("您的角色无权对此记录执行该操作。"))


def require_any(user: Any, action: str, model: type[models.Model], message: str = "") -> None:
    """Refuse a list (403; an anonymous visitor is asked to log in) to a role whose policy
    gives it no row of ``model`` at all. A role with a filter gets the list, maybe empty."""
    if not can(user, action, model):
        raise PermissionDenied(message or _("您的角色无权查看此类记录。"))


def visible_record(user: Any, model: type[models.Model], pk: int | None, field: str) -> Any:
    """The record ``pk`` of ``model`` that ``user`` may view, for an id given in an API body:
    None for None; a record out of sight is refused as not existing, naming ``field``
    (a 4xx, never a 404 that would tell the record exists elsewhere)."""
    if pk is None:
        return None
    obj = visible_to(user, Action.VIEW, model).filter(pk=pk).first()
    if obj is None:
        raise ValidationError({field: _("不存在编号为 %s 的记录。") % pk})
    return obj
