"""The supervision app's items in the main menu (core/navigation.py)."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from aquifer.core.filters import savable_list
from aquifer.core.navigation import GOVERNANCE, register
from aquifer.core.policies import allowed
from aquifer.supervision.filters import OrderFilterSet


def _orders_only(user: Any) -> bool:
    """A role that works rectification orders but not the bureau's index (township)."""
    return allowed(user, "supervision.orders") and not allowed(user, "supervision.staff")


register(
    GOVERNANCE,
    _("考核督查"),
    "supervision:index",
    nav_key="supervision",
    order=20,
)
register(
    GOVERNANCE,
    _("督查整改"),
    "supervision:inspection_list",
    policy=_orders_only,
    nav_key="supervision",
    order=30,
)

savable_list(
    "supervision:inspection_list", OrderFilterSet
)  # its filter can be saved (core.SavedFilter)
