"""The monitoring app's items in the main menu (core/navigation.py)."""

from django.utils.translation import gettext_lazy as _

from aquifer.core.navigation import MONITORING, register

register(
    MONITORING,
    _("告警"),
    "monitoring:alarm_list",
    nav_key="alarms",
    order=10,
)
register(
    MONITORING,
    _("设备运行"),
    "monitoring:health_map",
    nav_key="device-health",
    order=20,
)
