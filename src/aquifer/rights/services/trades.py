"""A trade proposed (negotiated, a listing award or an auction fill), then approved (its
公示 opens), rejected or cancelled; its status changes audited and notified."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from aquifer.core.audit import record
from aquifer.core.texts import text
from aquifer.notifications.service import notify
from aquifer.rights import conf, ledger, market_rules
from aquifer.rights.ledger import Holder, LedgerError
from aquifer.rights.models import (
    OPEN_TRADE,
    AuctionRound,
    Listing,
    PartyRole,
    Trade,
    TradeMode,
    TradeParty,
    TradeStatus,
)
from aquifer.rights.services.common import (
    _check_input,
    _next_number,
    _pk,
    _refuse,
    _username,
    rules,
)
from aquifer.rights.services.parties import (
    _hold,
    _holder_name,
    _Lot,
    _lot_of_trade,
    _party,
    _reasons,
    _release,
    _seller_proposal,
    holder_use_type,
)

__all__ = ["approve", "cancel", "propose_trade", "reject"]

logger = logging.getLogger("aquifer.rights.services")


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
    _notify("trade.announced", text(gettext_noop("水权交易公示：%(n)s"), n=t.number), t)


def _notify(event: str, title: dict[str, Any], t: Trade) -> None:
    """Tell of a trade; title and body stored as message ids and params (core.texts)."""
    body = text(
        gettext_noop("%(seller)s → %(buyer)s，%(v)d m³/年，%(a)d–%(b)d 年，%(p)s 元/m³"),
        seller=t.seller_name,
        buyer=t.buyer_name,
        v=t.volume_m3,
        a=t.start_year,
        b=t.end_year,
        p=str(t.price),
    )

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
