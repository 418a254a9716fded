"""What a change does to the totals (by zone, township and county), or why it does not fit
the register (rule ``register``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aquifer.permits.rules.decisions import Reason
from aquifer.permits.rules.ruleset import RuleSet
from aquifer.permits.rules.sources import PERMIT_REG_24, PERMIT_REG_27, SourceRef
from aquifer.permits.rules.state import Change, CountyState, ZoneRef
from aquifer.permits.rules.vocabulary import _GROUNDWATER, REGISTER, ChangeKind, Source

__all__: list[str] = []


@dataclass(frozen=True)
class _Effect:
    """What a change does to the totals: deltas by zone, township, and to the county."""

    zone: ZoneRef | None  # the zone where the change takes effect
    zone_delta: int  # net change of that zone's total
    zone_deltas: dict[str, int]
    township_deltas: dict[str, int]
    county_delta: int
    #: How much the change raises abstraction at its location (m³/a): a new permit's quota,
    #: an increase, a renewal's rise over the old quota, a transfer's volume at the receiver.
    increase: int = 0


def _register_reason(
    case: str, zh: str, en: str, source: SourceRef = PERMIT_REG_24, **params: Any
) -> Reason:
    return Reason(REGISTER, zh, en, (source,), f"{REGISTER}.{case}", tuple(sorted(params.items())))


def _effect(change: Change, state: CountyState, rules: RuleSet) -> _Effect | Reason:
    """The change's effect on the totals, or why it does not fit the register."""
    permits = state.permits
    rec = permits.get(change.permit_id)
    kind = change.kind
    zone = change.zone()
    zone_id = zone.id if zone is not None and change.source in _GROUNDWATER else None
    if kind is ChangeKind.NEW_PERMIT:
        if rec is not None:
            return _register_reason(
                "permit_exists", "许可证编号已存在", f"permit {change.permit_id} exists"
            )
    elif kind is ChangeKind.TRANSFER and rec is None:
        pass  # the transfer creates the receiving permit
    elif rec is None:
        return _register_reason("no_permit", "许可证不存在", f"no permit {change.permit_id}")
    elif rec.source != change.source:
        return _register_reason(
            "source_mismatch", "水源与许可证不符", "source differs from the permit's"
        )
    elif kind is not ChangeKind.WELL_ACTIVATION and (
        rec.township != change.township or rec.zone_id != zone_id
    ):
        return _register_reason(
            "location_mismatch", "位置与许可证不符", "township or zone differs from the permit's"
        )

    zones: dict[str, int] = {}
    towns: dict[str, int] = {}
    county = 0

    def add(source: Source, zid: str | None, town: str, delta: int) -> None:
        nonlocal county
        if delta == 0:
            return
        if source in _GROUNDWATER and zid is not None:
            zones[zid] = zones.get(zid, 0) + delta
        if source in rules.capped_sources:
            towns[town] = towns.get(town, 0) + delta
            county += delta

    if kind is ChangeKind.NEW_PERMIT or kind is ChangeKind.QUOTA_INCREASE:
        add(change.source, zone_id, change.township, change.volume)
    elif kind is ChangeKind.QUOTA_DECREASE:
        assert rec is not None
        if change.volume > rec.volume:
            return _register_reason(
                "decrease_exceeds", "核减水量超过许可水量", "decrease exceeds the quota"
            )
        add(rec.source, rec.zone_id, rec.township, -change.volume)
    elif kind is ChangeKind.RENEWAL:
        assert rec is not None
        add(rec.source, rec.zone_id, rec.township, change.volume - rec.volume)
    elif kind is ChangeKind.TRANSFER:
        assert change.from_permit_id is not None
        src = permits.get(change.from_permit_id)
        if src is None or change.from_permit_id == change.permit_id:
            return _register_reason(
                "transfer_source",
                "转让方许可证不存在或与受让方相同",
                "the transferring permit does not exist or is the receiving one",
                PERMIT_REG_27,
            )
        if change.volume > src.volume:
            return _register_reason(
                "transfer_exceeds",
                "转让水量超过许可水量",
                "transfer exceeds the transferring quota",
                PERMIT_REG_27,
            )
        if src.source != change.source:
            return _register_reason(
                "transfer_sources_differ",
                "转让双方水源不同",
                "the two permits draw different sources",
                PERMIT_REG_27,
            )
        add(src.source, src.zone_id, src.township, -change.volume)
        add(change.source, zone_id, change.township, change.volume)
    delta = zones.get(zone_id, 0) if zone_id is not None else 0
    increase = 0
    if kind in (ChangeKind.NEW_PERMIT, ChangeKind.QUOTA_INCREASE, ChangeKind.TRANSFER):
        increase = change.volume
    elif kind is ChangeKind.RENEWAL and rec is not None:
        increase = max(0, change.volume - rec.volume)
    return _Effect(zone if zone_id else None, delta, zones, towns, county, increase)
