"""The permits app's public functions (COMMON.md interface 5) and its rule-engine wiring.

Every permit decision, quota change and well activation goes through
:func:`aquifer.permits.rules.check` here; each answer acted on is kept as a
:class:`~aquifer.permits.models.RuleDecision` (audited on creation, with the reasons and their
sources) so that pages and the audit trail show why.

Public (other apps): :func:`change_quota`, :func:`permits_of`, :func:`county_state`,
:func:`check_well_activation`. The application workflow (:func:`apply_for_permit`,
:func:`apply_for`, :func:`review`, :func:`decide`, :func:`cancel`) is used by this app's
pages and API.

Mapping to the rule engine: a permit's id is ``str(pk)``; a township is its 9-digit code; a
zone is its code. A permit's zone (per layer) is the strictest zone (``ZONE_PRECEDENCE``) among
its wells in the permit's source layer — a permit with wells in two zones is judged by the
stricter one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from aquifer.core.audit import audit_context, current
from aquifer.core.models import User
from aquifer.notifications.service import notify
from aquifer.permits import reasons, rules
from aquifer.permits.models import (
    OPEN_APPLICATION,
    ApplicationKind,
    ApplicationStatus,
    EmergencyWindow,
    Permit,
    PermitApplication,
    PermitStatus,
    RuleDecision,
    RuleSettings,
    WaterSource,
)
from aquifer.permits.rules import (
    Change,
    ChangeKind,
    CountyState,
    Decision,
    Flag,
    PermitRecord,
    Reason,
    RuleSet,
    Source,
    ZoneKind,
    ZoneRef,
)
from aquifer.permits.workdays import Calendar, default_calendar
from aquifer.registry.choices import ZONE_PRECEDENCE, WellPurpose
from aquifer.registry.models import Township

__all__ = [
    "PermitError",
    "apply_for",
    "apply_for_permit",
    "calendar",
    "cancel",
    "change_quota",
    "check_well_activation",
    "county_state",
    "decide",
    "permit_setting",
    "permits_of",
    "review",
    "rule_set",
    "transfer_quota",
]

#: Defaults of ``settings.AQUIFER["PERMITS"]`` (each key may be overridden there).
DEFAULTS: dict[str, Any] = {
    # No national numbering rule is in standards.md: the format is the bureau's setting.
    # Fields: {year}, {seq} (per year), {county} (COUNTY_CODE), {source} (G shallow/deep, S).
    "NUMBER_FORMAT": "取水(晋阳)字[{year}]第{seq:04d}号",
    # 取水许可和水资源费征收管理条例 art. 19: decision within 45 working days of acceptance.
    "DECISION_WORKING_DAYS": 45,
    # Raise permit_deadline when an open application has at most this many working days left.
    "DEADLINE_WARNING_WORKING_DAYS": 10,
    # art. 25: apply for renewal 45 days before expiry; remind this many days before that.
    "RENEWAL_LEAD_DAYS": 45,
    "RENEWAL_WARNING_DAYS": 30,
    # art. 44: cancelled after 2 consecutive years without abstraction.
    "UNUSED_YEARS": 2,
    # Extra calendar data (ISO dates), e.g. the 2027 State Council notice when it appears.
    "HOLIDAYS": [],
    "EXTRA_WORKDAYS": [],
    "HOLIDAY_YEARS": [],
}


class PermitError(ValueError):
    """A workflow step that cannot be taken (field → message)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def permit_setting(key: str) -> Any:
    """A permits setting: ``settings.AQUIFER["PERMITS"][key]``, else the default."""
    conf = settings.AQUIFER.get("PERMITS", {}) or {}
    return conf.get(key, DEFAULTS[key])


def calendar() -> Calendar:
    """The working-day calendar with the settings' extra dates."""
    return default_calendar(
        [date.fromisoformat(d) for d in permit_setting("HOLIDAYS")],
        [date.fromisoformat(d) for d in permit_setting("EXTRA_WORKDAYS")],
        [int(y) for y in permit_setting("HOLIDAY_YEARS")],
    )


# ----------------------------------------------------------------------------- rule data


