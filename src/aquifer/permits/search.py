"""What the global search finds among permits (core/search.py): a permit by its number."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from aquifer.core.scoping import visible_to
from aquifer.core.search import Hit, register
from aquifer.permits.models import Permit


def permits(user: Any, q: str, limit: int) -> list[Hit]:
    rows = (
        visible_to(user, "view", Permit)
        .filter(number__icontains=q)
        .select_related("holder")
        .order_by("number")[:limit]
    )
    return [
        Hit(
            p.number or "",
            str(p.holder),
            p.get_absolute_url(),
            (p.number or "").lower() == q.lower(),
        )
        for p in rows
    ]


register("permits", _("取水许可"), permits, order=30)
