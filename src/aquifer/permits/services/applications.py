"""The application workflow: filing (new permit, renewal, change, cancellation) with its
decision deadline, the township's review, the preview and the bureau's decision (numbering,
the granted term, the applicant's notice).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from aquifer.core.models import User
from aquifer.core.texts import label, text
from aquifer.notifications.service import notify
from aquifer.permits import rules
from aquifer.permits.models import (
    OPEN_APPLICATION,
    ApplicationKind,
    ApplicationStatus,
    Permit,
    PermitApplication,
    PermitStatus,
    WaterSource,
)
from aquifer.permits.rules import Change, ChangeKind, Decision, Flag, Reason
from aquifer.permits.rules.state import _add_years
from aquifer.permits.services.common import PermitError, _ctx, calendar, permit_setting
from aquifer.permits.services.recording import _base_change, _record
from aquifer.permits.services.state import county_state, rule_set

__all__ = [
    "apply_for",
    "apply_for_permit",
    "decide",
    "next_number",
    "permit_setting_default_term",
    "preview",
    "review",
]


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


def review(
    app: PermitApplication,
    *,
    recommends: bool,
    opinion: str,
    by: Any,
    reclaimed_land: bool | None = None,
) -> None:
    """The township's first-instance review (初审): an opinion and a recommendation, and —
    where the reviewer has checked it on site — whether the water would irrigate illegally
    reclaimed land (地下水管理条例 第二十五条). That finding replaces what the application
    declared: the permit's declared facts follow it, so the bureau's decision judges the
    confirmed fact, and the application keeps who confirmed what."""
    if app.status != ApplicationStatus.SUBMITTED:
        raise PermitError("status", _("该申请不在待初审状态"))
    if not opinion.strip():
        raise PermitError("opinion", _("请填写初审意见"))
    with transaction.atomic(), _ctx(by, "web", "township review"):
        if reclaimed_land is not None:
            permit = Permit.objects.select_for_update().get(pk=app.permit_id)
            fact = Flag.ILLEGALLY_RECLAIMED_LAND.value
            flags = [f for f in (permit.flags or []) if f != fact]
            permit.flags = sorted([*flags, fact]) if reclaimed_land else flags
            permit.save()
            app.permit = permit
            app.reclaimed_land_finding = reclaimed_land
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


def _notify_decision(app: PermitApplication, decision: Decision) -> None:
    permit = app.permit
    approved = app.status == ApplicationStatus.APPROVED
    verdict = gettext_noop("准予许可") if approved else gettext_noop("不予许可")
    # Stored as message ids and params, shown in each reader's language (core.texts); a
    # reason carries its ready Chinese and English sentences.
    title = text(
        gettext_noop("%(kind)s：%(verdict)s（%(permit)s）"),
        kind=label(ApplicationKind(app.kind).label),
        verdict=text(verdict),
        permit=str(permit),
    )
    body = [{"zh": r.zh, "en": r.en} for r in decision.reasons]
    users = None
    try:
        users = list(User.objects.filter(water_user_id=permit.holder_id, is_active=True))
    except Exception:
        users = None
    notify(
        event="permit.decided",
        title=title,
        body=body,
        township=permit.township,
        url=permit.get_absolute_url(),
        severity="info" if approved else "warning",
        users=users,
    )
