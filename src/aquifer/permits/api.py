"""REST API of the permits app: permits, applications and decisions, quota use, the zone
ledger, the rules (with sources), emergency windows and exports.

Every queryset comes from ``visible_to``; a permit out of scope is a 404; an action the role
may not take is a 403; bad input is a 422 naming the field. The public sees no permit
(standards.md names no public register).

Do not add ``from __future__ import annotations`` (django-ninja reads these annotations).
"""

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.errors import HttpError

from aquifer.core.crud import page
from aquifer.core.exports import export_response
from aquifer.core.filters import filter_errors, openapi_parameters
from aquifer.core.roles import Action
from aquifer.core.scoping import allowed, can, visible_to
from aquifer.core.tables import export_columns
from aquifer.permits import reports, services
from aquifer.permits.filters import PermitFilterSet
from aquifer.permits.models import (
    ApplicationKind,
    EmergencyWindow,
    Permit,
    PermitApplication,
    PermitStatus,
    RuleDecision,
    WaterSource,
)
from aquifer.permits.tables import LedgerTable, PermitTable, QuotaUseTable
from aquifer.registry.choices import UseType
from aquifer.registry.models import WaterUser, Well

router = Router(tags=["permits"])


def _forbid() -> None:
    raise PermissionDenied(_("您的角色无权执行该操作。"))


def _managers_only(request: HttpRequest) -> None:
    """403 unless the caller may manage permits (the bureau)."""
    if not reports.can_manage(request.user):
        _forbid()


def _invalid(exc: services.PermitError) -> ValidationError:
    return ValidationError({exc.field: [exc.message]})


@contextmanager
def _refused_as_invalid() -> Iterator[None]:
    """A service's refusal (PermitError) → 422 naming its field."""
    try:
        yield
    except services.PermitError as exc:
        raise _invalid(exc) from None


def _limits(limit: int, offset: int) -> None:
    if not 1 <= limit <= 500:
        raise ValidationError({"limit": [_("limit 应在 1 至 500 之间。")]})
    if offset < 0:
        raise ValidationError({"offset": [_("offset 不能为负。")]})


def _year(year: int | None) -> int:
    y = year if year is not None else timezone.localdate().year
    if not 2000 <= y <= 2100:
        raise ValidationError({"year": [_("年份应在 2000 至 2100 之间。")]})
    return y


# ----------------------------------------------------------------------------- schemas


class PermitOut(Schema):
    id: int
    number: str | None
    holder_id: int
    holder: str
    township_id: int
    township: str
    wells: list[int]
    source: str
    use_type: str
    annual_quota_m3: int
    term_years: int
    valid_from: dt.date | None
    valid_until: dt.date | None
    status: str
    flags: list[str]
    purpose: str
    unused_since: dt.date | None

    @staticmethod
    def of(p: Permit) -> dict[str, Any]:
        return {
            "id": p.pk,
            "number": p.number,
            "holder_id": p.holder_id,
            "holder": str(p.holder),
            "township_id": p.township_id,
            "township": str(p.township),
            "wells": [w.pk for w in p.wells.all()],
            "source": p.source,
            "use_type": p.use_type,
            "annual_quota_m3": int(p.annual_quota_m3),
            "term_years": p.term_years,
            "valid_from": p.valid_from,
            "valid_until": p.valid_until,
            "status": p.status,
            "flags": list(p.flags or []),
            "purpose": p.purpose,
            "unused_since": p.unused_since,
        }


class PermitPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[PermitOut]


