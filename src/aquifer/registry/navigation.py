"""The registry's items in the main menu (core/navigation.py)."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from aquifer.core.filters import savable_list
from aquifer.core.navigation import MONITORING, RECORDS, register
from aquifer.registry.filters import (
    DeviceFilterSet,
    MonitoringWellFilterSet,
    TownshipFilterSet,
    WaterUserFilterSet,
    WellFilterSet,
    ZoneFilterSet,
)

register(
    RECORDS,
    pgettext_lazy("plural", "取水井"),
    "registry:well_list",
    policy="registry.records",
    nav_key="wells",
    order=10,
)
register(
    RECORDS,
    pgettext_lazy("plural", "取用水户"),
    "registry:wateruser_list",
    policy="registry.records",
    nav_key="water-users",
    order=20,
)
register(
    RECORDS,
    pgettext_lazy("plural", "监测设备"),
    "registry:device_list",
    policy="registry.records",
    nav_key="devices",
    order=30,
)
register(
    MONITORING,
    pgettext_lazy("plural", "监测井"),
    "registry:monitoringwell_list",
    policy="registry.records",
    nav_key="monitoring-wells",
    order=40,
)
register(RECORDS, pgettext_lazy("plural", "分区"), "registry:zone_list", nav_key="zones", order=40)
register(
    RECORDS,
    pgettext_lazy("plural", "乡镇"),
    "registry:township_list",
    nav_key="townships",
    order=50,
)
register(RECORDS, _("导入"), "registry:import", nav_key="import", order=60)

# Lists whose filter can be saved under a name (core.SavedFilter).
savable_list("registry:well_list", WellFilterSet)
savable_list("registry:wateruser_list", WaterUserFilterSet)
savable_list("registry:device_list", DeviceFilterSet)
savable_list("registry:monitoringwell_list", MonitoringWellFilterSet)
savable_list("registry:zone_list", ZoneFilterSet)
savable_list("registry:township_list", TownshipFilterSet)
