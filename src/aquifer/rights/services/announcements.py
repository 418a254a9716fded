"""The announcement (公示) and after: objections filed and decided, the trade completed once
it ends (both permits' quotas changed), leases' quotas put back after their last year."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from aquifer.core.texts import text
from aquifer.permits import services as permit_services
from aquifer.permits.services import PermitError, change_quota
from aquifer.rights import ledger
from aquifer.rights.ledger import Holder
from aquifer.rights.models import (
    OPEN_TRADE,
    HolderKind,
    JournalKind,
    Objection,
    ObjectionStatus,
    Trade,
    TradeStatus,
)
from aquifer.rights.services.common import MarketError, _refuse, _username, rules, this_year
from aquifer.rights.services.parties import _active_permits, _lot_of_trade
from aquifer.rights.services.trades import _end, _locked, _notify, _set_status

__all__ = ["complete", "complete_due", "decide_objection", "file_objection", "revert_leases"]


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
            _notify("trade.completed", text(gettext_noop("水权交易成交：%(n)s"), n=t.number), t)
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
