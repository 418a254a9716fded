"""Who may do what in the registry (docs/architecture.md, "Roles and scoping")."""

from __future__ import annotations

from aquifer.core.policies import ALL, OWN_TOWNSHIP, Role, capability, model_policy, routes
from aquifer.registry.models import (
    CoverageArea,
    Device,
    MonitoringWell,
    SupplyWork,
    Township,
    WaterUser,
    Well,
    Zone,
)

for _model in (Zone, WaterUser, Well, MonitoringWell, Device, SupplyWork, CoverageArea):
    model_policy(_model)
# choose: the townships offered in a filter (a township officer works in their own).
model_policy(Township, choose={**{r: ALL for r in Role}, Role.TOWNSHIP: OWN_TOWNSHIP})

capability("registry.import", Role.BUREAU, Role.TOWNSHIP)
#: The registry's lists of wells, users, devices and monitoring wells (menu): signed in.
capability("registry.records", Role.BUREAU, Role.TOWNSHIP, Role.WATER_USER, Role.INSPECTOR)
capability("registry.map", *Role)


# The home page's figures (core/morning.py, this app's morning.py): who sees which.
capability("registry.morning_map", Role.TOWNSHIP)  # the map of its township

routes(
    {
        "registry:import": "registry.import",
        "county_map": "registry.map",  # the county map (/map/); everyone
        "map_wells": ("registry.well", "view"),
        "map_zones": ("registry.zone", "view"),
        "map_townships": ("registry.township", "view"),
    }
)
