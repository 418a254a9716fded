"""Changes to active permits: the annual quota (interface 5), a transfer between two permits
(a water-rights trade) and the bureau's cancellation (注销).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aquifer.permits import rules
from aquifer.permits.models import OPEN_APPLICATION, ApplicationStatus, Permit, PermitStatus
from aquifer.permits.rules import Change, ChangeKind, Decision, Flag, Source
from aquifer.permits.services.common import PermitError, _ctx, _flags
from aquifer.permits.services.recording import _base_change, _record, _zones_of
from aquifer.permits.services.state import _township_code, county_state, rule_set

__all__ = ["cancel", "change_quota", "transfer_quota"]


def change_quota(
    permit: Permit,
    new_quota_m3: int,
    *,
    reason: str,
    by: Any,
    source: str,
    flags: Iterable[str] = (),
) -> Decision:
    """Change an active permit's annual quota, through the rule engine (interface 5).

    Applies and audits the change when allowed; records the decision either way and returns
    it. ``source`` names where the change comes from (audit source, e.g. "web", "api",
    "rights"); a source of "rights" or "trade…" declares the ``water_rights_trade`` flag (the
    Yellow River notice's exemption for volumes obtained through a trade). ``flags`` declares
    further rules.Flag values. Raises :class:`PermitError` for a permit that is not active or a
    quota below 1 m³.
    """
    if int(new_quota_m3) < 1:
        raise PermitError("new_quota_m3", _("许可水量应为正整数 (m³)"))
    with transaction.atomic():
        permit = Permit.objects.select_for_update().select_related("township").get(pk=permit.pk)
        if permit.status != PermitStatus.ACTIVE:
            raise PermitError("permit", _("只能调整有效许可证的水量"))
        old = int(permit.annual_quota_m3)
        new = int(new_quota_m3)
        fl = set(permit.flags or []) | set(flags)
        if source == "rights" or source.startswith("trade") or source.startswith("rights:"):
            fl.add(Flag.WATER_RIGHTS_TRADE.value)
        kind = ChangeKind.QUOTA_INCREASE if new > old else ChangeKind.QUOTA_DECREASE
        change = _base_change(permit, kind, abs(new - old), flags=_flags(fl))
        rs = rule_set()
        decision = rules.check(change, county_state(rs), rs) if new != old else Decision(True)
        text = f"{reason} ({old} → {new} m³/a)"
        with _ctx(by, source, text):
            if decision.allowed and new != old:
                permit.annual_quota_m3 = new
                permit.save()
            _record(change, decision, permit=permit, by=by, reason=text, applied=decision.allowed)
    return decision


def transfer_quota(
    from_permit: Permit,
    to_permit: Permit,
    volume_m3: int,
    *,
    reason: str,
    by: Any,
    source: str,
) -> Decision:
    """Move ``volume_m3`` of annual quota from one active permit to another (a water-rights
    trade, 取水许可和水资源费征收管理条例 art. 27), judged as one ``TRANSFER``.

    One change for the pair: a trade within a balanced zone leaves its total unchanged and
    passes, where a decrease and an increase judged apart would not. Applied to both permits in
    one transaction when allowed (nothing changes otherwise); recorded on both permits either
    way. ``source`` as for :func:`change_quota` (the ``water_rights_trade`` flag is declared).
    Raises :class:`PermitError` for a volume below 1, the same permit twice, a permit that is
    not active, or two different sources.
    """
    v = int(volume_m3)
    if v < 1:
        raise PermitError("volume_m3", _("转让水量应为正整数 (m³)"))
    if from_permit.pk == to_permit.pk:
        raise PermitError("to_permit", _("转让双方为同一许可证"))
    with transaction.atomic():
        locked = {
            p.pk: p
            for p in Permit.objects.select_for_update().filter(
                pk__in=[from_permit.pk, to_permit.pk]
            )
        }
        src, dst = locked[from_permit.pk], locked[to_permit.pk]
        for field, p in (("from_permit", src), ("to_permit", dst)):
            if p.status != PermitStatus.ACTIVE:
                raise PermitError(field, _("只能在有效许可证之间转让水量"))
        if src.source != dst.source:
            raise PermitError("to_permit", _("转让双方水源不同"))
        flags = _flags(set(dst.flags or []) | {Flag.WATER_RIGHTS_TRADE.value})
        change = Change(
            kind=ChangeKind.TRANSFER,
            permit_id=str(dst.pk),
            on=timezone.localdate(),
            source=Source(dst.source),
            use_type=dst.use_type,
            volume=v,
            township=_township_code(dst),
            zones=_zones_of(dst),
            flags=flags,
            from_permit_id=str(src.pk),
        )
        rs = rule_set()
        decision = rules.check(change, county_state(rs), rs)
        text = f"{reason} ({src} → {dst}: {v} m³/a)"
        with _ctx(by, source, text):
            if decision.allowed:
                src.annual_quota_m3 = int(src.annual_quota_m3) - v
                dst.annual_quota_m3 = int(dst.annual_quota_m3) + v
                src.save()
                dst.save()
            for p in (src, dst):
                _record(change, decision, permit=p, by=by, reason=text, applied=decision.allowed)
    return decision


def cancel(permit: Permit, *, reason: str, by: Any) -> None:
    """The bureau cancels a permit (注销, e.g. art. 44 after two years unused)."""
    if not reason.strip():
        raise PermitError("reason", _("请填写注销理由"))
    if permit.status != PermitStatus.ACTIVE:
        raise PermitError("permit", _("只能注销有效许可证"))
    with transaction.atomic(), _ctx(by, "web", reason):
        permit.status = PermitStatus.CANCELLED
        permit.save()
        change = _base_change(permit, ChangeKind.QUOTA_DECREASE, 0)
        _record(
            change,
            Decision(True),
            permit=permit,
            by=by,
            reason=reason,
            applied=True,
            subject="cancellation",
        )
        for app in permit.applications.filter(status__in=OPEN_APPLICATION):
            app.status = ApplicationStatus.WITHDRAWN
            app.decision_note = _("许可证已注销")
            app.save()
