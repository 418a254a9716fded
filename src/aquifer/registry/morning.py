"""The registry's part of the home page (core/morning.py): the township officer's map."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string

from aquifer.core.morning import register_panel
from aquifer.registry.models import Township
from aquifer.registry.views import map_context


def _township_map(request: Any) -> str:
    """The county map fitted to the officer's township (its wells are the officer's)."""
    township = Township.objects.filter(pk=request.user.township_id).first()
    if township is None:
        return ""
    context = {**map_context(request.user, township), "township": township}
    return render_to_string("registry/_morning_map.html", context, request=request)


register_panel(
    "registry.township_map", order=10, render=_township_map, policy="registry.morning_map"
)
