"""``{% unread_count as n %}``: the signed-in user's unread inbox messages (one COUNT)."""

from __future__ import annotations

from typing import Any

from django import template

from aquifer.notifications.service import unread_count as _unread_count

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_count(context: Any) -> int:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    cache = getattr(request, "_aquifer_unread", None)
    if cache is None:
        cache = _unread_count(user)
        request._aquifer_unread = cache
    return int(cache)