class ApplicationOut(Schema):
    id: int
    permit_id: int
    kind: str
    status: str
    requested_quota_m3: int | None
    requested_term_years: int | None
    statement: str
    received_on: dt.date
    deadline: dt.date
    working_days_left: int | None
    # Years between receipt and deadline that the holiday data lacks (counted weekends only):
    # the deadline is provisional until the State Council's notice for them is in.
    deadline_uncounted_years: list[int]
    township_opinion: str
    reclaimed_land_finding: bool | None
    township_recommends: bool | None
    decision_note: str
    decision: dict[str, Any] | None

    @staticmethod
    def of(a: PermitApplication) -> dict[str, Any]:
        cal = services.calendar()
        left = cal.working_days_between(timezone.localdate(), a.deadline) if a.is_open else None
        return {
            "id": a.pk,
            "permit_id": a.permit_id,
            "kind": a.kind,
            "status": a.status,
            "requested_quota_m3": a.requested_quota_m3,
            "requested_term_years": a.requested_term_years,
            "statement": a.statement,
            "received_on": a.received_on,
            "deadline": a.deadline,
            "working_days_left": left,
            "deadline_uncounted_years": cal.uncovered_years(a.received_on, a.deadline),
            "township_opinion": a.township_opinion,
            "reclaimed_land_finding": a.reclaimed_land_finding,
            "township_recommends": a.township_recommends,
            "decision_note": a.decision_note,
            "decision": a.decision,
        }


class RuleDecisionOut(Schema):
    id: int
    at: str
    subject: str
    permit_id: int | None
    application_id: int | None
    well_id: int | None
    allowed: bool
    applied: bool
    change: dict[str, Any]
    result: dict[str, Any]
    reason: str
    by: str

    @staticmethod
    def of(r: RuleDecision) -> dict[str, Any]:
        return {
            "id": r.pk,
            "at": r.at.isoformat(),
            "subject": r.subject,
            "permit_id": r.permit_id,
            "application_id": r.application_id,
            "well_id": r.well_id,
            "allowed": r.allowed,
            "applied": r.applied,
            "change": r.change,
            "result": r.result,
            "reason": r.reason,
            "by": r.by_username,
        }


class PermitDetailOut(PermitOut):
    applications: list[ApplicationOut]
    decisions: list[RuleDecisionOut]


class DecisionOut(Schema):
    allowed: bool
    reasons: list[dict[str, Any]]
    conditions: list[dict[str, Any]]


def _filter(request: HttpRequest) -> Any:
    """The visible permits that pass the query's filters (PermitFilterSet, the pages' too);
    an invalid filter value is a 422 naming it."""
    qs = reports.permits_visible(request.user).prefetch_related("wells")
    filters = PermitFilterSet(request.GET, queryset=qs, request=request)
    if not filters.is_valid():
        raise filter_errors(filters)
    return filters.qs


#: The list's filters, as the OpenAPI document describes them.
_FILTERS: dict[str, Any] = {"parameters": openapi_parameters(PermitFilterSet)}


# ----------------------------------------------------------------------------- permits


@router.get("/permits/", response=PermitPage, operation_id="permits_list", openapi_extra=_FILTERS)
def permit_list(request: HttpRequest, limit: int = 50, offset: int = 0) -> dict[str, Any]:
    """Permits the caller may see (a water user: their own; a township: its own; none for
    the public)."""
    _limits(limit, offset)
    return page(_filter(request), limit, offset, PermitOut.of)


def _permit(request: HttpRequest, pk: int) -> Permit:
    return get_object_or_404(reports.permits_visible(request.user), pk=pk)


@router.get("/permits/{int:pk}", response=PermitDetailOut, operation_id="permits_read")
def permit_read(request: HttpRequest, pk: int) -> dict[str, Any]:
    p = _permit(request, pk)
    decisions = visible_to(request.user, Action.VIEW, RuleDecision).filter(permit=p)
    return {
        **PermitOut.of(p),
        "applications": [ApplicationOut.of(a) for a in p.applications.order_by("-id")],
        "decisions": [RuleDecisionOut.of(r) for r in decisions.order_by("-at", "-id")],
    }


class ApplyIn(Schema):
    holder_id: int
    well_ids: list[int] = []
    source: WaterSource
    use_type: UseType
    annual_quota_m3: int
    term_years: int | None = None
    flags: list[str] = []
    purpose: str = ""
    statement: str = ""


