"""The morning view: the home page's figures per role, declared by the apps (issue 20, point 1).

Core knows no app above it, so the home page is a registry, filled like the policies: each
app declares its figures in its own ``morning.py``, which core's ``ready()`` imports
(:func:`autodiscover`). A figure is one number with the list behind it::

    from aquifer.core.morning import Figure, register

    def _open_alarms(user):
        n = visible_to(user, "view", Alarm).filter(closed_at=None).count()
        return Figure(n, _("未关闭告警"), url=reverse("monitoring:alarm_list"),
                      tone="bad" if n else "ok")

    register("monitoring.open_alarms", policy="monitoring.morning",
             group="alarms", order=10, compute=_open_alarms)

``compute(user)`` answers a :class:`Figure`, a list of them (one per severity, say) or None
(nothing to show for this user). Its numbers come from querysets scoped by
:func:`aquifer.core.scoping.visible_to` or the app's existing reports, so a township
officer's figures are its township's; each is a fixed number of SQL aggregates, so the page's
query count does not grow with the rows. Who sees it is a policy like any other: ``policy``
names a capability the app declares in its ``policies.py`` (``capability("monitoring.morning",
<the roles>)``), asked through :func:`aquifer.core.policies.allowed`.

A *panel* (:func:`register_panel`) is a piece of HTML instead of a number: the registry's
map of the township officer's township.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from django.urls import Resolver404, resolve
from django.utils.translation import gettext_lazy as _

from aquifer.core.policies import allowed, route_allows

__all__ = [
    "GROUPS",
    "TONES",
    "Entry",
    "Figure",
    "Panel",
    "autodiscover",
    "entries",
    "figures_for",
    "panels_for",
    "register",
    "register_panel",
]

#: A figure's tone (its colour): fine, worth a look, needs action, no judgement.
TONES = ("ok", "warn", "bad", "info")

#: The home page's sections, in order; a figure names one by key.
GROUPS: dict[str, Any] = {
    "mine": _("我的取水"),
    "alarms": _("告警"),
    "devices": _("监测设备"),
    "water": _("取水与许可"),
    "levels": _("地下水位"),
    "governance": _("压采与考核"),
    "cases": _("执法案件"),
    "public": _("公众诉求"),
}


@dataclass(frozen=True)
class Figure:
    """One number on the home page and the filtered list behind it."""

    value: Any  # an int, a float, a rate in 0…1 (unit "%"), or None when unknown
    label: str
    unit: str = ""
    url: str = ""
    tone: str = "ok"  # one of TONES
    detail: str = ""  # "vs same month last year: 1 200 m³"
    key: str = ""  # set by figures_for: "<entry key>" or "<entry key>:<n>"

    def __post_init__(self) -> None:
        if self.tone not in TONES:
            raise ValueError(f"figure {self.label}: tone {self.tone!r} is not one of {TONES}")

    @property
    def shown(self) -> str:
        """The value as printed: a rate in per cent, a float to one decimal, "—" if unknown."""
        if self.value is None:
            return "—"
        if self.unit == "%":
            return f"{self.value * 100:.1f}"
        if isinstance(self.value, float):
            return f"{self.value:,.1f}" if abs(self.value) < 1000 else f"{self.value:,.0f}"
        if isinstance(self.value, int):
            return f"{self.value:,}"
        return str(self.value)


Compute = Callable[[Any], "Figure | Sequence[Figure] | None"]


@dataclass(frozen=True)
class Entry:
    key: str
    group: str
    order: int
    compute: Compute
    policy: str

    def shown_to(self, user: Any) -> bool:
        return allowed(user, self.policy)


@dataclass(frozen=True)
class Panel:
    key: str
    order: int
    render: Callable[[Any], str]  # (request) -> HTML, "" for nothing
    policy: str


_entries: dict[str, Entry] = {}
_panels: dict[str, Panel] = {}


def register(
    key: str,
    *,
    group: str,
    order: int,
    compute: Compute,
    policy: str,
) -> Entry:
    """Declare a figure (``"app.name"``) in ``group`` (a key of :data:`GROUPS`) at ``order``,
    shown to whoever the capability ``policy`` allows. Registering a key twice replaces it (a
    module imported again in a test)."""
    if group not in GROUPS:
        raise ValueError(f"morning figure {key}: unknown group {group!r}")
    if not policy:
        raise ValueError(f"morning figure {key}: name the policy that shows it")
    entry = Entry(key, group, order, compute, policy)
    _entries[key] = entry
    return entry


def register_panel(key: str, *, order: int, render: Callable[[Any], str], policy: str) -> Panel:
    """Declare a panel of HTML below the figures, shown to whoever the capability ``policy``
    allows: ``render(request)`` answers it ("" for none)."""
    panel = Panel(key, order, render, policy)
    _panels[key] = panel
    return panel


def entries() -> list[Entry]:
    return sorted(_entries.values(), key=lambda e: (list(GROUPS).index(e.group), e.order, e.key))


def figures_for(user: Any) -> list[tuple[str, Any, list[Figure]]]:
    """The figures ``user`` sees: ``[(group key, group label, [Figure…])]``, groups in order,
    empty groups left out."""
    grouped: dict[str, list[Figure]] = {}
    for entry in entries():
        if not entry.shown_to(user):
            continue
        result = entry.compute(user)
        if result is None:
            continue
        many = [result] if isinstance(result, Figure) else list(result)
        keyed = [
            _reachable(user, _with_key(f, entry.key if len(many) == 1 else f"{entry.key}:{i}"))
            for i, f in enumerate(many)
        ]
        grouped.setdefault(entry.group, []).extend(keyed)
    return [(g, GROUPS[g], grouped[g]) for g in GROUPS if grouped.get(g)]


def _reachable(user: Any, f: Figure) -> Figure:
    """The figure without its link when the gate would refuse ``user`` the list behind it
    (a water user's withdrawal of the month: its number, but no county withdrawal page)."""
    if not f.url:
        return f
    try:
        match = resolve(urlsplit(f.url).path)
    except Resolver404:
        return replace(f, url="")
    if route_allows(user, match.view_name, bool(match.kwargs)):
        return f
    return replace(f, url="")


def _with_key(f: Figure, key: str) -> Figure:
    return f if f.key else Figure(f.value, f.label, f.unit, f.url, f.tone, f.detail, key)


def panels_for(request: Any) -> list[str]:
    out = []
    for panel in sorted(_panels.values(), key=lambda p: (p.order, p.key)):
        if allowed(request.user, panel.policy) and (html := panel.render(request)):
            out.append(html)
    return out


def autodiscover() -> None:
    """Import every installed app's ``morning`` module (core's AppConfig.ready calls this)."""
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("morning")