def current_settings() -> RuleSettings | None:
    """The rule settings in force (the newest version), or None for the defaults."""
    return RuleSettings.objects.order_by("-created_at", "-id").first()


def rule_set(conf: RuleSettings | None = None) -> RuleSet:
    """The active :class:`RuleSet`: the engine's defaults with the bureau's settings."""
    conf = conf if conf is not None else current_settings()
    if conf is None:
        return rules.DEFAULT_RULES
    disabled = set(conf.disabled_rules or [])
    rs = tuple(replace(r, enabled=r.id.value not in disabled) for r in rules.default_rules())
    sources = frozenset(Source(s) for s in conf.overloaded_sources) or (
        rules.DEFAULT_RULES.overloaded_sources
    )
    return RuleSet(
        rules=rs,
        overloaded_townships=frozenset(conf.overloaded_townships or []),
        overloaded_zones=frozenset(conf.overloaded_zones or []),
        overloaded_sources=sources,
        small_withdrawal_max_m3=conf.small_withdrawal_max_m3,
    )


def emergency_windows() -> tuple[rules.EmergencyWindow, ...]:
    return tuple(
        rules.EmergencyWindow(str(w.pk), w.start, w.end) for w in EmergencyWindow.objects.all()
    )


def in_emergency(on: date) -> bool:
    return any(w.covers(on) for w in emergency_windows())


def zone_ref(zone: Any) -> ZoneRef:
    return ZoneRef(zone.code, ZoneKind(zone.kind), Source(zone.layer))


def _strictest(zones: Iterable[Any]) -> Any:
    best = None
    for z in zones:
        if z is not None and (best is None or ZONE_PRECEDENCE[z.kind] < ZONE_PRECEDENCE[best.kind]):
            best = z
    return best


def permit_zone(permit: Permit, wells: Iterable[Any] | None = None) -> Any:
    """The zone of the permit's source layer that judges it (strictest among its wells)."""
    if permit.source == WaterSource.SURFACE:
        return None
    wells = (
        list(wells)
        if wells is not None
        else list(permit.wells.select_related("zone").defer("zone__geometry"))
    )
    return _strictest(w.zone for w in wells if w.zone is not None and w.layer == permit.source)


def _township_code(permit: Permit) -> str:
    return str(Township.objects.values_list("code", flat=True).get(pk=permit.township_id))


def permit_record(permit: Permit, wells: Iterable[Any] | None = None) -> PermitRecord:
    zone = permit_zone(permit, wells)
    return PermitRecord(
        str(permit.pk),
        Source(permit.source),
        permit.use_type,
        int(permit.annual_quota_m3),
        _township_code(permit),
        zone.code if zone is not None else None,
        permit.valid_until,
    )


def county_state(rules_: RuleSet | None = None) -> CountyState:
    """The county as the rule engine sees it: active permits, caps and emergency windows.

    Built from plain values (no model instances, no geometry): one query for the permits, one
    for their wells' layers and zones.
    """

    rs = rules_ or rule_set()
    conf = current_settings()
    rows = Permit.objects.filter(status=PermitStatus.ACTIVE).values_list(
        "pk", "source", "use_type", "annual_quota_m3", "township__code", "valid_until"
    )
    through = Permit.wells.through.objects.filter(permit__status=PermitStatus.ACTIVE)
    zone_of: dict[int, tuple[int, str]] = {}  # permit → (precedence, zone code)
    sources = {}
    permits = list(rows)
    for pk, source, *_rest in permits:
        sources[pk] = source
    active_wells: set[str] = set()
    for pid, wid, layer, code, kind in through.values_list(
        "permit_id", "well_id", "well__layer", "well__zone__code", "well__zone__kind"
    ):
        active_wells.add(str(wid))
        if code is None or layer != sources.get(pid) or layer == WaterSource.SURFACE:
            continue
        rank = ZONE_PRECEDENCE[kind]
        if pid not in zone_of or rank < zone_of[pid][0]:
            zone_of[pid] = (rank, code)
    records = [
        PermitRecord(
            str(pk),
            Source(source),
            use_type,
            int(quota),
            town,
            zone_of[pk][1] if pk in zone_of and source != WaterSource.SURFACE else None,
            until,
        )
        for pk, source, use_type, quota, town, until in permits
    ]
    return rules.state_from_permits(
        records,
        rs,
        county_cap=conf.county_cap_m3 if conf else None,
        township_caps=dict(conf.township_caps or {}) if conf else None,
        emergency_windows=emergency_windows(),
        active_wells=frozenset(active_wells),
    )


