"""Who may do what in the closure programme (docs/closure.md, "Roles")."""

from __future__ import annotations

from aquifer.closure.models import (
    ClosureEntry,
    Inspection,
    MeteoSeries,
    MeteoValue,
    ReductionTarget,
    TownshipAllowance,
    ZoneRecharge,
)
from aquifer.core.policies import (
    ALL,
    OWN_TOWNSHIP,
    SIGNED_IN,
    STAFF,
    Role,
    capability,
    model_policy,
    routes,
)

# inspect: record an inspection on site (the bureau, inspectors, the township's officers);
# verify: close the case on the evidence (the bureau and inspectors).
model_policy(
    ClosureEntry,
    inspect={Role.BUREAU: ALL, Role.INSPECTOR: ALL, Role.TOWNSHIP: OWN_TOWNSHIP},
    verify={Role.BUREAU: ALL, Role.INSPECTOR: ALL},
)
# change: attach its photos and signature files (who may inspect the entry).
model_policy(
    Inspection, change={Role.BUREAU: ALL, Role.INSPECTOR: ALL, Role.TOWNSHIP: OWN_TOWNSHIP}
)
model_policy(ReductionTarget)
model_policy(ZoneRecharge)
model_policy(TownshipAllowance)
model_policy(MeteoSeries)
model_policy(MeteoValue)  # the daily values: as their series

#: The programme's entries (scoped: a water user sees their own wells'): every signed-in role.
capability("closure.use", *SIGNED_IN)
#: The programme's pages, figures and exports: the government's people.
capability("closure.view", *STAFF)
#: Candidates, enrolment, supply works and targets: the bureau.
capability("closure.manage", Role.BUREAU)


# The home page's figures (core/morning.py, this app's morning.py): who sees which.
capability("closure.morning", Role.BUREAU, Role.TOWNSHIP)  # closure progress

routes(
    {
        "closure:index": "closure.view",
        "closure:map": "closure.view",
        "closure:map_data": "closure.view",
        "closure:candidates": "closure.manage",
        "closure:progress": "closure.view",
        "closure:balance": "closure.view",
        "closure:recovery": "closure.view",
        "closure:attribution": "closure.view",
        "closure:meteo": "closure.view",
        "closure:supply": "closure.view",
        "closure:supply_import": "closure.manage",
        "closure:entry_detail": ("closure.closureentry", "view"),
        "closure:entry_act": ("closure.closureentry", "change"),
        "closure:export": "closure.view",
        "closure_entries": ("closure.closureentry", "view"),
        "closure_entries_export": ("closure.closureentry", "view"),
        "closure_entry": ("closure.closureentry", "view"),
        "closure_enrol": "closure.manage",
        "closure_advance": ("closure.closureentry", "change"),
        "closure_inspect": ("closure.closureentry", "inspect"),
        "closure_inspection_file": ("closure.inspection", "change"),
        "closure_candidates": "closure.manage",
        "closure_progress": "closure.view",
        "closure_balance": "closure.view",
        "closure_recovery": "closure.view",
        "closure_attribution": "closure.view",
        "closure_meteo_import": "closure.manage",
        "closure_by_township": "closure.view",
        "closure_coverage": "closure.view",
        "closure_coverage_import": "closure.manage",
    }
)