@router.post("/permits/applications/", response={201: ApplicationOut}, operation_id="permits_apply")
def permit_apply(request: HttpRequest, body: ApplyIn) -> Any:
    """Apply for a new permit (water user: for themself; township: in its township)."""

    if not reports.can_apply(request.user):
        _forbid()
    holder = visible_to(request.user, Action.VIEW, WaterUser).filter(pk=body.holder_id).first()
    if holder is None or not reports.can_apply(request.user, holder):
        raise ValidationError({"holder_id": [_("没有该取用水户，或您不能为其申请。")]})
    wells = list(visible_to(request.user, Action.VIEW, Well).filter(pk__in=body.well_ids))
    missing = set(body.well_ids) - {w.pk for w in wells}
    if missing:
        raise ValidationError(
            {"well_ids": [_("没有这些取水井：%s") % ", ".join(map(str, sorted(missing)))]}
        )
    if body.term_years is not None and not 1 <= body.term_years <= 10:
        raise ValidationError({"term_years": [_("有效期应为1至10年")]})
    if body.annual_quota_m3 < 1:
        raise ValidationError({"annual_quota_m3": [_("许可水量应为正整数 (m³)")]})
    app = services.apply_for_permit(
        holder=holder,
        wells=wells,
        source=body.source,
        use_type=body.use_type,
        annual_quota_m3=body.annual_quota_m3,
        term_years=body.term_years,
        flags=body.flags,
        purpose=body.purpose,
        statement=body.statement,
        by=request.user,
    )
    return Status(201, ApplicationOut.of(app))


def _application(request: HttpRequest, pk: int) -> PermitApplication:
    qs = visible_to(request.user, Action.VIEW, PermitApplication).select_related("permit__township")
    return get_object_or_404(qs, pk=pk)


@router.get(
    "/permits/applications/{int:pk}", response=ApplicationOut, operation_id="permits_application"
)
def application_read(request: HttpRequest, pk: int) -> dict[str, Any]:
    return ApplicationOut.of(_application(request, pk))


class ReviewIn(Schema):
    recommends: bool
    opinion: str
    #: The reviewer's finding on irrigation of illegally reclaimed land (条例 第二十五条):
    #: omitted or null — as the application declared.
    reclaimed_land: bool | None = None


@router.post(
    "/permits/applications/{int:pk}/review",
    response=ApplicationOut,
    operation_id="permits_application_review",
)
def application_review(request: HttpRequest, pk: int, body: ReviewIn) -> dict[str, Any]:
    """The township's first-instance review of an application in its township."""
    app = _application(request, pk)
    if not can(request.user, "review", app):
        _forbid()
    if not reports.can_review(request.user, app):
        raise HttpError(409, _("该申请不在待初审状态。"))
    with _refused_as_invalid():
        services.review(
            app,
            recommends=body.recommends,
            opinion=body.opinion,
            by=request.user,
            reclaimed_land=body.reclaimed_land,
        )
    return ApplicationOut.of(app)


class DecideIn(Schema):
    approve: bool
    note: str = ""


@router.post(
    "/permits/applications/{int:pk}/decide",
    response=DecisionOut,
    operation_id="permits_application_decide",
)
def application_decide(request: HttpRequest, pk: int, body: DecideIn) -> dict[str, Any]:
    """The bureau decides; approval passes only if the rules allow (reasons otherwise)."""
    app = _application(request, pk)
    if not reports.can_decide(request.user):
        _forbid()
    if not app.is_open:
        raise HttpError(409, _("该申请已办结。"))
    with _refused_as_invalid():
        d = services.decide(app, approve=body.approve, note=body.note, by=request.user)
    return d.to_dict()


class RequestIn(Schema):
    kind: Literal["renewal", "change", "cancellation"]
    requested_quota_m3: int | None = None
    requested_term_years: int | None = None
    statement: str = ""


@router.post(
    "/permits/{int:pk}/requests",
    response={201: ApplicationOut},
    operation_id="permits_request",
)
def permit_request(request: HttpRequest, pk: int, body: RequestIn) -> Any:
    """Apply for renewal, change (a new quota) or cancellation of an active permit."""
    p = _permit(request, pk)
    if not reports.can_request(request.user, p):
        if p.status != PermitStatus.ACTIVE and can(request.user, "request", p):
            raise ValidationError({"permit": [_("只能对有效许可证提出申请")]})
        _forbid()
    with _refused_as_invalid():
        app = services.apply_for(
            p,
            ApplicationKind(body.kind),
            requested_quota_m3=body.requested_quota_m3,
            requested_term_years=body.requested_term_years,
            statement=body.statement,
            by=request.user,
        )
    return Status(201, ApplicationOut.of(app))


