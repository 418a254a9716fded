"""The portal's items in the main menu (core/navigation.py)."""

from django.utils.translation import gettext_lazy as _

from aquifer.core.filters import savable_list
from aquifer.core.navigation import ENFORCEMENT, PUBLIC, register
from aquifer.portal.filters import ComplaintFilterSet

register(PUBLIC, _("公众服务"), "portal:home", nav_key="portal", order=10)
register(
    ENFORCEMENT,
    _("公众举报"),
    "portal:complaint_list",
    nav_key="complaints",
    order=20,
)

savable_list(
    "portal:complaint_list", ComplaintFilterSet
)  # its filter can be saved (core.SavedFilter)