def permits_of(water_user: Any) -> QuerySet[Permit]:
    """The permits a water user holds (every status), newest first."""
    return Permit.objects.filter(holder=water_user).order_by("-created_at", "-id")


# ----------------------------------------------------------------------------- recording


def _flags(values: Iterable[str]) -> frozenset[Flag]:
    return frozenset(Flag(v) for v in values)


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
    }


def _username(by: Any) -> str:
    if by is not None and getattr(by, "is_authenticated", False):
        return str(by.get_username())
    return current().actor()[1]


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


def _ctx(by: Any, source: str, reason: str) -> Any:
    """An audit context naming ``by`` unless the request already does."""
    ctx = current()
    if ctx.request is not None or ctx.user is not None:
        from contextlib import nullcontext

        return nullcontext()
    return audit_context(user=by, source=source or "system", reason=reason)


def _zones_of(permit: Permit) -> tuple[ZoneRef, ...]:
    zone = permit_zone(permit)
    return (zone_ref(zone),) if zone is not None else ()


def _base_change(permit: Permit, kind: ChangeKind, volume: int, **kw: Any) -> Change:
    return Change(
        kind=kind,
        permit_id=str(permit.pk),
        on=kw.pop("on", None) or timezone.localdate(),
        source=Source(permit.source),
        use_type=permit.use_type,
        volume=volume,
        township=_township_code(permit),
        zones=_zones_of(permit),
        flags=kw.pop("flags", _flags(permit.flags or [])),
        **kw,
    )


# ----------------------------------------------------------------------------- quota


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


# ----------------------------------------------------------------------------- wells


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


# ----------------------------------------------------------------------------- workflow


def _deadline(received: date) -> date:
    return calendar().add_working_days(received, int(permit_setting("DECISION_WORKING_DAYS")))


def apply_for_permit(
    *,
    holder: Any,
    wells: Iterable[Any],
    source: str,
    use_type: str,
    annual_quota_m3: int,
    term_years: int | None = None,
    flags: Iterable[str] = (),
    purpose: str = "",
    statement: str = "",
    by: Any = None,
    received_on: date | None = None,
) -> PermitApplication:
    """File an application for a new permit: a pending :class:`Permit` and its application.

    Validates the fields (``full_clean``) and that every well belongs to the holder and draws
    the permit's source layer; raises Django's ValidationError / :class:`PermitError`.
    """
    from django.core.exceptions import ValidationError

    wells = list(wells)
    errors: dict[str, list[str]] = {}
    for w in wells:
        if w.owner_id != holder.pk:
            errors.setdefault("wells", []).append(_("%(code)s：不属于该持证人") % {"code": w.code})
        elif source != WaterSource.SURFACE and w.layer != source:
            errors.setdefault("wells", []).append(
                _("%(code)s：含水层与水源类型不符") % {"code": w.code}
            )
    if source != WaterSource.SURFACE and not wells:
        errors.setdefault("wells", []).append(_("地下水取水许可须列明取水井"))
    term = int(term_years or permit_setting_default_term())
    permit = Permit(
        holder=holder,
        source=source,
        use_type=use_type,
        annual_quota_m3=annual_quota_m3,
        term_years=term,
        flags=sorted(set(flags)),
        purpose=purpose,
        status=PermitStatus.PENDING,
    )
    permit.township_id = _first_township(wells) if wells else holder.township_id
    try:
        permit.full_clean(exclude=["township"])
    except ValidationError as exc:
        for k, v in exc.message_dict.items():
            errors.setdefault(k, []).extend(v)
    if errors:
        raise ValidationError(errors)
    received = received_on or timezone.localdate()
    with transaction.atomic(), _ctx(by, "web", "permit application"):
        permit.save()
        permit.wells.set(wells)
        app = PermitApplication.objects.create(
            permit=permit,
            kind=ApplicationKind.NEW,
            requested_quota_m3=annual_quota_m3,
            requested_term_years=term,
            statement=statement,
            received_on=received,
            deadline=_deadline(received),
            submitted_by=by if getattr(by, "is_authenticated", False) else None,
        )
    return app