class QuotaIn(Schema):
    new_quota_m3: int
    reason: str


@router.post("/permits/{int:pk}/quota", response=DecisionOut, operation_id="permits_change_quota")
def permit_quota(request: HttpRequest, pk: int, body: QuotaIn) -> dict[str, Any]:
    """The bureau changes a quota through the rule engine (refused: the reasons, 200)."""
    p = _permit(request, pk)
    _managers_only(request)
    if not body.reason.strip():
        raise ValidationError({"reason": [_("请填写事由")]})
    with _refused_as_invalid():
        d = services.change_quota(
            p, body.new_quota_m3, reason=body.reason, by=request.user, source="api"
        )
    return d.to_dict()


class CancelIn(Schema):
    reason: str


@router.post("/permits/{int:pk}/cancel", response=PermitOut, operation_id="permits_cancel")
def permit_cancel(request: HttpRequest, pk: int, body: CancelIn) -> dict[str, Any]:
    p = _permit(request, pk)
    _managers_only(request)
    with _refused_as_invalid():
        services.cancel(p, reason=body.reason, by=request.user)
    return PermitOut.of(_permit(request, pk))


class MonthOut(Schema):
    month: int
    metered_m3: float
    estimated_m3: float


class QuotaUseOut(Schema):
    permit: int
    number: str | None
    holder: str
    year: int
    quota_m3: int
    used_m3: float | None
    estimated_m3: float | None
    share: float | None
    monthly: list[MonthOut] | None = None


@router.get("/permits/{int:pk}/quota-use", response=QuotaUseOut, operation_id="permits_quota_use")
def permit_quota_use(request: HttpRequest, pk: int, year: int | None = None) -> dict[str, Any]:
    """Used / quota of one permit in a year, with the monthly withdrawal."""
    p = _permit(request, pk)
    y = _year(year)
    row = reports.quota_rows([p], y)[0]
    return {**row.as_dict(), "monthly": reports.monthly_use(p, y)}


class QuotaUsePage(Schema):
    count: int
    limit: int
    offset: int
    items: list[QuotaUseOut]


@router.get(
    "/permits/quota-use/",
    response=QuotaUsePage,
    operation_id="permits_quota_use_list",
    openapi_extra=_FILTERS,
)
def quota_use_list(
    request: HttpRequest, year: int | None = None, limit: int = 50, offset: int = 0
) -> dict[str, Any]:
    """Used / quota of each active permit the caller may see."""
    _limits(limit, offset)
    y = _year(year)
    qs = _filter(request).filter(status=PermitStatus.ACTIVE)
    chunk = list(qs.prefetch_related(None)[offset : offset + limit])
    return {
        "count": qs.count(),
        "limit": limit,
        "offset": offset,
        "items": [r.as_dict() for r in reports.quota_rows(chunk, y)],
    }


@router.get("/permits/ledger/", operation_id="permits_zone_ledger")
def zone_ledger(request: HttpRequest, year: int | None = None) -> dict[str, Any]:
    """Allowable vs permitted vs metered per zone, township and county (bureau, township,
    inspector)."""
    if not reports.can_see_ledger(request.user):
        _forbid()
    y = _year(year)
    return {"year": y, **reports.ledger(y)}


