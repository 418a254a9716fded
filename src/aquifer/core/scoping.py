"""One place that decides who may read and change what (NetBox's RestrictedQuerySet pattern).

Every queryset that a view, an API endpoint or an export uses comes from :func:`visible_to`.
Deny by default: a model without a :class:`Scope` is visible to the bureau only.

A model says how it belongs to a township and to a water user::

    class Well(models.Model):
        scope = Scope(township="township_id", owner="owner_id")

``township`` and ``owner`` are ORM lookups (``"well__township_id"`` follows relations) that end
in the id of the record's township and of the water user who owns it. ``shared=True`` marks
county-wide reference data (townships, zones) that every signed-in role reads and only the
bureau changes; ``public=True`` lets the public read it too.

The rules (DESIGN.md, "Who uses it"):

============  ===================================  =================================
role          view                                 add / change / delete
============  ===================================  =================================
bureau        everything                           everything
township      own township; shared data            add, change in own township
inspector     everything (county-wide casework)    nothing in the registry
water user    own records; shared data             nothing in the registry
public        public data                          nothing
============  ===================================  =================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404
from django.utils.translation import gettext as _

from aquifer.core.roles import Action, Role, role_of

__all__ = [
    "Scope",
    "allowed_actions",
    "can",
    "can_see_history",
    "require",
    "township_id_of",
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


def _resolve(instance: Any, path: str) -> Any:
    value = instance
    for part in path.split("__"):
        if value is None:
            return None
        value = getattr(value, part)
    return value


def township_id_of(instance: models.Model) -> int | None:
    """The id of the township a record belongs to, following its scope path."""
    path = scope_of(type(instance)).township
    return _resolve(instance, path) if path else None


def _q_township(scope: Scope, township_id: int | None) -> models.Q | None:
    if not scope.township or township_id is None:
        return None
    return models.Q(**{scope.township: township_id})


def _q_owner(scope: Scope, water_user_id: int | None) -> models.Q | None:
    if not scope.owner or water_user_id is None:
        return None
    return models.Q(**{scope.owner: water_user_id})


def _rule(user: Any, action: str, model: type[models.Model]) -> models.Q | bool:
    """True: all rows; False: none; a Q: the rows it matches."""
    scope = scope_of(model)
    role = role_of(user)
    if role == Role.BUREAU:
        return True
    if action == Action.VIEW:
        if scope.public:
            return True
        if role == Role.PUBLIC:
            return False
        if scope.shared:
            return True
        if role == Role.INSPECTOR:
            # County-wide casework: everything that belongs to a township or a water user;
            # not what is the bureau's alone (a model with an empty Scope).
            return scope.township is not None or scope.owner is not None
        if role == Role.TOWNSHIP:
            return _q_township(scope, user.township_id) or False
        if role == Role.WATER_USER:
            return _q_owner(scope, user.water_user_id) or False
        return False
    if role == Role.TOWNSHIP and action in (Action.ADD, Action.CHANGE) and not scope.shared:
        return _q_township(scope, user.township_id) or False
    return False


def visible_to(
    user: Any, action: str, model_or_qs: type[M] | models.QuerySet[M]
) -> models.QuerySet[M]:
    """The rows of a model (or of a queryset) on which ``user`` may perform ``action``."""
    if isinstance(model_or_qs, models.QuerySet):
        qs, model = model_or_qs, model_or_qs.model
    else:
        qs, model = model_or_qs._default_manager.all(), model_or_qs
    rule = _rule(user, action, model)
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
    rule = _rule(user, action, model)
    if isinstance(rule, bool):
        return rule
    if isinstance(obj, type):
        return True
    scope = scope_of(model)
    role = role_of(user)
    if role == Role.TOWNSHIP:
        return scope.township is not None and _resolve(obj, scope.township) == user.township_id
    if role == Role.WATER_USER:
        return scope.owner is not None and _resolve(obj, scope.owner) == user.water_user_id
    return False


def can_see_history(user: Any, obj: models.Model) -> bool:
    """Whether ``user`` may read a record's audit trail: anyone signed in who can see the
    record. The public sees zones and townships, but not who in the bureau changed them."""
    return role_of(user) != Role.PUBLIC and can(user, Action.VIEW, obj)


def allowed_actions(user: Any, obj: models.Model | type[models.Model]) -> set[str]:
    return {a for a in (Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE) if can(user, a, obj)}


def require(user: Any, action: str, obj: models.Model) -> None:
    """Raise 404 when ``obj`` is out of the user's sight, 403 when visible but not allowed."""
    if action != Action.VIEW and obj.pk is not None and not can(user, Action.VIEW, obj):
        raise Http404
    if not can(user, action, obj):
        if action == Action.VIEW:
            raise Http404
        raise PermissionDenied(_("您的角色无权对此记录执行该操作。"))