def _first_township(wells: list[Any]) -> int:
    return sorted(wells, key=lambda w: w.code)[0].township_id  # type: ignore[no-any-return]


def permit_setting_default_term() -> int:
    return rules.DEFAULT_RULES.default_term_years


def apply_for(
    permit: Permit,
    kind: str,
    *,
    requested_quota_m3: int | None = None,
    requested_term_years: int | None = None,
    statement: str = "",
    by: Any = None,
    received_on: date | None = None,
) -> PermitApplication:
    """File a renewal, change or cancellation application on an active permit.

    Renewal: before expiry (art. 25 asks for 45 days before; later than that is accepted with
    a note, after expiry it is refused). Change: a new quota. One open application per permit.
    """
    received = received_on or timezone.localdate()
    if kind not in (ApplicationKind.RENEWAL, ApplicationKind.CHANGE, ApplicationKind.CANCELLATION):
        raise PermitError("kind", _("申请类型应为延续、变更或注销"))
    if permit.status != PermitStatus.ACTIVE:
        raise PermitError("permit", _("只能对有效许可证提出申请"))
    if permit.applications.filter(status__in=OPEN_APPLICATION).exists():
        raise PermitError("permit", _("该许可证已有未决申请"))
    note = ""
    if kind == ApplicationKind.RENEWAL:
        if permit.valid_until is not None and received > permit.valid_until:
            raise PermitError("kind", _("许可证已过期，不能延续，请重新申请"))
        lead = int(permit_setting("RENEWAL_LEAD_DAYS"))
        if permit.valid_until is not None and (permit.valid_until - received).days < lead:
            note = f"[迟于有效期届满前{lead}日提出 / filed later than {lead} days before expiry]"
        requested_quota_m3 = requested_quota_m3 or int(permit.annual_quota_m3)
        requested_term_years = requested_term_years or permit.term_years
        if not 1 <= requested_term_years <= rules.DEFAULT_RULES.max_term_years:
            raise PermitError("requested_term_years", _("有效期应为1至10年"))
    if kind == ApplicationKind.CHANGE and (not requested_quota_m3 or requested_quota_m3 < 1):
        raise PermitError("requested_quota_m3", _("请填写变更后的年许可水量"))
    if requested_quota_m3 is not None and requested_quota_m3 < 1:
        raise PermitError("requested_quota_m3", _("许可水量应为正整数 (m³)"))
    with transaction.atomic(), _ctx(by, "web", f"{kind} application"):
        return PermitApplication.objects.create(
            permit=permit,
            kind=kind,
            requested_quota_m3=requested_quota_m3,
            requested_term_years=requested_term_years,
            statement=(statement + (" " + note if note else "")).strip(),
            received_on=received,
            deadline=_deadline(received),
            submitted_by=by if getattr(by, "is_authenticated", False) else None,
        )


def review(app: PermitApplication, *, recommends: bool, opinion: str, by: Any) -> None:
    """The township's first-instance review (初审): an opinion and a recommendation."""
    if app.status != ApplicationStatus.SUBMITTED:
        raise PermitError("status", _("该申请不在待初审状态"))
    if not opinion.strip():
        raise PermitError("opinion", _("请填写初审意见"))
    with transaction.atomic(), _ctx(by, "web", "township review"):
        app.status = ApplicationStatus.REVIEWED
        app.township_recommends = recommends
        app.township_opinion = opinion.strip()
        app.reviewed_by = by
        app.reviewed_at = timezone.now()
        app.save()


