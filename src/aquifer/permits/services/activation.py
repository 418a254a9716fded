"""Putting a well into service: judged under its active permit (the registry's
``well_activation`` hook).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from django.utils import timezone

from aquifer.permits import reasons, rules
from aquifer.permits.models import Permit, PermitStatus
from aquifer.permits.rules import Change, ChangeKind, Decision, Flag, PermitRecord, Reason, Source
from aquifer.permits.services.common import _flags
from aquifer.permits.services.recording import _record
from aquifer.permits.services.state import county_state, public_supply_at, rule_set, zone_ref
from aquifer.registry.choices import WellPurpose

__all__ = ["activation_objections", "check_well_activation"]


def activation_objections(well: Any) -> list[str]:
    """The registry's ``well_activation`` hook: why ``well`` may not go into service, each
    reason a sentence in the active language with its sources; none when it may."""
    decision = check_well_activation(well)
    if decision.allowed:
        return []
    return [
        f"{reasons.reason_text(d)} ({', '.join(str(s) for s in r.sources)})"
        for r, d in zip(decision.reasons, decision.to_dict()["reasons"], strict=True)
    ]


def check_well_activation(well: Any, on: date | None = None) -> Decision:
    """May ``well`` be put into service (status → active)? Recorded, not applied.

    The registry calls this before it saves a well whose status becomes ``active`` and refuses
    the change when ``allowed`` is False (the reasons name the rules and their sources). The
    well is judged under its active permit (the newest that lists it); a monitoring well needs
    no permit (地下水管理条例 art. 48) and is judged with the ``monitoring_test`` flag; any
    other well without an active permit is refused (register).
    """

    on = on or timezone.localdate()
    rs = rule_set()
    state = county_state(rs)
    zones = (zone_ref(well.zone),) if getattr(well, "zone", None) is not None else ()
    permit = (
        Permit.objects.filter(wells=well, status=PermitStatus.ACTIVE)
        .select_related("township")
        .order_by("-valid_from", "-id")
        .first()
        if well.pk
        else None
    )
    township = well.township.code if well.township_id else ""
    if permit is not None:
        rec = state.permits.get(str(permit.pk))
        change = Change(
            ChangeKind.WELL_ACTIVATION,
            str(permit.pk),
            on,
            Source(well.layer),
            permit.use_type,
            0,
            rec.township if rec else township,
            zones,
            _flags(permit.flags or []),
            well_id=str(well.pk),
            public_supply_available=public_supply_at([well], on),
        )
        if Source(well.layer) != Source(permit.source):
            decision = Decision(
                False,
                (
                    Reason(
                        rules.REGISTER,
                        "井的含水层与许可证水源不符",
                        "the well's aquifer layer differs from the permit's source",
                        (rules.PERMIT_REG_24,),
                        f"{rules.REGISTER}.well_layer_mismatch",
                    ),
                ),
            )
        else:
            decision = rules.check(change, state, rs)
    elif well.purpose == WellPurpose.MONITORING:
        pid = f"well:{well.pk}"
        zone = zones[0].id if zones else None
        rec = PermitRecord(pid, Source(well.layer), "monitoring", 0, township, zone)
        state = replace(state, permits={**state.permits, pid: rec})
        change = Change(
            ChangeKind.WELL_ACTIVATION,
            pid,
            on,
            Source(well.layer),
            "monitoring",
            0,
            township,
            zones,
            frozenset({Flag.MONITORING_TEST}),
            well_id=str(well.pk),
        )
        decision = rules.check(change, state, rs)
        permit = None
    else:
        change = Change(
            ChangeKind.WELL_ACTIVATION,
            "none",
            on,
            Source(well.layer),
            well.purpose,
            0,
            township,
            zones,
            well_id=str(well.pk),
        )
        decision = Decision(
            False,
            (
                Reason(
                    rules.REGISTER,
                    "该井没有有效的取水许可证",
                    "the well has no active withdrawal permit",
                    (rules.SourceRef("取水许可和水资源费征收管理条例", "第二条、第二十三条"),),
                    f"{rules.REGISTER}.well_no_permit",
                ),
            ),
        )
    if well.pk:
        _record(
            change,
            decision,
            permit=permit,
            well=well,
            reason=f"well {well.code} activation",
            applied=False,
        )
    return decision
