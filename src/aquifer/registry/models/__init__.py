"""Registry models: townships, zones, water users, wells, monitoring wells and devices."""

from aquifer.registry.models.devices import Device
from aquifer.registry.models.townships import Township
from aquifer.registry.models.users import WaterUser
from aquifer.registry.models.wells import MonitoringWell, Well
from aquifer.registry.models.zones import Zone

__all__ = ["Device", "MonitoringWell", "Township", "WaterUser", "Well", "Zone"]
