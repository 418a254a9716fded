"""The maintenance app's items in the main menu (core/navigation.py)."""

from django.utils.translation import gettext_lazy as _

from aquifer.core.filters import savable_list
from aquifer.core.navigation import MONITORING, register
from aquifer.maintenance.filters import TicketFilterSet

register(
    MONITORING,
    _("设备运维"),
    "maintenance:ticket_list",
    nav_key="maintenance",
    order=30,
)

savable_list(
    "maintenance:ticket_list", TicketFilterSet
)  # its filter can be saved (core.SavedFilter)
