"""The main menu, declared once: the navigation registry (docs/architecture.md, "Navigation
and search").

Core declares the groups (by task, NetBox's grouped menu is the model); each app's
``navigation.py`` registers its items there, each guarded by the policy that already guards the
page, and core imports every app's module when it starts (:func:`autodiscover`, like the policy
registry). base.html renders :func:`menu`: a group per dropdown, only the items the user's role
may open, a group without any such item left out, the current page's item and its group marked.

An app's ``navigation.py``::

    from django.utils.translation import gettext_lazy as _
    from aquifer.core.navigation import WATER, register

    register(WATER, _("取水许可"), "permits:permit_list", nav_key="permits", order=10)

An item is shown to whoever the gate of its route lets in (``core.policies.route_allows``: the
policy the route is linked to by ``routes({...})``), so an app does not declare it twice.
``policy`` narrows that for the menu only — a capability (``"registry.records"``: the public
may open the wells list, but it is not in their menu), a model action, or a predicate on the
user.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from aquifer.core.policies import allowed, route_allows

__all__ = [
    "ENFORCEMENT",
    "GOVERNANCE",
    "MONITORING",
    "PUBLIC",
    "RECORDS",
    "WATER",
    "Group",
    "Item",
    "autodiscover",
    "menu",
    "register",
    "registry",
]

Policy = str | Callable[[Any], bool] | None


@dataclass(frozen=True)
class Group:
    key: str
    label: str | Promise
    order: int


@dataclass(frozen=True)
class Item:
    group: str
    label: str | Promise
    url_name: str
    policy: Policy = None
    nav_key: str = ""
    order: int = 100

    def visible(self, user: Any) -> bool:
        if not route_allows(user, self.url_name, False):
            return False
        if self.policy is None:
            return True
        if callable(self.policy):
            return bool(self.policy(user))
        return allowed(user, self.policy)


@dataclass
class Registry:
    groups: dict[str, Group] = field(default_factory=dict)
    items: dict[str, Item] = field(default_factory=dict)  # by url name

    def group(self, key: str, label: str | Promise, order: int) -> str:
        self.groups[key] = Group(key, label, order)
        return key

    def register(self, item: Item) -> Item:
        if item.group not in self.groups:
            raise KeyError(f"navigation group {item.group!r} is not declared")
        self.items[item.url_name] = item
        return item


registry = Registry()

#: The groups, by task (the order is the header's, left to right).
MONITORING = registry.group("monitoring", _("监测"), 10)
WATER = registry.group("water", _("取水与许可"), 20)
GOVERNANCE = registry.group("governance", _("治理"), 30)
ENFORCEMENT = registry.group("enforcement", _("执法"), 40)
RECORDS = registry.group("records", _("登记"), 50)
PUBLIC = registry.group("public", _("公众与系统"), 60)


def register(
    group: str,
    label: str | Promise,
    url_name: str,
    *,
    policy: Policy = None,
    nav_key: str = "",
    order: int = 100,
) -> Item:
    """Add a menu item: ``url_name`` under ``group``, shown to whoever ``policy`` lets in."""
    return registry.register(Item(group, label, url_name, policy, nav_key or url_name, order))


@dataclass
class MenuItem:
    label: str | Promise
    url: str
    nav_key: str
    current: bool = False


@dataclass
class MenuGroup:
    key: str
    label: str | Promise
    items: list[MenuItem]
    current: bool = False


def _url(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def menu(user: Any, path: str = "", view_name: str = "") -> list[MenuGroup]:
    """The groups and items ``user`` may open, in order; the item of the page at ``path``
    (its route's ``view_name``, else the item whose URL is the longest prefix of the path —
    a record's page under its list) marked current, and its group."""
    out: list[MenuGroup] = []
    best: tuple[int, MenuItem, MenuGroup] | None = None
    for group in sorted(registry.groups.values(), key=lambda g: g.order):
        items = sorted(
            (i for i in registry.items.values() if i.group == group.key),
            key=lambda i: (i.order, i.url_name),
        )
        shown = MenuGroup(group.key, group.label, [])
        for item in items:
            url = _url(item.url_name)
            if url is None or not item.visible(user):
                continue
            entry = MenuItem(item.label, url, item.nav_key)
            shown.items.append(entry)
            if item.url_name == view_name:
                score = 10_000
            elif url != "/" and path.startswith(url):
                score = len(url)
            else:
                score = 0
            if score and (best is None or score > best[0]):
                best = (score, entry, shown)
        if shown.items:
            out.append(shown)
    if best is not None:
        best[1].current = True
        best[2].current = True
    return out


def autodiscover() -> None:
    """Import every installed app's ``navigation`` module (core's AppConfig.ready calls this)."""
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("navigation")


# ----------------------------------------------------------------------------- core's own


def _declare_core() -> None:
    register(MONITORING, _("地图"), "county_map", nav_key="map", order=0)
    register(PUBLIC, _("审计"), "audit_list", nav_key="audit", order=80)
    register(PUBLIC, _("管理后台"), "admin:index", policy="core.admin", nav_key="admin", order=90)
