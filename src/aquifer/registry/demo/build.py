"""The whole demo county built in one transaction, part by part, in dependency order."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.db import transaction

from aquifer.core.audit import audit_context
from aquifer.core.models import User
from aquifer.registry.demo.accounts import ACCOUNTS, build_accounts
from aquifer.registry.demo.county import DEMO_SEED, MAX_WELLS
from aquifer.registry.demo.tally import _Tally
from aquifer.registry.demo.users import build_users
from aquifer.registry.demo.wells import build_devices, build_wells
from aquifer.registry.demo.zones import build_zones
from aquifer.registry.models import Device, MonitoringWell, Township, WaterUser, Well
from aquifer.registry.spatial import county_geometry

__all__ = ["build_demo"]


def build_demo(
    wells: int = 600,
    seed: int = DEMO_SEED,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Build (or refresh) the demo county on the configured database.

    Needs the migrations applied (townships come from a data migration). Returns the number
    of records of each kind in the database afterwards, and what this run created and updated.
    """
    if not 1 <= wells <= MAX_WELLS:
        raise ValueError(f"wells must be between 1 and {MAX_WELLS}")
    say = log or (lambda _msg: None)
    started = time.perf_counter()
    tally = _Tally()
    county = county_geometry()

    with transaction.atomic(), audit_context(source="demo", reason="aquifer demo"):
        say("zones")
        zones = build_zones(tally)
        towns = {t.code: t for t in Township.objects.current()}
        say("water users")
        users = build_users(tally, seed, towns)
        say("wells")
        well_objs, plans = build_wells(tally, wells, seed, county, towns, zones, users)
        say("monitoring wells and devices")
        build_devices(tally, well_objs, plans)
        say("accounts")
        account_user = build_accounts(towns, users, well_objs)

    summary: dict[str, Any] = {
        "townships": Township.objects.current().count(),
        "zones": len(zones),
        "water_users": WaterUser.objects.count(),
        "wells": Well.objects.count(),
        "demo_wells": wells,
        "monitoring_wells": MonitoringWell.objects.count(),
        "devices": Device.objects.count(),
        "accounts": User.objects.filter(username__in=[a.username for a in ACCOUNTS]).count(),
        "water_user_account": account_user.name,
        "created": dict(tally.created),
        "updated": dict(tally.updated),
        "seconds": round(time.perf_counter() - started, 2),
    }
    return summary
