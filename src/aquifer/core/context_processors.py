"""Template context: the user's role, for menus that show only what a role may use."""

from typing import Any

from django.conf import settings

from aquifer.core.roles import Role, role_of


def role(request: Any) -> dict[str, Any]:
    r = role_of(getattr(request, "user", None))
    return {
        "role": r,
        "Role": Role,
        "is_bureau": r == Role.BUREAU,
        "AQUIFER": settings.AQUIFER,
    }
