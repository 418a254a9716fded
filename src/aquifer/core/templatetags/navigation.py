"""``{% main_menu as menu_groups %}``: the main menu for the request's user (core/navigation.py)."""

from typing import Any

from django import template

from aquifer.core.navigation import MenuGroup, menu

register = template.Library()


@register.simple_tag(takes_context=True)
def main_menu(context: Any) -> list[MenuGroup]:
    request = context.get("request")
    if request is None:
        return []
    match = getattr(request, "resolver_match", None)
    return menu(request.user, request.path, match.view_name if match else "")
