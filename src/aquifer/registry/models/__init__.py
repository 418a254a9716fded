"""Registry models: townships, zones, water users, wells, monitoring wells and devices."""

from aquifer.registry.models.devices import Device
from aquifer.registry.models.supply import CoverageArea, SupplyWork, SupplyWorkKind
from aquifer.registry.models.townships import Township
from aquifer.registry.models.users import WaterUser
from aquifer.registry.models.wells import MonitoringWell, Well
from aquifer.registry.models.zones import Zone

__all__ = [
    "CoverageArea",
    "Device",
    "MonitoringWell",
    "SupplyWork",
    "SupplyWorkKind",
    "Township",
    "WaterUser",
    "Well",
    "Zone",
]
