"""A change as the rule engine judges it (built from a permit) and the
:class:`~aquifer.permits.models.RuleDecision` that keeps each answer acted on.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from aquifer.permits.models import Permit, PermitApplication, RuleDecision
from aquifer.permits.rules import Change, ChangeKind, Decision, Source, ZoneRef
from aquifer.permits.services.common import _flags, _username
from aquifer.permits.services.state import (
    _township_code,
    permit_zone,
    public_supply_at,
    zone_ref,
)

__all__: list[str] = []


def _change_dict(change: Change) -> dict[str, Any]:
    return {
        "kind": change.kind.value,
        "permit": change.permit_id,
        "on": change.on.isoformat(),
        "source": change.source.value,
        "use_type": change.use_type,
        "volume_m3": change.volume,
        "township": change.township,
        "zones": [{"id": z.id, "kind": z.kind.value, "layer": z.layer.value} for z in change.zones],
        "flags": sorted(f.value for f in change.flags),
        "well": change.well_id,
        "term_years": change.term_years,
        "public_supply_available": change.public_supply_available,
    }


def _record(
    change: Change,
    decision: Decision,
    *,
    permit: Permit | None = None,
    application: PermitApplication | None = None,
    well: Any = None,
    by: Any = None,
    reason: str = "",
    applied: bool = False,
    subject: str | None = None,
) -> RuleDecision:
    township_id = None
    holder_id = None
    if permit is not None:
        township_id, holder_id = permit.township_id, permit.holder_id
    elif well is not None:
        township_id, holder_id = well.township_id, well.owner_id
    return RuleDecision.objects.create(
        subject=subject or change.kind.value,
        permit=permit,
        application=application,
        well=well,
        township_id=township_id,
        holder_id=holder_id,
        allowed=decision.allowed,
        applied=applied,
        change=_change_dict(change),
        result=decision.to_dict(),
        reason=reason[:300],
        by_username=_username(by),
    )


def _zones_of(permit: Permit) -> tuple[ZoneRef, ...]:
    zone = permit_zone(permit)
    return (zone_ref(zone),) if zone is not None else ()


def _base_change(permit: Permit, kind: ChangeKind, volume: int, **kw: Any) -> Change:
    on = kw.pop("on", None) or timezone.localdate()
    if "public_supply_available" not in kw:
        wells = list(permit.wells.all()) if permit.pk else []
        kw["public_supply_available"] = permit.source != "surface" and public_supply_at(wells, on)
    return Change(
        kind=kind,
        permit_id=str(permit.pk),
        on=on,
        source=Source(permit.source),
        use_type=permit.use_type,
        volume=volume,
        township=_township_code(permit),
        zones=_zones_of(permit),
        flags=kw.pop("flags", _flags(permit.flags or [])),
        **kw,
    )