def _application_change(app: PermitApplication, on: date) -> Change | None:
    permit = app.permit
    if app.kind == ApplicationKind.NEW:
        return _base_change(
            permit,
            ChangeKind.NEW_PERMIT,
            int(permit.annual_quota_m3),
            on=on,
            term_years=app.requested_term_years or permit.term_years,
        )
    if app.kind == ApplicationKind.RENEWAL:
        return _base_change(
            permit,
            ChangeKind.RENEWAL,
            int(app.requested_quota_m3 or permit.annual_quota_m3),
            on=on,
            term_years=app.requested_term_years or permit.term_years,
        )
    if app.kind == ApplicationKind.CHANGE:
        new = int(app.requested_quota_m3 or permit.annual_quota_m3)
        old = int(permit.annual_quota_m3)
        kind = ChangeKind.QUOTA_INCREASE if new > old else ChangeKind.QUOTA_DECREASE
        return _base_change(permit, kind, abs(new - old), on=on)
    return None  # cancellation: reduces abstraction, no rule holds it


def next_number(on: date, source: str) -> str:
    """The next permit number of the year (setting ``NUMBER_FORMAT``)."""
    fmt = str(permit_setting("NUMBER_FORMAT"))
    code = {"shallow": "G", "deep": "G", "surface": "S"}.get(source, "G")
    county = settings.AQUIFER.get("COUNTY_CODE", "")
    seq = Permit.objects.filter(valid_from__year=on.year, number__isnull=False).count() + 1
    while True:
        number = fmt.format(year=on.year, seq=seq, county=county, source=code)
        if not Permit.objects.filter(number=number).exists():
            return number
        seq += 1


def preview(app: PermitApplication, on: date | None = None) -> Decision | None:
    """What the rule engine would answer if the bureau approved ``app`` today (nothing is
    recorded): shown to the officer before deciding and to the applicant. None when the
    application is closed or no rule holds it (a cancellation)."""
    if not app.is_open:
        return None
    change = _application_change(app, on or timezone.localdate())
    if change is None:
        return None
    rs = rule_set()
    return rules.check(change, county_state(rs), rs)


def decide(
    app: PermitApplication,
    *,
    approve: bool,
    note: str = "",
    by: Any,
    on: date | None = None,
) -> Decision:
    """The bureau's decision on an application, through the rule engine.

    ``approve`` False refuses (the note is the reason; required). ``approve`` True approves
    only if the rules allow; otherwise the application is refused with the rules' reasons.
    Returns the rule engine's decision (for a refusal by the bureau: refused, with the note
    as the reason). The applicant and the township are notified (``permit.decided``).
    """
    on = on or timezone.localdate()
    if not app.is_open:
        raise PermitError("status", _("该申请已办结"))
    if not approve and not note.strip():
        raise PermitError("note", _("不予许可须说明理由"))
    with transaction.atomic(), _ctx(by, "web", f"decision on application {app.pk}"):
        app = PermitApplication.objects.select_for_update().get(pk=app.pk)
        if not app.is_open:
            raise PermitError("status", _("该申请已办结"))
        permit = Permit.objects.select_related("township").get(pk=app.permit_id)
        app.permit = permit
        change = _application_change(app, on)
        rs = rule_set()
        if change is not None:
            decision = rules.check(change, county_state(rs), rs)
        else:
            decision = Decision(True)
        if not approve:
            bureau = Reason(
                "bureau",
                note.strip(),
                note.strip(),
                (rules.SourceRef("取水许可和水资源费征收管理条例", "第二十条"),),
                "bureau",
                (("note", note.strip()),),
            )
            decision = Decision(False, (bureau, *decision.reasons))
        granted = approve and decision.allowed
        app.status = ApplicationStatus.APPROVED if granted else ApplicationStatus.REFUSED
        app.decided_by = by
        app.decided_at = timezone.now()
        app.decision_note = note.strip()
        app.decision = decision.to_dict()
        app.save()
        if granted:
            _grant(app, permit, on)
        elif app.kind == ApplicationKind.NEW:
            permit.status = PermitStatus.REFUSED
            permit.save()
        if change is not None:
            _record(
                change,
                decision,
                permit=permit,
                application=app,
                by=by,
                reason=note or f"application {app.pk}",
                applied=granted,
            )
        else:
            dummy = _base_change(permit, ChangeKind.QUOTA_DECREASE, 0, on=on)
            _record(
                dummy,
                decision,
                permit=permit,
                application=app,
                by=by,
                reason=note or f"application {app.pk}",
                applied=granted,
                subject="cancellation",
            )
    _notify_decision(app, decision)
    return decision


