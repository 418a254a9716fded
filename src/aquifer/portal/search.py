"""What the global search finds in the portal (core/search.py): a complaint by its number
(staff of its township), a published well by its code (everyone, the public included)."""

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aquifer.core.scoping import allowed, visible_to
from aquifer.core.search import Hit, register
from aquifer.portal.models import Complaint, WellSnapshot


def complaints(user: Any, q: str, limit: int) -> list[Hit]:
    rows = visible_to(user, "view", Complaint).filter(number__iexact=q)[:limit]
    return [Hit(c.number, c.get_category_display(), c.get_absolute_url(), True) for c in rows]


def published_wells(user: Any, q: str, limit: int) -> list[Hit]:
    """The portal's well pages: for the public only (staff find the registry's own record)."""
    if not allowed(user, "portal.search_published"):
        return []
    rows = (
        visible_to(user, "view", WellSnapshot)
        .filter(Q(code__istartswith=q) | Q(name__icontains=q))
        .order_by("code")[:limit]
    )
    return [Hit(w.code, w.name, w.get_absolute_url(), w.code.lower() == q.lower()) for w in rows]


register("complaints", _("公众举报"), complaints, order=50)
register("published_wells", _("公开的监测井"), published_wells, order=60)
