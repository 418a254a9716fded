"""``{% saved_filters as sf %}``: the saved filters of the list being shown (core.SavedFilter),
for includes/saved_filters.html."""

from typing import Any

from django import template

from aquifer.core.filters import filterset_of_list
from aquifer.core.policies import allowed
from aquifer.core.savedfilters import clean_query, for_list

register = template.Library()


@register.simple_tag(takes_context=True)
def saved_filters(context: Any) -> dict[str, Any]:
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    url_name = match.view_name if match else ""
    user = getattr(request, "user", None)
    if (
        not url_name
        or filterset_of_list(url_name) is None
        or not allowed(user, "core.saved_filters")
    ):
        return {"savable": False}
    return {
        "savable": True,
        "url_name": url_name,
        "query": clean_query(request.GET.urlencode()),
        "saved": for_list(user, url_name),
        "may_share": allowed(user, "core.share_filters"),
        "user_pk": getattr(user, "pk", None),
    }


@register.simple_tag(takes_context=True)
def is_filtered(context: Any) -> bool:
    """Whether the list is filtered (a query key besides the page, the sort and the size)."""
    request = context.get("request")
    if request is None:
        return False
    return any(v for k, v in request.GET.items() if k not in ("page", "sort", "limit"))
