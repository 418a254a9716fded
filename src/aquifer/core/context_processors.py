"""Template context: what the user may do, asked of the policy registry, for menus that show
only what a role may use (``{% if perms_of.permits.ledger %}``,
``{% if perms_of.permits.permitapplication.decide %}``), and the role's label."""

from typing import Any

from django.conf import settings

from aquifer.core.policies import allowed, registry
from aquifer.core.roles import role_of


class _Node:
    """``perms_of.<app>.<capability>`` → allowed; ``perms_of.<app>.<model>.<action>`` → can."""

    def __init__(self, user: Any, prefix: str) -> None:
        self._user, self._prefix = user, prefix

    def __getitem__(self, key: str) -> Any:
        name = f"{self._prefix}.{key}" if self._prefix else key
        policy = registry.get(name)
        if policy is not None and policy.model is None:
            return allowed(self._user, name)
        if self._prefix and "." in self._prefix:  # app.model.<action>
            return allowed(self._user, name)
        return _Node(self._user, name)

    def __bool__(self) -> bool:
        return allowed(self._user, self._prefix)


def role(request: Any) -> dict[str, Any]:
    user = getattr(request, "user", None)
    return {
        "role": role_of(user),
        "perms_of": _Node(user, ""),
        "AQUIFER": settings.AQUIFER,
    }
