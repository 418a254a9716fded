"""The permits app's items in the main menu (core/navigation.py)."""

from django.utils.translation import gettext_lazy as _

from aquifer.core.filters import savable_list
from aquifer.core.navigation import WATER, register
from aquifer.permits.filters import PermitFilterSet

register(
    WATER,
    _("取水许可"),
    "permits:permit_list",
    nav_key="permits",
    order=10,
)
register(
    WATER,
    _("分区台账"),
    "permits:zone_ledger",
    nav_key="zone-ledger",
    order=20,
)
register(WATER, _("许可规则"), "permits:rules", nav_key="permit-rules", order=90)

savable_list("permits:permit_list", PermitFilterSet)  # its filter can be saved (core.SavedFilter)
