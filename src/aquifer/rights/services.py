"""Water rights: initial rights (确权), trades (negotiated, listings, auctions) and their life.

Every function here changes the ledger through :mod:`aquifer.rights.ledger` and audits what it
does (``core.audit.record``). The order of a trade's life:

1. proposed (negotiated, a listing award, or an auction fill): the rules are checked
   (:mod:`aquifer.rights.market_rules`) and the seller's volume is *held* (moved to the
   seller's held account, year by year), so it cannot be sold twice;
2. approved by the bureau (irrigation trades of ≤ 1 year skip this, a setting), which opens
   the public announcement (公示, ``ANNOUNCEMENT_DAYS``), open to objections;
3. completed after the announcement with no objection open or upheld: the held volume goes to
   the buyer and both permits' quotas change through ``aquifer.permits.services.change_quota``
   (interface 5). If the permits' rule engine refuses, the trade fails with its reasons and
   the volume goes back to the seller. Rejection, an upheld objection or cancellation also
   return it.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from aquifer.accounting.service import well_volumes
from aquifer.core.audit import record
from aquifer.notifications.service import notify
from aquifer.permits import services as permit_services
from aquifer.permits.models import PermitStatus
from aquifer.permits.services import PermitError, change_quota, permits_of
from aquifer.registry.choices import UseType
from aquifer.registry.models import Township, WaterUser, Well, Zone
from aquifer.rights import clearing, conf, ledger, market_rules
from aquifer.rights.ledger import Holder, LedgerError
from aquifer.rights.models import (
    OPEN_TRADE,
    Account,
    AuctionOrder,
    AuctionRound,
    Bid,
    BidStatus,
    HolderKind,
    JournalKind,
    Listing,
    ListingStatus,
    Objection,
    ObjectionStatus,
    PartyRole,
    RightStatus,
    RoundStatus,
    Trade,
    TradeMode,
    TradeParty,
    TradeStatus,
    WaterRight,
)

__all__ = [
    "MarketError",
    "approve",
    "cancel",
    "clear_round",
    "close_listing",
    "complete",
    "complete_due",
    "create_listing",
    "decide_objection",
    "file_objection",
    "grant_right",
    "holder_balances",
    "open_round",
    "place_bid",
    "propose_trade",
    "reject",
    "revert_leases",
    "revoke_right",
    "rules",
    "submit_order",
    "used_m3",
]


logger = logging.getLogger(__name__)


class MarketError(ValueError):
    """Refused: ``errors`` is a list of (field, message) the pages and API show."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(m for _f, m in errors))
        self.errors = errors


def _refuse(field: str, message: str) -> MarketError:
    return MarketError([(field, message)])


MAX_VOLUME_M3 = 10**12
MAX_PRICE = Decimal("99999999.99")
FIRST_YEAR, LAST_YEAR = 2000, 2100


def _check_input(
    *,
    use_type: str | None = None,
    source: str | None = None,
    volume: int | None = None,
    price: Decimal | None = None,
    price_field: str = "price",
    years: tuple[int, int] | None = None,
) -> None:
    """Shape checks every entry point shares (choices, ranges, 2 decimals): a MarketError
    naming each bad field, before anything is looked up or written."""
    from aquifer.rights.models import Source

    errors: list[tuple[str, str]] = []
    if use_type is not None and use_type not in UseType.values:
        errors.append(("use_type", _("未知用水类型：%(v)s") % {"v": use_type}))
    if source is not None and source not in Source.values:
        errors.append(("source", _("未知水源：%(v)s") % {"v": source}))
    if volume is not None and not 0 < volume <= MAX_VOLUME_M3:
        errors.append(("volume_m3", _("水量应为 1 至 %(max)d m³。") % {"max": MAX_VOLUME_M3}))
    if price is not None:
        ok = price.is_finite() and 0 <= price <= MAX_PRICE
        if not ok or price != price.quantize(Decimal("0.01")):
            errors.append(
                (price_field, _("价格应为 0 至 %(max)s 元/m³，最多两位小数。") % {"max": MAX_PRICE})
            )
    if years is not None:
        a, b = years
        for field, y in (("start_year", a), ("end_year", b)):
            if not FIRST_YEAR <= y <= LAST_YEAR:
                errors.append(
                    (field, _("年度应在 %(a)d 至 %(b)d 之间。") % {"a": FIRST_YEAR, "b": LAST_YEAR})
                )
        if b < a:
            errors.append(("end_year", _("终止年度不能早于起始年度。")))
    if errors:
        raise MarketError(errors)


def _username(by: Any) -> str:
    if by is not None and getattr(by, "is_authenticated", False):
        return str(by.get_username())
    return ""


def this_year() -> int:
    return timezone.localdate().year