def _grant(app: PermitApplication, permit: Permit, on: date) -> None:
    from aquifer.permits.rules import _add_years

    if app.kind == ApplicationKind.NEW:
        term = app.requested_term_years or permit.term_years
        permit.number = next_number(on, permit.source)
        permit.valid_from = on
        permit.valid_until = _add_years(on, term)
        permit.term_years = term
        permit.status = PermitStatus.ACTIVE
    elif app.kind == ApplicationKind.RENEWAL:
        term = app.requested_term_years or permit.term_years
        start = permit.valid_until or on  # the renewed term follows on without a gap
        permit.valid_until = _add_years(start, term)
        permit.term_years = term
        permit.annual_quota_m3 = app.requested_quota_m3 or permit.annual_quota_m3
    elif app.kind == ApplicationKind.CHANGE:
        permit.annual_quota_m3 = app.requested_quota_m3 or permit.annual_quota_m3
    elif app.kind == ApplicationKind.CANCELLATION:
        permit.status = PermitStatus.CANCELLED
    permit.save()


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


def _notify_decision(app: PermitApplication, decision: Decision) -> None:
    permit = app.permit
    verdict = "准予许可" if app.status == ApplicationStatus.APPROVED else "不予许可"
    body = "\n".join(f"{r.zh}（{'；'.join(str(s) for s in r.sources)}）" for r in decision.reasons)
    users = None
    try:
        users = list(User.objects.filter(water_user_id=permit.holder_id, is_active=True))
    except Exception:
        users = None
    notify(
        event="permit.decided",
        title=f"{app.get_kind_display()}：{verdict}（{permit}）",
        body=body,
        township=permit.township,
        url=permit.get_absolute_url(),
        severity="info" if app.status == ApplicationStatus.APPROVED else "warning",
        users=users,
    )


# ----------------------------------------------------------------------------- rule settings


def save_settings(*, by: Any, document: str, **fields: Any) -> RuleSettings:
    """A new version of the rule settings (validated; the newest is in force; audited).

    Fields not given are carried over from the version in force.
    """
    prev = current_settings()
    carry = (
        "overloaded_townships",
        "overloaded_zones",
        "overloaded_sources",
        "county_cap_m3",
        "township_caps",
        "small_withdrawal_max_m3",
        "disabled_rules",
    )
    values = {k: getattr(prev, k) for k in carry} if prev is not None else {}
    unknown = set(fields) - set(carry) - {"note"}
    if unknown:
        raise PermitError(sorted(unknown)[0], _("未知设置项"))
    values.update(fields)
    if not document.strip():
        raise PermitError("document", _("请填写依据文件"))
    conf = RuleSettings(document=document.strip(), created_by=_username(by), **values)
    conf.full_clean()
    with transaction.atomic(), _ctx(by, "web", f"rule settings: {document}"):
        conf.save()
    return conf


def declare_window(
    *, name: str, start: date, end: date | None, document: str, reason: str, by: Any
) -> EmergencyWindow:
    """The bureau declares a deep-groundwater emergency window (audited)."""
    w = EmergencyWindow(
        name=name, start=start, end=end, document=document, reason=reason, declared_by=_username(by)
    )
    w.full_clean()
    with transaction.atomic(), _ctx(by, "web", f"emergency declared: {document}"):
        w.save()
    return w


def end_window(window: EmergencyWindow, *, end: date, by: Any) -> EmergencyWindow:
    """The bureau ends an emergency window (audited)."""
    if window.end is not None and window.end < timezone.localdate():
        raise PermitError("end", _("该应急期已结束"))
    window.end = end
    window.ended_by = _username(by)
    window.full_clean()
    with transaction.atomic(), _ctx(by, "web", f"emergency ended: {window.name}"):
        window.save()
    return window
