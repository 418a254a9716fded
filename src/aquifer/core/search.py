"""The global search, declared once: a registry of providers (docs/architecture.md,
"Navigation and search").

Each app's ``search.py`` registers a provider per kind of record it can find by an identifier
(a well's code or name, a permit's number, a case's number …); core imports every app's
module when it starts (:func:`autodiscover`). A provider answers ``(user, query, limit)`` with
at most ``limit`` :class:`Hit` s, drawn only from ``visible_to(user, "view", Model)`` — the
search never shows a record the user could not open — in one or two queries. A hit whose
identifier equals the query exactly is ``exact``: the search page goes straight to it when it
is the only exact hit.

An app's ``search.py``::

    from aquifer.core.search import Hit, register

    def permits(user, q, limit):
        rows = visible_to(user, "view", Permit).filter(number__icontains=q)[:limit]
        return [Hit(p.number, str(p.holder), p.get_absolute_url(), p.number.lower() == q.lower())
                for p in rows]

    register("permits", _("取水许可"), permits, order=30)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise

__all__ = ["MAX_QUERY", "PER_KIND", "Hit", "Kind", "autodiscover", "register", "search"]

#: Hits per kind of record on the page and in the API.
PER_KIND = 8
#: The longest query accepted (a 422 naming ``q`` in the API, trimmed on the page).
MAX_QUERY = 100


@dataclass(frozen=True)
class Hit:
    title: str
    detail: str
    url: str
    exact: bool = False


Provider = Callable[[Any, str, int], list[Hit]]


@dataclass(frozen=True)
class Kind:
    key: str
    label: str | Promise
    provider: Provider
    order: int = 100


@dataclass
class Results:
    kind: Kind
    hits: list[Hit] = field(default_factory=list)


_kinds: dict[str, Kind] = {}


def register(key: str, label: str | Promise, provider: Provider, *, order: int = 100) -> None:
    """Add a kind of record the search finds (``key`` unique, ``label`` its heading)."""
    _kinds[key] = Kind(key, label, provider, order)


def kinds() -> list[Kind]:
    return sorted(_kinds.values(), key=lambda k: (k.order, k.key))


def search(user: Any, query: str, limit: int = PER_KIND) -> list[Results]:
    """The hits of every kind for ``query`` (trimmed; empty: nothing), kinds without hits left
    out, each kind at most ``limit``."""
    q = " ".join(query.split())[:MAX_QUERY]
    if not q:
        return []
    out = []
    for kind in kinds():
        hits = kind.provider(user, q, limit)[:limit]
        if hits:
            out.append(Results(kind, hits))
    return out


def exact_hit(results: list[Results]) -> Hit | None:
    """The one record whose identifier is the query, if exactly one is."""
    exact = [h for r in results for h in r.hits if h.exact]
    urls = {h.url for h in exact}
    return exact[0] if len(urls) == 1 else None


def autodiscover() -> None:
    """Import every installed app's ``search`` module (core's AppConfig.ready calls this)."""
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("search")