@router.get("/permits/export", operation_id="permits_export", openapi_extra=_FILTERS)
def export(
    request: HttpRequest,
    what: Literal["permits", "quota-use", "ledger"] = "permits",
    format: Literal["xlsx", "csv"] = "xlsx",
    year: int | None = None,
) -> HttpResponse:
    """Excel (or CSV) of the permits or the quota use (both filtered as their lists), or of
    the zone ledger; the columns are those of their pages (permits/tables.py)."""
    if not allowed(request.user, "permits.register"):
        _forbid()
    y = _year(year)
    if what == "permits":
        return export_response(
            _filter(request), export_columns(PermitTable, Permit), format, "permits"
        )
    if what == "quota-use":
        qs = _filter(request).filter(status=PermitStatus.ACTIVE)
        return export_response(
            reports.quota_rows(qs, y), export_columns(QuotaUseTable), format, f"quota-use-{y}"
        )
    if not reports.can_see_ledger(request.user):
        _forbid()
    return export_response(
        reports.ledger_rows(reports.ledger(y)),
        export_columns(LedgerTable),
        format,
        f"zone-ledger-{y}",
    )


# ----------------------------------------------------------------------------- rules


class WindowOut(Schema):
    id: int
    name: str
    start: dt.date
    end: dt.date | None
    document: str
    reason: str
    declared_by: str
    ended_by: str

    @staticmethod
    def of(w: EmergencyWindow) -> dict[str, Any]:
        return {
            "id": w.pk,
            "name": w.name,
            "start": w.start,
            "end": w.end,
            "document": w.document,
            "reason": w.reason,
            "declared_by": w.declared_by,
            "ended_by": w.ended_by,
        }


@router.get("/permits/rules", operation_id="permits_rules")
def rules_read(request: HttpRequest) -> dict[str, Any]:
    """The active RuleSet (rules, sources, parameters), caps, and the emergency windows."""
    if not reports.can_see_rules(request.user):
        _forbid()
    conf = services.current_settings()
    return {
        "ruleset": services.rule_set(conf).to_dict(),
        "county_cap_m3": conf.county_cap_m3 if conf else None,
        "township_caps": dict(conf.township_caps or {}) if conf else {},
        "settings_version": conf.pk if conf else None,
        "settings_document": conf.document if conf else "",
        "in_emergency": services.in_emergency(timezone.localdate()),
        "emergency_windows": [WindowOut.of(w) for w in EmergencyWindow.objects.all()],
        "calendar_years": sorted(services.calendar().known_years),
    }


class SettingsIn(Schema):
    document: str
    overloaded_townships: list[str] | None = None
    overloaded_zones: list[str] | None = None
    overloaded_sources: list[str] | None = None
    county_cap_m3: int | None = None
    township_caps: dict[str, int] | None = None
    small_withdrawal_max_m3: int | None = None
    disabled_rules: list[str] | None = None
    note: str = ""


@router.post("/permits/rules/settings", operation_id="permits_rules_settings")
def rules_settings(request: HttpRequest, body: SettingsIn) -> dict[str, Any]:
    """A new version of the rule settings (bureau). Fields left out are carried over."""
    _managers_only(request)
    given = {k: v for k, v in body.dict().items() if v is not None and k != "document"}
    if body.county_cap_m3 is not None and body.county_cap_m3 < 0:
        raise ValidationError({"county_cap_m3": [_("应为非负整数")]})
    with _refused_as_invalid():
        services.save_settings(by=request.user, document=body.document, **given)
    return rules_read(request)


class WindowIn(Schema):
    name: str
    start: dt.date
    end: dt.date | None = None
    document: str
    reason: str = ""


@router.post(
    "/permits/emergency-windows/", response={201: WindowOut}, operation_id="permits_window_add"
)
def window_declare(request: HttpRequest, body: WindowIn) -> Any:
    """The bureau declares a deep-groundwater emergency window."""
    _managers_only(request)
    w = services.declare_window(by=request.user, **body.dict())
    return Status(201, WindowOut.of(w))


class WindowEndIn(Schema):
    end: dt.date


@router.post(
    "/permits/emergency-windows/{int:pk}/end", response=WindowOut, operation_id="permits_window_end"
)
def window_end(request: HttpRequest, pk: int, body: WindowEndIn) -> dict[str, Any]:
    _managers_only(request)
    w = get_object_or_404(EmergencyWindow, pk=pk)
    with _refused_as_invalid():
        services.end_window(w, end=body.end, by=request.user)
    return WindowOut.of(w)
