"""The water-rights app's items in the main menu (core/navigation.py)."""

from django.utils.translation import gettext_lazy as _

from aquifer.core.navigation import WATER, register

register(WATER, _("水权交易"), "rights:market", nav_key="rights-market", order=50)
register(
    WATER,
    _("水权账户"),
    "rights:account",
    nav_key="rights-account",
    order=55,
)
register(
    WATER,
    _("交易审批"),
    "rights:approvals",
    nav_key="rights-approvals",
    order=60,
)
register(WATER, _("水权台账"), "rights:ledger", nav_key="rights-ledger", order=65)
register(
    WATER,
    _("初始水权"),
    "rights:right_list",
    nav_key="rights-certificates",
    order=70,
)