def rules() -> market_rules.MarketRules:
    """The trading rules in force (the bureau's settings over the defaults)."""
    c = conf.current()
    return market_rules.MarketRules(
        prohibited_zone_kinds=frozenset(c["PROHIBITED_ZONE_KINDS"]),
        no_increase_zone_kinds=frozenset(c["NO_INCREASE_ZONE_KINDS"]),
        saved_water_only=bool(c["SAVED_WATER_ONLY"]),
        max_term_years=int(c["MAX_TERM_YEARS"]),
        irrigation_no_approval_years=int(c["IRRIGATION_NO_APPROVAL_YEARS"]),
        change_permits=bool(c["CHANGE_PERMITS"]),
    )


# ----------------------------------------------------------------------------- initial rights


def _next_number(prefix: str, model: Any) -> str:
    year = this_year()
    stem = f"{prefix}{year}-"
    last = model.objects.filter(number__startswith=stem).order_by("-number").first()
    n = int(last.number.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{stem}{n:05d}"


def _township_allocated(township_id: int, year: int, exclude: int | None = None) -> int:
    qs = WaterRight.objects.filter(
        township_id=township_id,
        status=RightStatus.ACTIVE,
        start_year__lte=year,
        end_year__gte=year,
    )
    if exclude:
        qs = qs.exclude(pk=exclude)
    return int(qs.aggregate(s=Sum("volume_m3"))["s"] or 0)


def _fund_reserve(year: int, needed: int, by: str) -> None:
    """Issue the year's county total into the reserve (or, with no total set, what is needed)."""
    county, reserve = ledger.county_account(year), ledger.reserve_account(year)
    issued = -ledger.balance(county)
    total = conf.get("COUNTY_TOTAL_M3")
    if total is None:
        short = needed - ledger.balance(reserve)
        if short > 0:
            ledger.transfer(county, reserve, short, JournalKind.ISSUE, memo="县总量下达", by=by)
    elif int(total) > issued:
        ledger.transfer(
            county, reserve, int(total) - issued, JournalKind.ISSUE, memo="县总量下达", by=by
        )


def grant_right(
    *,
    holder: Holder,
    use_type: str,
    source: str,
    zone: Any,
    volume_m3: int,
    start_year: int,
    end_year: int,
    document: str = "",
    by: Any = None,
) -> WaterRight:
    """Grant an initial right (确权): within each township's and the county's totals for every
    year of its period; allocates it year by year from the county reserve."""
    _check_input(use_type=use_type, source=source, volume=volume_m3, years=(start_year, end_year))
    if end_year - start_year >= 30:
        raise _refuse("end_year", _("确权期限不超过 30 年。"))
    if zone is not None and source != zone.layer:
        raise _refuse("zone", _("分区的含水层与水源不符。"))

    town = Township.objects.get(pk=holder.township_id)
    caps = conf.get("TOWNSHIP_TOTALS_M3") or {}
    cap = caps.get(town.code)
    name = _username(by)
    with transaction.atomic():
        if cap is not None:
            for year in range(start_year, end_year + 1):
                used = _township_allocated(town.pk, year)
                if used + volume_m3 > int(cap):
                    raise _refuse(
                        "volume_m3",
                        _(
                            "%(town)s %(year)d 年已确权 %(used)d m³，加上本次超过乡镇总量 %(cap)d m³。"  # noqa: E501
                        )
                        % {"town": town, "year": year, "used": used, "cap": int(cap)},
                    )
        right = WaterRight(
            number=_next_number("QQ", WaterRight),
            kind=holder.kind,
            water_user_id=holder.water_user_id,
            township_id=holder.township_id,
            use_type=use_type,
            source=source,
            zone=zone,
            volume_m3=volume_m3,
            start_year=start_year,
            end_year=end_year,
            document=document,
            issued_by=name,
        )
        try:
            right.full_clean()
        except ValidationError as exc:
            raise MarketError(
                [(f, str(m)) for f, msgs in exc.message_dict.items() for m in msgs]
            ) from None
        right.save()
        for year in range(start_year, end_year + 1):
            _fund_reserve(year, volume_m3, name)
            target = ledger.holder_account(holder, year, use_type, source, _pk(zone))
            try:
                ledger.transfer(
                    ledger.reserve_account(year),
                    target,
                    volume_m3,
                    JournalKind.ALLOCATION,
                    memo=f"初始水权 {right.number}",
                    ref=f"right:{right.pk}",
                    by=name,
                )
            except LedgerError:
                raise _refuse(
                    "volume_m3",
                    _("%(year)d 年县级预留水量不足（全县总量 %(total)s m³）。")
                    % {"year": year, "total": conf.get("COUNTY_TOTAL_M3")},
                ) from None
    return right


def revoke_right(right: WaterRight, *, reason: str, by: Any = None) -> int:
    """Revoke (or expire) a right: its unheld balance of this and later years returns to the
    reserve (an expiry journal per year). Returns the m³ returned."""
    name = _username(by)
    back = 0
    with transaction.atomic():
        right = WaterRight.objects.select_for_update().get(pk=right.pk)
        if right.status != RightStatus.ACTIVE:
            raise _refuse("status", _("该水权已收回。"))
        holder = Holder(right.kind, right.water_user_id, right.township_id)
        for year in range(max(right.start_year, this_year()), right.end_year + 1):
            acct = ledger.holder_account(holder, year, right.use_type, right.source, right.zone_id)
            amount = min(right.volume_m3, ledger.balance(acct))
            if amount > 0:
                ledger.transfer(
                    acct,
                    ledger.reserve_account(year),
                    amount,
                    JournalKind.EXPIRY,
                    memo=f"水权收回 {right.number}: {reason}"[:300],
                    ref=f"right:{right.pk}",
                    by=name,
                )
                back += amount
        right.status = RightStatus.REVOKED
        right.save()
    return back


def _pk(obj: Any) -> int | None:
    return None if obj is None else int(obj.pk)


def holder_balances(holder: Holder, years: Iterable[int] | None = None) -> list[dict[str, Any]]:
    """The holder's accounts with their balances (free and held), newest year first."""
    qs = Account.objects.filter(kind=holder.kind, township_id=holder.township_id)
    if holder.water_user_id is not None:
        qs = qs.filter(water_user_id=holder.water_user_id)
    if years is not None:
        qs = qs.filter(year__in=list(years))
    accts = list(qs.select_related("zone"))
    bal = ledger.balances([a.pk for a in accts])
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    for a in accts:
        k = (a.year, a.use_type, a.source, a.zone_id)
        row = rows.setdefault(
            k, {"year": a.year, "use_type": a.use_type, "source": a.source, "zone": a.zone,
                "free": 0, "held": 0, "account": None},
        )  # fmt: skip
        if a.held:
            row["held"] += bal[a.pk]
        else:
            row["free"] += bal[a.pk]
            row["account"] = a
    return sorted(rows.values(), key=lambda r: (-r["year"], r["use_type"], r["source"]))


# ----------------------------------------------------------------------------- parties


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


# ----------------------------------------------------------------------------- trades


def propose_trade(
    *,
    seller: Holder,
    buyer: Holder,
    use_type: str,
    source: str,
    seller_zone: Any,
    buyer_zone: Any,
    volume_m3: int,
    price: Decimal,
    start_year: int,
    end_year: int,
    is_lease: bool = False,
    mode: str = TradeMode.NEGOTIATED,
    by: Any = None,
    listing: Listing | None = None,
    auction: AuctionRound | None = None,
    already_held: bool = False,
) -> Trade:
    """Propose a trade: check the rules, hold the seller's volume, await approval (or go
    straight to announcement when none is needed). Raises :class:`MarketError`."""
    if price is None or price < 0:
        raise _refuse("price", _("单价不能为负数。"))
    _check_input(
        use_type=use_type, source=source, volume=volume_m3, price=price,
        years=(start_year, end_year),
    )  # fmt: skip
    name = _username(by)
    lot = _Lot(seller, use_type, source, seller_zone, start_year, end_year)
    buyer_use = holder_use_type(buyer) or use_type
    bparty = _party(buyer, buyer_use, buyer_zone, source)
    rs = rules()
    with transaction.atomic():
        proposal = _seller_proposal(lot, bparty, volume_m3)
        if already_held:
            kind = market_rules.trade_type(proposal.seller, bparty)
            problems = [kind] if isinstance(kind, market_rules.Reason) else []
            problems += market_rules.check_buyer(proposal.seller, bparty, rs)
            ttype = None if isinstance(kind, market_rules.Reason) else kind
        else:
            ttype, problems = market_rules.check(proposal, rs)
        if problems or ttype is None:
            raise _reasons(problems)
        years = end_year - start_year + 1
        approval = market_rules.needs_approval(ttype, years, rs)
        trade = Trade.objects.create(
            number=_next_number("JY", Trade),
            mode=mode,
            trade_type=str(ttype),
            is_lease=is_lease,
            seller_account_key=lot.account(start_year).key,
            buyer_account_key=ledger.holder_account(
                buyer, start_year, buyer_use, source, _pk(buyer_zone)
            ).key,
            seller_name=_holder_name(seller),
            buyer_name=_holder_name(buyer),
            seller_user_id=seller.water_user_id,
            buyer_user_id=buyer.water_user_id,
            seller_township_id=seller.township_id,
            buyer_township_id=buyer.township_id,
            seller_zone=seller_zone,
            buyer_zone=buyer_zone,
            use_type=use_type,
            buyer_use_type=buyer_use,
            source=source,
            volume_m3=volume_m3,
            price=price,
            start_year=start_year,
            end_year=end_year,
            needs_approval=approval,
            created_by=name,
            listing=listing,
            auction=auction,
        )
        TradeParty.objects.create(
            trade=trade, role=PartyRole.SELLER, water_user_id=seller.water_user_id,
            township_id=seller.township_id,
        )  # fmt: skip
        TradeParty.objects.create(
            trade=trade, role=PartyRole.BUYER, water_user_id=buyer.water_user_id,
            township_id=buyer.township_id,
        )  # fmt: skip
        if not already_held:
            try:
                _hold(lot, volume_m3, f"trade:{trade.pk}", name)
            except LedgerError as exc:
                raise _refuse("volume_m3", str(exc)) from None
        record("create", trade, None, _trade_state(trade), reason="propose")
        if not approval:
            _announce(trade, name)
    return trade


def _trade_state(t: Trade) -> dict[str, Any]:
    return {
        "status": t.status,
        "volume_m3": t.volume_m3,
        "price": str(t.price),
        "years": [t.start_year, t.end_year],
        "reasons": t.reasons,
    }


def _set_status(t: Trade, status: str, reason: str, **fields: Any) -> None:
    before = _trade_state(t)
    t.status = status
    for k, v in fields.items():
        setattr(t, k, v)
    t.save()
    record("update", t, before, _trade_state(t), reason=reason)


def _announce(t: Trade, name: str) -> None:
    now = timezone.now()
    days = int(conf.get("ANNOUNCEMENT_DAYS"))
    _set_status(
        t,
        TradeStatus.ANNOUNCED,
        "announce",
        announced_at=now,
        announcement_ends=now + dt.timedelta(days=days),
    )
    _notify(
        "trade.announced",
        _("水权交易公示：%(n)s") % {"n": t.number},
        t,
    )


def _notify(event: str, title: str, t: Trade) -> None:
    body = _("%(seller)s → %(buyer)s，%(v)d m³/年，%(a)d–%(b)d 年，%(p)s 元/m³") % {
        "seller": t.seller_name,
        "buyer": t.buyer_name,
        "v": t.volume_m3,
        "a": t.start_year,
        "b": t.end_year,
        "p": t.price,
    }

    def send() -> None:
        try:
            notify(
                event=event, title=title, body=body, township=t.seller_township,
                url=t.get_absolute_url(),
            )  # fmt: skip
        except Exception:  # a notice that cannot be delivered must not undo a committed trade
            logger.exception("rights: notification %s for %s failed", event, t.number)

    transaction.on_commit(send)


def _locked(t: Trade) -> Trade:
    return Trade.objects.select_for_update().get(pk=t.pk)


def approve(trade: Trade, *, by: Any, note: str = "") -> Trade:
    """The bureau approves a pending trade: its public announcement (公示) starts."""
    with transaction.atomic():
        t = _locked(trade)
        if t.status != TradeStatus.PENDING:
            raise _refuse("status", _("只能审批待审批的交易。"))
        t.decided_at, t.decided_by, t.decision_note = timezone.now(), _username(by), note[:300]
        _announce(t, _username(by))
    return t


def _end(t: Trade, status: str, reason: str, by: Any, reasons: list[dict[str, str]]) -> None:
    _release(_lot_of_trade(t), t.volume_m3, f"trade:{t.pk}", _username(by))
    _set_status(t, status, reason, reasons=reasons)


def reject(trade: Trade, *, by: Any, note: str) -> Trade:
    """The bureau refuses a pending or announced trade; the volume returns to the seller."""
    if not note.strip():
        raise _refuse("note", _("请填写不予批准的理由。"))
    with transaction.atomic():
        t = _locked(trade)
        if t.status not in OPEN_TRADE:
            raise _refuse("status", _("该交易已结束。"))
        t.decided_at, t.decided_by, t.decision_note = timezone.now(), _username(by), note[:300]
        _end(t, TradeStatus.REJECTED, "reject", by, [{"code": "rejected", "zh": note, "en": note}])
    return t


def cancel(trade: Trade, *, by: Any) -> Trade:
    """The seller withdraws a trade not yet approved."""
    with transaction.atomic():
        t = _locked(trade)
        if t.status != TradeStatus.PENDING:
            raise _refuse("status", _("只能撤销待审批的交易。"))
        _end(t, TradeStatus.CANCELLED, "cancel", by, [])
    return t


def file_objection(trade: Trade, *, name: str, contact: str, text: str) -> Objection:
    """Anyone may object to a trade while it is announced."""
    errors = []
    if not name.strip():
        errors.append(("name", _("请填写异议人。")))
    if not text.strip():
        errors.append(("text", _("请填写异议内容。")))
    if errors:
        raise MarketError(errors)
    t = Trade.objects.get(pk=trade.pk)
    if t.status != TradeStatus.ANNOUNCED or (
        t.announcement_ends and timezone.now() > t.announcement_ends
    ):
        raise _refuse("trade", _("该交易不在公示期内。"))
    return Objection.objects.create(
        trade=t, name=name.strip()[:100], contact=contact.strip()[:100], text=text.strip()[:2000]
    )


def decide_objection(obj: Objection, *, upheld: bool, by: Any, note: str = "") -> Objection:
    """The bureau decides an objection; an upheld one ends the trade (volume back)."""
    with transaction.atomic():
        o = Objection.objects.select_for_update().get(pk=obj.pk)
        if o.status != ObjectionStatus.OPEN:
            raise _refuse("status", _("该异议已处理。"))
        o.status = ObjectionStatus.UPHELD if upheld else ObjectionStatus.DISMISSED
        o.decided_by, o.decision_note = _username(by), note[:300]
        o.save()
        if upheld:
            t = _locked(o.trade)
            if t.status in OPEN_TRADE:
                why = {"code": "objection", "zh": note or o.text[:200], "en": note or "objection"}
                _end(t, TradeStatus.REJECTED, "objection upheld", by, [why])
    return o


def _permit_changes(t: Trade, by: Any) -> list[dict[str, Any]]:
    """Change both permits' quotas (interface 5); the reasons of a refusal, else []."""
    rs = rules()
    if not rs.change_permits or not (t.seller_user_id and t.buyer_user_id):
        return []
    sp = _active_permits(t.seller_user_id, t.source)
    bp = _active_permits(t.buyer_user_id, t.source)
    if t.trade_type == "irrigation" and not sp and not bp:
        return []  # irrigation households without permits: the ledger alone records it
    if not sp or not bp:
        who = _("出让方") if not sp else _("受让方")
        msg = _("%(who)s无该水源的有效取水许可证") % {"who": who}
        who_en = "seller" if not sp else "buyer"
        return [{"code": "no_permit", "zh": msg, "en": f"The {who_en} has no active permit."}]

    seller_permit = max(sp, key=lambda p: (p.use_type == t.use_type, p.annual_quota_m3))
    buyer_permit = max(bp, key=lambda p: (p.use_type == t.buyer_use_type, p.annual_quota_m3))
    # One transfer (rules.ChangeKind.TRANSFER) judges the pair as a whole — a trade within a
    # balanced zone leaves its total unchanged — where two quota changes are judged apart.
    # Used when the permits app offers it (see docs/rights.md, "Permits").
    transfer = getattr(permit_services, "transfer_quota", None)
    if transfer is not None:
        try:
            decision = transfer(
                seller_permit, buyer_permit, t.volume_m3,
                reason=f"水权交易 {t.number}", by=by, source="rights",
            )  # fmt: skip
        except PermitError as exc:
            return [{"code": "permit", "zh": str(exc), "en": str(exc)}]
        return [
            {"code": r.message_code, "params": dict(r.params), "zh": r.zh, "en": r.en}
            for r in ([] if decision.allowed else decision.reasons)
        ]
    steps = [
        (seller_permit, int(seller_permit.annual_quota_m3) - t.volume_m3, "转出"),
        (buyer_permit, int(buyer_permit.annual_quota_m3) + t.volume_m3, "转入"),
    ]
    for permit, new, what in steps:
        try:
            decision = change_quota(
                permit, new, reason=f"水权交易 {t.number} {what}", by=by, source="rights"
            )
        except PermitError as exc:
            return [{"code": "permit", "zh": f"{permit}: {exc}", "en": f"{permit}: {exc}"}]
        if not decision.allowed:
            return [
                {"code": r.rule_id, "zh": f"{permit}: {r.zh}", "en": f"{permit}: {r.en}"}
                for r in decision.reasons
            ]
    return []


def complete(trade: Trade, *, by: Any = None, now: dt.datetime | None = None) -> Trade:
    """Complete an announced trade after its announcement: volume to the buyer, permits'
    quotas changed; if the permits' rule engine refuses, the trade fails with its reasons."""
    now = now or timezone.now()
    name = _username(by)
    with transaction.atomic():
        t = _locked(trade)
        if t.status != TradeStatus.ANNOUNCED:
            raise _refuse("status", _("只有公示中的交易可以成交。"))
        if t.announcement_ends and now < t.announcement_ends:
            raise _refuse("status", _("公示期未满。"))
        if t.objections.filter(status=ObjectionStatus.OPEN).exists():
            raise _refuse("objections", _("尚有未处理的公示异议。"))
        failure: list[dict[str, str]] = []
        try:
            with transaction.atomic():
                failure = _permit_changes(t, by)
                if failure:
                    raise _Rollback
                lot = _lot_of_trade(t)
                kind = JournalKind.LEASE if t.is_lease else JournalKind.TRANSFER
                buyer = Holder(
                    HolderKind.WATER_USER if t.buyer_user_id else HolderKind.TOWNSHIP,
                    t.buyer_user_id,
                    t.buyer_township_id,
                )
                for y in t.years:
                    ledger.transfer(
                        lot.account(y, held=True),
                        ledger.holder_account(buyer, y, t.buyer_use_type, t.source,
                                              t.buyer_zone_id),
                        t.volume_m3, kind, memo=f"水权交易 {t.number}", ref=f"trade:{t.pk}",
                        by=name,
                    )  # fmt: skip
                _set_status(t, TradeStatus.COMPLETED, "complete", completed_at=now)
        except _Rollback:
            pass
        if failure:
            t.refresh_from_db()
            _end(t, TradeStatus.FAILED, "permit change refused", by, failure)
        else:
            _notify("trade.completed", _("水权交易成交：%(n)s") % {"n": t.number}, t)
    return t


class _Rollback(Exception):
    pass


def complete_due(now: dt.datetime | None = None) -> int:
    """Complete every announced trade whose announcement has ended with no objection open
    (the periodic job). Returns how many were completed or failed."""
    now = now or timezone.now()
    due = Trade.objects.filter(status=TradeStatus.ANNOUNCED, announcement_ends__lte=now)
    n = 0
    for t in due.exclude(objections__status=ObjectionStatus.OPEN).distinct():
        try:
            complete(t, now=now)
            n += 1
        except MarketError:
            continue
    return n


def revert_leases(year: int | None = None) -> int:
    """After a lease's last year, put both permits' quotas back (the periodic job)."""
    year = year or this_year()
    n = 0

    for t in Trade.objects.filter(
        status=TradeStatus.COMPLETED, is_lease=True, quota_reverted=False, end_year__lt=year
    ):
        if rules().change_permits and t.seller_user_id and t.buyer_user_id:
            sp = _active_permits(t.seller_user_id, t.source)
            bp = _active_permits(t.buyer_user_id, t.source)
            if sp and bp:
                with transaction.atomic():
                    try:
                        change_quota(
                            bp[0],
                            int(bp[0].annual_quota_m3) - t.volume_m3,
                            reason=f"水权租赁 {t.number} 期满",
                            by=None,
                            source="rights",
                        )
                        change_quota(
                            sp[0],
                            int(sp[0].annual_quota_m3) + t.volume_m3,
                            reason=f"水权租赁 {t.number} 期满",
                            by=None,
                            source="rights",
                        )
                    except PermitError:
                        continue  # fmt: skip
        Trade.objects.filter(pk=t.pk).update(quota_reverted=True)
        n += 1
    return n


# ----------------------------------------------------------------------------- listings


def create_listing(
    *,
    seller: Holder,
    use_type: str,
    source: str,
    zone: Any,
    volume_m3: int,
    min_price: Decimal,
    start_year: int,
    end_year: int,
    is_lease: bool = False,
    closes_at: dt.datetime | None = None,
    by: Any = None,
) -> Listing:
    """List saved water publicly (挂牌); the volume is held until the listing closes."""
    if min_price is None or min_price < 0:
        raise _refuse("min_price", _("底价不能为负数。"))
    _check_input(
        use_type=use_type, source=source, volume=volume_m3, price=min_price,
        price_field="min_price", years=(start_year, end_year),
    )  # fmt: skip
    closes_at = closes_at or timezone.now() + dt.timedelta(days=int(conf.get("LISTING_DAYS")))
    if closes_at <= timezone.now():
        raise _refuse("closes_at", _("截止时间应晚于现在。"))
    lot = _Lot(seller, use_type, source, zone, start_year, end_year)
    name = _username(by)
    with transaction.atomic():
        nobody = market_rules.Party(kind="", holder_id=0, use_type="")
        problems = market_rules.check_seller(_seller_proposal(lot, nobody, volume_m3), rules())
        if problems:
            raise _reasons(problems)
        listing = Listing.objects.create(
            number=_next_number("GP", Listing),
            account_key=lot.account(start_year).key,
            water_user_id=seller.water_user_id,
            township_id=seller.township_id,
            zone=zone,
            seller_name=_holder_name(seller),
            use_type=use_type,
            source=source,
            volume_m3=volume_m3,
            min_price=min_price,
            start_year=start_year,
            end_year=end_year,
            is_lease=is_lease,
            closes_at=closes_at,
        )
        _hold(lot, volume_m3, f"listing:{listing.pk}", name)
    return listing


def _listing_lot(listing: Listing) -> _Lot:
    kind = HolderKind.WATER_USER if listing.water_user_id else HolderKind.TOWNSHIP
    return _Lot(
        Holder(kind, listing.water_user_id, listing.township_id, listing.seller_name),
        listing.use_type, listing.source, listing.zone, listing.start_year, listing.end_year,
    )  # fmt: skip


def place_bid(
    listing: Listing,
    *,
    bidder: Holder,
    zone: Any,
    volume_m3: int,
    price: Decimal,
    by: Any = None,
) -> Bid:
    """Bid on an open listing: at or above its floor price, at most its volume, and only
    where the rules let the water go (zone, trade type)."""
    _check_input(volume=volume_m3, price=price)
    errors: list[tuple[str, str]] = []
    if listing.status != ListingStatus.OPEN or timezone.now() >= listing.closes_at:
        errors.append(("listing", _("该挂牌已截止。")))
    if price is None or price < listing.min_price:
        errors.append(("price", _("报价不得低于挂牌底价 %(p)s 元/m³。") % {"p": listing.min_price}))
    if volume_m3 <= 0 or volume_m3 > listing.volume_m3:
        errors.append(
            ("volume_m3", _("竞买水量应在 1 至 %(v)d m³ 之间。") % {"v": listing.volume_m3})
        )
    if errors:
        raise MarketError(errors)
    lot = _listing_lot(listing)
    seller = _party(lot.holder, lot.use_type, lot.zone, lot.source)
    buyer = _party(bidder, holder_use_type(bidder) or lot.use_type, zone, lot.source)
    kind = market_rules.trade_type(seller, buyer)
    problems = [kind] if isinstance(kind, market_rules.Reason) else []
    problems += market_rules.check_buyer(seller, buyer, rules())
    if problems:
        raise _reasons(problems)
    return Bid.objects.create(
        listing=listing,
        water_user_id=bidder.water_user_id,
        township_id=bidder.township_id,
        zone=zone,
        bidder_name=_holder_name(bidder),
        volume_m3=volume_m3,
        price=price,
    )


def close_listing(listing: Listing, *, by: Any = None, cancel: bool = False) -> list[Trade]:
    """Close a listing: bids in order of price (then time) win until its volume is gone, each
    becoming a trade (awaiting approval); the rest of the volume is released. ``cancel``
    withdraws the listing with no award."""
    name = _username(by)
    trades: list[Trade] = []
    with transaction.atomic():
        lst = Listing.objects.select_for_update().get(pk=listing.pk)
        if lst.status != ListingStatus.OPEN:
            raise _refuse("status", _("该挂牌已结束。"))
        lot = _listing_lot(lst)
        left = lst.volume_m3
        bids = list(lst.bids.filter(status=BidStatus.OPEN).order_by("-price", "created_at", "id"))
        for bid in bids:
            take = 0 if cancel else min(left, bid.volume_m3)
            if take <= 0:
                bid.status = BidStatus.LOST
                bid.save()
                continue
            kind = HolderKind.WATER_USER if bid.water_user_id else HolderKind.TOWNSHIP
            try:
                t = propose_trade(
                    seller=lot.holder,
                    buyer=Holder(kind, bid.water_user_id, bid.township_id, bid.bidder_name),
                    use_type=lot.use_type, source=lot.source, seller_zone=lot.zone,
                    buyer_zone=bid.zone, volume_m3=take, price=bid.price,
                    start_year=lot.start_year, end_year=lot.end_year, is_lease=lst.is_lease,
                    mode=TradeMode.LISTING, by=by, listing=lst, already_held=True,
                )  # fmt: skip
            except MarketError:
                bid.status = BidStatus.LOST
                bid.save()
                continue
            trades.append(t)
            bid.status, bid.filled_m3 = BidStatus.WON, take
            bid.save()
            left -= take
        _release(lot, left, f"listing:{lst.pk}", name)
        if cancel:
            lst.status = ListingStatus.CANCELLED
        else:
            lst.status = ListingStatus.AWARDED if trades else ListingStatus.CLOSED
        lst.save()
    return trades


# ----------------------------------------------------------------------------- auctions


def open_round(
    *, source: str, zone: Any, year: int, closes_at: dt.datetime, by: Any = None
) -> AuctionRound:
    """The bureau opens a periodic auction round (pilot mode)."""
    if closes_at <= timezone.now():
        raise _refuse("closes_at", _("截止时间应晚于现在。"))
    _check_input(source=source)
    if year < this_year():
        raise _refuse("year", _("不能交易已过年度的水权。"))
    if year > LAST_YEAR:
        raise _refuse(
            "year", _("年度应在 %(a)d 至 %(b)d 之间。") % {"a": FIRST_YEAR, "b": LAST_YEAR}
        )
    return AuctionRound.objects.create(
        number=_next_number("PM", AuctionRound),
        source=source,
        zone=zone,
        year=year,
        closes_at=closes_at,
    )


def submit_order(
    rnd: AuctionRound,
    *,
    holder: Holder,
    side: str,
    use_type: str,
    zone: Any,
    volume_m3: int,
    price: Decimal,
    by: Any = None,
) -> AuctionOrder:
    """A sealed order in an open round. Sell: saved water, held until clearing. Buy: only
    where the rules let water go (a round for one zone admits only that zone's holders; a
    county-wide round no buyer in a zone whose extraction must not rise)."""
    _check_input(use_type=use_type, volume=volume_m3, price=price)
    rs = rules()
    errors: list[tuple[str, str]] = []
    if rnd.status != RoundStatus.OPEN or timezone.now() >= rnd.closes_at:
        errors.append(("round", _("该场次已截止。")))
    if side not in ("buy", "sell"):
        errors.append(("side", _("方向应为 buy 或 sell。")))
    if volume_m3 <= 0:
        errors.append(("volume_m3", _("水量应大于 0。")))
    if price is None or price < 0:
        errors.append(("price", _("限价不能为负数。")))
    if rnd.zone_id and _pk(zone) != rnd.zone_id:
        errors.append(("zone", _("本场次只接受分区 %(z)s 内的报价。") % {"z": rnd.zone}))
    kind = getattr(zone, "kind", None)
    if side == "buy" and kind in rs.prohibited_zone_kinds:
        errors.append(("zone", _("不得向禁采区转入水权。")))
    if side == "buy" and not rnd.zone_id and kind in rs.no_increase_zone_kinds:
        errors.append(("zone", _("该分区开采量不得增加：请参加本分区的场次。")))
    if errors:
        raise MarketError(errors)
    name = _username(by)
    with transaction.atomic():
        order = AuctionOrder.objects.create(
            round=rnd, side=side, account_key="", water_user_id=holder.water_user_id,
            township_id=holder.township_id, zone=zone, holder_name=_holder_name(holder),
            use_type=use_type, volume_m3=volume_m3, price=price,
        )  # fmt: skip
        if side == "sell":
            lot = _Lot(holder, use_type, rnd.source, zone, rnd.year, rnd.year)
            nobody = market_rules.Party(kind="", holder_id=0, use_type="")
            problems = market_rules.check_seller(_seller_proposal(lot, nobody, volume_m3), rs)
            if problems:
                raise _reasons(problems)
            _hold(lot, volume_m3, f"order:{order.pk}", name)
            order.account_key = lot.account(rnd.year).key
            order.save(update_fields=["account_key"])
    return order


def clear_round(rnd: AuctionRound, *, by: Any = None) -> list[Trade]:
    """Clear a round at one uniform price (:func:`aquifer.rights.clearing.clear`); the fills,
    paired in priority order, become trades at the clearing price, awaiting approval; unfilled
    sell volume is released."""
    name = _username(by)
    with transaction.atomic():
        r = AuctionRound.objects.select_for_update().get(pk=rnd.pk)
        if r.status != RoundStatus.OPEN:
            raise _refuse("status", _("该场次已出清或取消。"))
        orders = list(r.orders.filter(withdrawn=False).order_by("created_at", "id"))
        core = [
            clearing.Order(str(o.pk), clearing.Side(o.side), int(o.volume_m3),
                           Decimal(o.price), o.created_at.timestamp())
            for o in orders
        ]  # fmt: skip
        result = clearing.clear(core)
        by_id = {str(o.pk): o for o in orders}
        for oid, v in result.fills.items():
            by_id[oid].filled_m3 = v
            by_id[oid].save(update_fields=["filled_m3"])
        buys = sorted(
            (o for o in orders if o.side == "buy" and o.filled_m3),
            key=lambda o: (-o.price, o.created_at, o.pk),
        )
        sells = sorted(
            (o for o in orders if o.side == "sell" and o.filled_m3),
            key=lambda o: (o.price, o.created_at, o.pk),
        )
        trades: list[Trade] = []
        bi = si = 0
        bleft = buys[0].filled_m3 if buys else 0
        sleft = sells[0].filled_m3 if sells else 0
        while bi < len(buys) and si < len(sells):
            q = min(bleft, sleft)
            b, s = buys[bi], sells[si]
            seller = _order_holder(s)
            buyer = _order_holder(b)
            try:
                trades.append(
                    propose_trade(
                        seller=seller, buyer=buyer, use_type=s.use_type, source=r.source,
                        seller_zone=s.zone, buyer_zone=b.zone, volume_m3=q,
                        price=result.clearing_price or Decimal(0), start_year=r.year,
                        end_year=r.year, mode=TradeMode.AUCTION, by=by, auction=r,
                        already_held=True,
                    )
                )  # fmt: skip
            except MarketError:
                # e.g. a holder on both sides: this pair does not trade; its volume is released
                _release(_Lot(seller, s.use_type, r.source, s.zone, r.year, r.year), q,
                         f"order:{s.pk}", name)  # fmt: skip
            bleft -= q
            sleft -= q
            if bleft == 0:
                bi += 1
                bleft = buys[bi].filled_m3 if bi < len(buys) else 0
            if sleft == 0:
                si += 1
                sleft = sells[si].filled_m3 if si < len(sells) else 0
        for o in orders:
            if o.side == "sell" and o.volume_m3 > o.filled_m3:
                lot = _Lot(_order_holder(o), o.use_type, r.source, o.zone, r.year, r.year)
                _release(lot, o.volume_m3 - o.filled_m3, f"order:{o.pk}", name)
        r.status = RoundStatus.CLEARED
        r.clearing_price = result.clearing_price
        r.cleared_volume_m3 = result.cleared_volume
        r.cleared_at = timezone.now()
        r.save()
    return trades


def _order_holder(o: AuctionOrder) -> Holder:
    kind = HolderKind.WATER_USER if o.water_user_id else HolderKind.TOWNSHIP
    return Holder(kind, o.water_user_id, o.township_id, o.holder_name)
