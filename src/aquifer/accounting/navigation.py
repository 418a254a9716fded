"""The accounting app's items in the main menu (core/navigation.py)."""

from django.utils.translation import gettext_lazy as _

from aquifer.core.navigation import WATER, register

register(WATER, _("取水量"), "accounting:withdrawals", nav_key="accounting", order=30)
register(
    WATER,
    _("水资源税"),
    "accounting:tax",
    nav_key="water-tax",
    order=40,
)
