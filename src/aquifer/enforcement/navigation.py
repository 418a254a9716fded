"""The enforcement app's items in the main menu (core/navigation.py)."""

from django.utils.translation import gettext_lazy as _

from aquifer.core.filters import savable_list
from aquifer.core.navigation import ENFORCEMENT, register
from aquifer.enforcement.filters import CaseFilterSet

register(
    ENFORCEMENT,
    _("执法监管"),
    "enforcement:case_list",
    nav_key="enforcement",
    order=10,
)
# Pages reached only from the case list before the menu was grouped (issue 20).
register(
    ENFORCEMENT,
    _("计量合规"),
    "enforcement:metering",
    nav_key="metering",
    order=30,
)
register(
    ENFORCEMENT,
    _("地下水污染源"),
    "enforcement:source_list",
    nav_key="pollution-sources",
    order=40,
)
register(
    ENFORCEMENT,
    _("信用记录"),
    "enforcement:credit",
    nav_key="credit",
    order=50,
)

savable_list("enforcement:case_list", CaseFilterSet)  # its filter can be saved (core.SavedFilter)
