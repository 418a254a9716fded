"""The open-data app's items in the main menu (core/navigation.py)."""

from django.utils.translation import gettext_lazy as _

from aquifer.core.navigation import PUBLIC, register

register(
    PUBLIC,
    _("上级平台转发"),
    "opendata:forwarding",
    nav_key="forwarding",
    order=30,
)
register(
    PUBLIC,
    _("数据交换"),
    "opendata:exchange",
    nav_key="exchange",
    order=40,
)
