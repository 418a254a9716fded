"""The monitoring app's items in the main menu (core/navigation.py)."""

from django.utils.translation import gettext_lazy as _

from aquifer.core.filters import savable_list
from aquifer.core.navigation import MONITORING, register
from aquifer.monitoring.filters import AlarmFilterSet

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
# The board's filters (and its view: grouped or one row per alarm) can be saved.
savable_list("monitoring:alarm_list", AlarmFilterSet, extra_keys=("group",))
