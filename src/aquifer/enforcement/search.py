"""What the global search finds in enforcement (core/search.py): a case by its number
(``ZF2026-00042``) or title, a pollution source by its name."""

import re
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aquifer.core.scoping import visible_to
from aquifer.core.search import Hit, register
from aquifer.enforcement.models import Case, PollutionSource

_NUMBER = re.compile(rf"^{Case.NUMBER_PREFIX}(\d{{4}})-0*(\d+)$", re.I)


def cases(user: Any, q: str, limit: int) -> list[Hit]:
    m = _NUMBER.match(q.replace(" ", ""))
    where = Q(title__icontains=q) | Q(party__icontains=q)
    if m:
        where |= Q(pk=int(m.group(2)), opened_at__year=int(m.group(1)))
    rows = visible_to(user, "view", Case).filter(where).order_by("-opened_at")[:limit]
    return [
        Hit(c.number, c.title, c.get_absolute_url(), c.number.lower() == q.replace(" ", "").lower())
        for c in rows
    ]


def sources(user: Any, q: str, limit: int) -> list[Hit]:
    rows = visible_to(user, "view", PollutionSource).filter(name__icontains=q).order_by("name")
    return [Hit(s.name, s.get_kind_display(), s.get_absolute_url()) for s in rows[:limit]]


register("cases", _("执法案件"), cases, order=40)
register("pollution_sources", _("地下水污染源"), sources, order=45)
