"""The parties of a trade: their use, permits and names; the seller's lot, held and released
on the ledger."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from aquifer.accounting.service import well_volumes
from aquifer.permits.models import PermitStatus
from aquifer.permits.services import permits_of
from aquifer.registry.models import Township, WaterUser, Well, Zone
from aquifer.rights import ledger, market_rules
from aquifer.rights.ledger import Holder
from aquifer.rights.models import Account, HolderKind, JournalKind, Trade
from aquifer.rights.services.common import MarketError, _pk, rules, this_year

__all__ = ["holder_use_type", "used_m3"]


def used_m3(holder: Holder, source: str, year: int) -> int:
    """The holder's metered (and estimated) use of a groundwater source in a year, from the
    accounting service (interface 4) over the holder's wells of that layer; 0 for townships,
    surface water and years to come."""
    if holder.kind != HolderKind.WATER_USER or source not in ("shallow", "deep"):
        return 0
    if year > this_year():
        return 0

    wells = list(
        Well.objects.filter(owner_id=holder.water_user_id, layer=source).values_list(
            "pk", flat=True
        )
    )
    if not wells:
        return 0
    vols = well_volumes(year, wells=wells)
    return math.ceil(sum(v.total_m3 for v in vols.values()))


def _active_permits(water_user_id: int | None, source: str) -> list[Any]:
    if water_user_id is None:
        return []

    wu = WaterUser.objects.get(pk=water_user_id)
    return list(permits_of(wu).filter(status=PermitStatus.ACTIVE, source=source))


def _party(holder: Holder, use_type: str, zone: Any, source: str) -> market_rules.Party:
    permits = _active_permits(holder.water_user_id, source)
    until = [p.valid_until.year for p in permits if p.valid_until]
    return market_rules.Party(
        kind=holder.kind,
        holder_id=holder.water_user_id or holder.township_id,
        use_type=use_type,
        zone_id=_pk(zone),
        zone_kind=getattr(zone, "kind", None),
        permit_until_year=(max(until) if until else (9999 if permits else None)),
    )


def holder_use_type(holder: Holder) -> str:
    if holder.water_user_id is None:
        return ""

    return str(WaterUser.objects.get(pk=holder.water_user_id).use_type)


def _holder_name(holder: Holder) -> str:
    if holder.name:
        return holder.name

    if holder.water_user_id:
        return str(WaterUser.objects.get(pk=holder.water_user_id))
    return str(Township.objects.get(pk=holder.township_id))


def _reasons(reasons: list[market_rules.Reason]) -> MarketError:
    return MarketError([(r.code, r.zh) for r in reasons])


@dataclass(frozen=True)
class _Lot:
    """What the seller offers: use type, source, zone and years (one account key per year)."""

    holder: Holder
    use_type: str
    source: str
    zone: Any
    start_year: int
    end_year: int

    def account(self, year: int, held: bool = False) -> Account:
        return ledger.holder_account(
            self.holder, year, self.use_type, self.source, _pk(self.zone), held
        )


def _seller_proposal(lot: _Lot, buyer: market_rules.Party, volume: int) -> market_rules.Proposal:
    years = range(lot.start_year, lot.end_year + 1)
    free = {y: ledger.balance(lot.account(y)) for y in years}
    used = (
        {y: used_m3(lot.holder, lot.source, y) for y in years} if rules().saved_water_only else {}
    )
    return market_rules.Proposal(
        seller=_party(lot.holder, lot.use_type, lot.zone, lot.source),
        buyer=buyer,
        volume=volume,
        start_year=lot.start_year,
        end_year=lot.end_year,
        this_year=this_year(),
        free_by_year=free,
        used_by_year=used,
    )


def _hold(lot: _Lot, volume: int, ref: str, by: str) -> None:
    for y in range(lot.start_year, lot.end_year + 1):
        ledger.transfer(
            lot.account(y), lot.account(y, held=True), volume, JournalKind.HOLD,
            memo=f"冻结 {ref}", ref=ref, by=by,
        )  # fmt: skip


def _release(lot: _Lot, volume: int, ref: str, by: str) -> None:
    if volume <= 0:
        return
    for y in range(lot.start_year, lot.end_year + 1):
        ledger.transfer(
            lot.account(y, held=True), lot.account(y), volume, JournalKind.RELEASE,
            memo=f"解冻 {ref}", ref=ref, by=by,
        )  # fmt: skip


def _lot_of_trade(t: Trade) -> _Lot:
    kind = HolderKind.WATER_USER if t.seller_user_id else HolderKind.TOWNSHIP
    holder = Holder(kind, t.seller_user_id, t.seller_township_id)
    zone = Zone.objects.filter(pk=t.seller_zone_id).first() if t.seller_zone_id else None
    return _Lot(holder, t.use_type, t.source, zone, t.start_year, t.end_year)
