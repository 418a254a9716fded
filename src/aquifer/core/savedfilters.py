"""Saved filters (issue 20): a list's filter bar kept under a name, one place for the pages
and the API. Which lists can keep them: :func:`aquifer.core.filters.savable_list`."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import QueryDict
from django.utils.translation import gettext as _

from aquifer.core.filters import saved_query_errors
from aquifer.core.models import SavedFilter
from aquifer.core.scoping import allowed, visible_to

__all__ = ["clean_query", "for_list", "save"]

#: Keys a list's query string carries that a saved filter leaves out (the page shown).
TRANSIENT = ("page",)


def clean_query(query: str) -> str:
    """The query string without its page number, in a stable order."""
    data = QueryDict(query.lstrip("?"), mutable=True)
    for key in TRANSIENT:
        data.pop(key, None)
    for key in list(data.keys()):
        if all(v == "" for v in data.getlist(key)):
            data.pop(key)
    return data.urlencode()


def for_list(user: Any, url_name: str) -> list[SavedFilter]:
    """The saved filters of one list that ``user`` sees: their own, then those shared."""
    if not getattr(user, "is_authenticated", False):
        return []
    rows = visible_to(user, "view", SavedFilter).filter(url_name=url_name)
    return sorted(rows, key=lambda f: (f.owner_id != user.pk, f.name))


def save(
    user: Any,
    url_name: str,
    name: str,
    query: str,
    shared: bool = False,
    instance: SavedFilter | None = None,
) -> SavedFilter:
    """Create (or change ``instance``): raise ValidationError naming the field at fault."""
    name = " ".join((name or "").split())
    query = clean_query(query or "")
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = _("请填写名称。")
    elif len(name) > 60:
        errors["name"] = _("名称不能超过 60 个字符。")
    if len(query) > 1000:
        errors["query"] = _("筛选条件太长。")
    errors.update(saved_query_errors(url_name, query))
    if shared and not allowed(user, "core.share_filters"):
        errors["shared"] = _("只有水务局账户可以共享筛选。")
    taken = SavedFilter.objects.filter(owner=user.pk, url_name=url_name, name=name)
    if instance is not None:
        taken = taken.exclude(pk=instance.pk)
    if name and taken.exists():
        errors["name"] = _("该列表已有同名的筛选。")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        f = instance or SavedFilter(owner=user)
        f.url_name, f.name, f.query, f.shared = url_name, name, query, bool(shared)
        f.save()
    return f
