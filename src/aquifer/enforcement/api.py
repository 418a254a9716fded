"""REST API of the enforcement app: cases (list, export, read, open, open from an alarm,
steps, evidence), the metering compliance list and its export, electricity statements and the
以电折水 cross-check, pollution sources and their inspections, and the credit list (final
records public: the portal reuses it).

Every queryset comes from ``visible_to``; out of scope is a 404, a step the role may not take
a 403, a bad input a 422 naming the field. Writes go through ``enforcement.services``.

Do not add ``from __future__ import annotations`` (django-ninja reads these annotations).
"""

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile
from pydantic import ConfigDict

from aquifer.core.attachments import attach as store_file
from aquifer.core.crud import page
from aquifer.core.exports import export_response
from aquifer.core.filters import filter_errors, openapi_parameters
from aquifer.core.roles import Action
from aquifer.core.scoping import can, visible_record, visible_to
from aquifer.core.tables import export_columns
from aquifer.enforcement import articles, compliance, pollution, services
from aquifer.enforcement.compliance import metering_rows
from aquifer.enforcement.filters import CaseFilterSet
from aquifer.enforcement.models import (
    Case,
    CaseKind,
    CreditRecord,
    Evidence,
    PollutionSource,
    SourceInspection,
)
from aquifer.enforcement.tables import CaseTable, CreditTable, MeteringTable
from aquifer.maintenance.models import Patrol
from aquifer.monitoring.models import Alarm
from aquifer.registry.models import Township, WaterUser, Well

router = Router(tags=["enforcement"])


def _iso(t: Any) -> str | None:
    return t.isoformat() if t else None


class CaseOut(Schema):
    id: int
    number: str
    kind: str
    source: str
    source_ref: str
    state: str
    title: str
    facts: str
    party: str
    basis: str
    range: list[int]
    township_id: int | None
    owner_id: int | None
    well_id: int | None
    device_id: int | None
    alarm_id: int | None
    opened_at: str
    due_at: str | None
    due_step: str
    overdue: bool
    band: str
    proposed_amount: int | None
    decided_amount: int | None
    decision_reason: str
    decided_at: str | None
    closed_at: str | None
    steps: list[str]

    @staticmethod
    def of(c: Case, user: Any) -> dict[str, Any]:
        a = articles.ARTICLES[c.kind]
        return {
            "id": c.pk,
            "number": c.number,
            "kind": c.kind,
            "source": c.source,
            "source_ref": c.source_ref,
            "state": c.state,
            "title": c.title,
            "facts": c.facts,
            "party": c.party,
            "basis": a.basis,
            "range": [a.minimum, a.maximum],
            "township_id": c.township_id,
            "owner_id": c.owner_id,
            "well_id": c.well_id,
            "device_id": c.device_id,
            "alarm_id": c.alarm_id,
            "opened_at": c.opened_at.isoformat(),
            "due_at": _iso(c.due_at),
            "due_step": c.due_step,
            "overdue": c.overdue,
            "band": c.band,
            "proposed_amount": c.proposed_amount,
            "decided_amount": c.decided_amount,
            "decision_reason": c.decision_reason,
            "decided_at": _iso(c.decided_at),
            "closed_at": _iso(c.closed_at),
            "steps": services.permitted_steps(user, c),
        }


class CasePage(Schema):
    count: int
    limit: int
    offset: int
    items: list[CaseOut]


class EvidenceOut(Schema):
    seq: int
    kind: str
    label: str
    content: dict[str, Any]
    content_hash: str
    prev_hash: str
    entry_hash: str
    attached_at: str
    username: str


class StepOut(Schema):
    step: str
    at: str
    username: str
    note: str
    data: dict[str, Any]
    due_at: str | None


class CaseDetailOut(CaseOut):
    history: list[StepOut]
    evidence: list[EvidenceOut]


class CaseIn(Schema):
    kind: str
    source: Literal["patrol", "inspection", "complaint", "manual"] = "manual"
    title: str = Field("", max_length=200)
    facts: str = Field("", max_length=8000)
    party: str = Field("", max_length=200)
    well_id: int | None = None
    owner_id: int | None = None
    township_id: int | None = None


class FromAlarmIn(Schema):
    kind: str | None = None
    facts: str = Field("", max_length=8000)


class StepIn(Schema):
    step: Literal[
        "file", "investigate", "notice", "statement", "decide", "execute", "close", "dismiss"
    ]
    note: str = Field("", max_length=8000)
    band: str | None = None
    hearing: bool = False
    amount: int | None = None
    reason: str = Field("", max_length=8000)
    execution: str | None = None


class EvidenceIn(Schema):
    kind: Literal["frame", "statement", "note", "document", "finding"]
    label: str = Field(..., max_length=200)
    text: str = Field("", max_length=20000)
    raw_hex: str = Field("", max_length=200000)


def _signed_in(request: HttpRequest) -> Any:
    if not request.user.is_authenticated:
        raise HttpError(401, _("需要登录或 API 令牌。"))
    return request.user


def _cases(request: HttpRequest) -> Any:
    return visible_to(request.user, Action.VIEW, Case)


def _case(request: HttpRequest, pk: int) -> Case:
    c: Case | None = _cases(request).filter(pk=pk).first()
    if c is None:
        raise Http404
    return c


_CASE_FILTERS: dict[str, Any] = {"parameters": openapi_parameters(CaseFilterSet)}


def _filtered(request: HttpRequest) -> Any:
    filters = CaseFilterSet(request.GET, queryset=_cases(request), request=request)
    if not filters.is_valid():
        raise filter_errors(filters)
    return filters.qs


@router.get(
    "/enforcement/cases/",
    response=CasePage,
    operation_id="enforcement_case_list",
    openapi_extra=_CASE_FILTERS,
)
def case_list(
    request: HttpRequest,
    limit: int = Query(50, ge=1, le=500),  # type: ignore[type-arg]
    offset: int = Query(0, ge=0),  # type: ignore[type-arg]
) -> Any:
    """Cases the caller may see (inspectors county-wide; township officers their township's;
    a water user its own decided cases)."""
    return page(_filtered(request), limit, offset, lambda c: CaseOut.of(c, request.user))


@router.get(
    "/enforcement/cases/export",
    operation_id="enforcement_case_export",
    response={200: None},
    openapi_extra=_CASE_FILTERS,
)
def case_export(request: HttpRequest, format: Literal["xlsx", "csv"] = "xlsx") -> HttpResponse:
    """Excel (or CSV) of the filtered cases, with the case list's columns."""
    qs = _filtered(request).select_related("township")
    return export_response(qs, export_columns(CaseTable, Case), format, "cases")


def evidence_out(e: Evidence) -> dict[str, Any]:
    """One piece of evidence as the API shows it (with its place in the case's chain)."""
    return {
        "seq": e.seq,
        "kind": e.kind,
        "label": e.label,
        "content": e.content,
        "content_hash": e.content_hash,
        "prev_hash": e.prev_hash,
        "entry_hash": e.entry_hash,
        "attached_at": e.attached_at.isoformat(),
        "username": e.username,
    }


def detail(c: Case, user: Any) -> dict[str, Any]:
    out = CaseOut.of(c, user)
    show_evidence = can(user, "work", c) or can(user, "open", c)
    out["history"] = (
        [
            {
                "step": s.step,
                "at": s.at.isoformat(),
                "username": s.username,
                "note": s.note,
                "data": s.data,
                "due_at": _iso(s.due_at),
            }
            for s in c.steps.all()
        ]
        if show_evidence
        else []
    )
    out["evidence"] = [evidence_out(e) for e in c.evidence.all()] if show_evidence else []
    return out


@router.get("/enforcement/cases/{pk}", response=CaseDetailOut, operation_id="enforcement_case_read")
def case_read(request: HttpRequest, pk: int) -> Any:
    """A case with its procedure and evidence (a water user: its decision only)."""
    return detail(_case(request, pk), request.user)


@router.post(
    "/enforcement/cases/",
    response={201: CaseDetailOut},
    operation_id="enforcement_case_create",
    summary="Open a case (from a patrol, an inspection, a complaint or by hand)",
)
def case_create(request: HttpRequest, payload: CaseIn) -> Any:
    user = _signed_in(request)
    if payload.kind not in CaseKind.values:
        raise ValidationError({"kind": _("未知的案由：%s") % payload.kind})
    case = services.open_case(
        payload.kind,
        payload.source,
        by=user,
        title=payload.title,
        facts=payload.facts,
        party=payload.party,
        well=visible_record(user, Well, payload.well_id, "well_id"),
        owner=visible_record(user, WaterUser, payload.owner_id, "owner_id"),
        township=visible_record(user, Township, payload.township_id, "township_id"),
    )
    return Status(201, detail(case, user))


@router.post(
    "/enforcement/alarms/{pk}/case",
    response={201: CaseDetailOut},
    operation_id="enforcement_case_from_alarm",
    summary="Open a case from an alarm, its evidence attached",
)
def case_from_alarm(request: HttpRequest, pk: int, payload: FromAlarmIn) -> Any:
    user = _signed_in(request)
    alarm = visible_to(user, Action.VIEW, Alarm).filter(pk=pk).first()
    if alarm is None:
        raise Http404
    if payload.kind is not None and payload.kind not in CaseKind.values:
        raise ValidationError({"kind": _("未知的案由：%s") % payload.kind})
    case = services.open_from_alarm(alarm, by=user, kind=payload.kind, facts=payload.facts)
    return Status(201, detail(case, user))


class FromPatrolIn(Schema):
    kind: CaseKind
    facts: str = Field("", max_length=8000)


@router.post(
    "/enforcement/patrols/{pk}/case",
    response={201: CaseDetailOut},
    operation_id="enforcement_case_from_patrol",
    summary="Open a case from a patrol visit, its checklist and findings attached",
)
def case_from_patrol(request: HttpRequest, pk: int, payload: FromPatrolIn) -> Any:
    user = _signed_in(request)
    patrol = visible_to(user, Action.VIEW, Patrol).filter(pk=pk).first()
    if patrol is None:
        raise Http404
    case = services.open_from_patrol(patrol, by=user, kind=payload.kind, facts=payload.facts)
    return Status(201, detail(case, user))


@router.post(
    "/enforcement/cases/{pk}/steps",
    response=CaseDetailOut,
    operation_id="enforcement_case_step",
    summary="Take a step of the procedure",
)
def case_step(request: HttpRequest, pk: int, payload: StepIn) -> Any:
    user = _signed_in(request)
    case = _case(request, pk)
    data = payload.dict(exclude={"step", "note"}, exclude_none=True)
    services.take_step(case, payload.step, by=user, note=payload.note, **data)
    return detail(_case(request, pk), user)


@router.get(
    "/enforcement/cases/{pk}/evidence",
    response=list[EvidenceOut],
    operation_id="enforcement_case_evidence",
)
def case_evidence(request: HttpRequest, pk: int) -> Any:
    case = _case(request, pk)
    if not (can(request.user, "work", case) or can(request.user, "open", case)):
        raise PermissionDenied(_("无权查看证据。"))
    return detail(case, request.user)["evidence"]


class FramesIn(Schema):
    """The window of observations whose archived raw frames to attach (empty: the alarm's
    window, a day before it to its last sighting; without an alarm the last day). A time
    without an offset is China Standard Time."""

    start: dt.datetime | None = None
    end: dt.datetime | None = None


def _aware(t: dt.datetime | None) -> dt.datetime | None:
    return t if t is None or t.utcoffset() is not None else timezone.make_aware(t)


@router.post(
    "/enforcement/cases/{pk}/evidence/frames",
    response={201: list[EvidenceOut]},
    operation_id="enforcement_case_attach_frames",
    summary="Attach the case device's archived raw frames (hex as received) of a window",
)
def case_attach_frames(request: HttpRequest, pk: int, payload: FramesIn) -> Any:
    user = _signed_in(request)
    case = _case(request, pk)
    pieces = services.attach_archived_frames(
        case, by=user, start=_aware(payload.start), end=_aware(payload.end)
    )
    return Status(201, [evidence_out(e) for e in pieces])


@router.post(
    "/enforcement/cases/{pk}/evidence",
    response={201: EvidenceOut},
    operation_id="enforcement_case_attach",
    summary="Attach evidence: a raw frame (hex), a statement, a record",
)
def case_attach(request: HttpRequest, pk: int, payload: EvidenceIn) -> Any:
    user = _signed_in(request)
    case = _case(request, pk)
    content: dict[str, Any] = {"text": payload.text}
    if payload.kind == "frame":
        content = {"raw_hex": payload.raw_hex, "text": payload.text}
    e = services.attach(case, payload.kind, payload.label, content, by=user)
    return Status(201, evidence_out(e))


@router.post(
    "/enforcement/cases/{pk}/files",
    response={201: EvidenceOut},
    operation_id="enforcement_case_attach_file",
    summary="Attach a file (photo, scan, PDF) as evidence: stored by core.attachments",
)
def case_attach_file(
    request: HttpRequest, pk: int, file: File[UploadedFile], label: str = ""
) -> Any:
    user = _signed_in(request)
    case = _case(request, pk)
    if not can(user, "work", case):
        raise PermissionDenied(_("无权办理该案件。"))
    attachment = store_file(case, file, user=user, label=label)
    e = services.attach_file(case, attachment, by=user, label=label)
    return Status(201, evidence_out(e))


# --- metering -------------------------------------------------------------------------------


class MeteringOut(Schema):
    well_id: int
    code: str
    township_id: int | None
    township: str
    owner_id: int | None
    owner: str
    permitted_m3: int
    metered: bool
    online_required: bool
    online: bool
    problem: str


def _metering(request: HttpRequest, township_id: int | None) -> list[Any]:
    return metering_rows(request.user, township_id)


@router.get(
    "/enforcement/metering/", response=list[MeteringOut], operation_id="enforcement_metering_list"
)
def metering_list(request: HttpRequest, township_id: int | None = None) -> Any:
    """Wells that fall short of the metering rules (no meter; not online where required)."""
    return [{**r.__dict__, "problem": r.problem} for r in _metering(request, township_id)]


@router.get(
    "/enforcement/metering/export", operation_id="enforcement_metering_export", response={200: None}
)
def metering_export(
    request: HttpRequest, format: Literal["xlsx", "csv"] = "xlsx", township_id: int | None = None
) -> HttpResponse:
    """Excel (or CSV) of the metering compliance list."""
    return export_response(
        _metering(request, township_id), export_columns(MeteringTable), format, "metering"
    )


class ImportOut(Schema):
    created: int
    changed: int
    unchanged: int


@router.post(
    "/enforcement/electricity/import",
    response=ImportOut,
    operation_id="enforcement_electricity_import",
    summary="Import the power company's monthly kWh per well (xlsx or csv)",
)
def electricity_import(request: HttpRequest, file: File[UploadedFile]) -> Any:
    user = _signed_in(request)
    try:
        return compliance.import_electricity(file.name or "", file.read(), by=user)
    except compliance.ImportError_ as exc:
        raise ValidationError(
            {
                "file": [
                    _("第 %(row)s 行 %(col)s：%(msg)s") % {"row": r, "col": c, "msg": m}
                    for r, c, m in exc.errors[:50]
                ]
            }
        ) from None


class BypassOut(Schema):
    well_id: int
    code: str
    year: int
    coefficient: float
    basis: str
    months: list[dict[str, Any]]


class ElectricityCheckOut(Schema):
    year: int
    suspected: list[BypassOut]
    estimates: list[dict[str, Any]]


@router.get(
    "/enforcement/electricity/check",
    response=ElectricityCheckOut,
    operation_id="enforcement_electricity_check",
    summary="以电折水: suspected bypasses of metered wells and estimates of unmetered ones",
)
def electricity_check(request: HttpRequest, year: int | None = None) -> Any:
    """``year`` (default: the current year)."""
    year = year or timezone.localdate().year
    if not 2000 <= year <= 2100:
        raise ValidationError({"year": _("年份须在 2000–2100 之间。")})
    visible = set(visible_to(request.user, Action.VIEW, Well).values_list("id", flat=True))
    found = [b.__dict__ for b in compliance.cross_check(year) if b.well_id in visible]
    est = [e for e in compliance.estimates(year) if e["well_id"] in visible]
    return {"year": year, "suspected": found, "estimates": est}


# --- pollution sources ------------------------------------------------------------------------


class SourceOut(Schema):
    id: int
    name: str
    kind: str
    lon: float
    lat: float
    township_id: int | None
    operator_id: int | None
    operator_name: str
    tank_type: str
    seepage_control: bool
    monitoring_well: bool
    missing: list[str]


class SourceIn(Schema):
    name: str = Field(..., min_length=1, max_length=200)
    kind: Literal["fuel_station", "landfill", "tailings", "mine", "chemical", "hazardous_store"]
    lon: float
    lat: float
    operator_id: int | None = None
    operator_name: str = Field("", max_length=200)
    tank_type: Literal["", "double_walled", "seepage_pit", "single_walled"] = ""
    seepage_control: bool = False
    monitoring_well: bool = False


def source_out(s: PollutionSource) -> dict[str, Any]:
    return {
        "id": s.pk,
        "name": s.name,
        "kind": s.kind,
        "lon": s.lon,
        "lat": s.lat,
        "township_id": s.township_id,
        "operator_id": s.operator_id,
        "operator_name": s.operator_name,
        "tank_type": s.tank_type,
        "seepage_control": s.seepage_control,
        "monitoring_well": s.monitoring_well,
        "missing": pollution.missing_duties(
            s.kind, s.tank_type, s.seepage_control, s.monitoring_well
        ),
    }


@router.get(
    "/enforcement/sources/", response=list[SourceOut], operation_id="enforcement_source_list"
)
def source_list(request: HttpRequest, near_well_id: int | None = None) -> Any:
    """The pollution-source register; ``near_well_id``: those within the radius of a well."""
    qs = visible_to(request.user, Action.VIEW, PollutionSource)
    if near_well_id is not None:
        well = visible_record(request.user, Well, near_well_id, "near_well_id")
        ids = [s["id"] for s in pollution.sources_near_well(well)]
        qs = qs.filter(pk__in=ids)
    return [source_out(s) for s in qs]


@router.post(
    "/enforcement/sources/", response={201: SourceOut}, operation_id="enforcement_source_create"
)
def source_create(request: HttpRequest, payload: SourceIn) -> Any:
    user = _signed_in(request)
    data = payload.dict()
    data["operator"] = visible_record(user, WaterUser, data.pop("operator_id"), "operator_id")
    source = PollutionSource(**data)
    if not can(user, Action.ADD, source):
        raise PermissionDenied(_("无权登记污染源。"))
    source.full_clean()
    source.save()
    return Status(201, source_out(source))


class SourcePatch(Schema):
    """The fields of a source to change (only those given); any other name is a 422."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    kind: (
        Literal["fuel_station", "landfill", "tailings", "mine", "chemical", "hazardous_store"]
        | None
    ) = None
    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)
    operator_id: int | None = None
    operator_name: str | None = Field(None, max_length=200)
    tank_type: Literal["", "double_walled", "seepage_pit", "single_walled"] | None = None
    seepage_control: bool | None = None
    monitoring_well: bool | None = None
    notes: str | None = Field(None, max_length=8000)
    active: bool | None = None


@router.patch(
    "/enforcement/sources/{pk}", response=SourceOut, operation_id="enforcement_source_update"
)
def source_update(request: HttpRequest, pk: int, payload: SourcePatch) -> Any:
    """Edit a source: the fields given (validated, audited); out of sight a 404, a role that
    may not edit a 403."""
    user = _signed_in(request)
    source = visible_to(user, Action.VIEW, PollutionSource).filter(pk=pk).first()
    if source is None:
        raise Http404
    changes = payload.dict(exclude_unset=True)
    for field, value in list(changes.items()):
        if value is None and field not in ("operator_id",):
            raise ValidationError({field: _("不能为空。")})
    if "operator_id" in changes:
        changes["operator"] = visible_record(user, WaterUser, changes.pop("operator_id"),
                                             "operator_id")  # fmt: skip
    return source_out(pollution.update_source(source, changes, by=user))


class SourceInspectionIn(Schema):
    tank_type: Literal["", "double_walled", "seepage_pit", "single_walled"] = ""
    seepage_control: bool = False
    monitoring_well: bool = False
    findings: str = Field("", max_length=8000)


class SourceInspectionOut(Schema):
    id: int
    source_id: int
    inspected_at: str
    username: str
    missing: list[str]
    findings: str
    case_id: int | None


def inspection_out(i: SourceInspection) -> dict[str, Any]:
    return {
        "id": i.pk,
        "source_id": i.source_id,
        "inspected_at": i.inspected_at.isoformat(),
        "username": i.username,
        "missing": i.missing,
        "findings": i.findings,
        "case_id": i.case_id,
    }


@router.post(
    "/enforcement/sources/{pk}/inspections",
    response={201: SourceInspectionOut},
    operation_id="enforcement_source_inspect",
)
def source_inspect(request: HttpRequest, pk: int, payload: SourceInspectionIn) -> Any:
    user = _signed_in(request)
    source = visible_to(user, Action.VIEW, PollutionSource).filter(pk=pk).first()
    if source is None:
        raise Http404
    i = pollution.inspect(source, by=user, **payload.dict())
    return Status(201, inspection_out(i))


@router.post(
    "/enforcement/inspections/{pk}/case",
    response={201: CaseDetailOut},
    operation_id="enforcement_inspection_open_case",
    summary="Open a case from an inspection that found a duty missing",
)
def inspection_case(request: HttpRequest, pk: int) -> Any:
    user = _signed_in(request)
    i = visible_to(user, Action.VIEW, SourceInspection).filter(pk=pk).first()
    if i is None:
        raise Http404
    case = pollution.open_case_from_inspection(i, by=user)
    return Status(201, detail(case, user))


# --- credit -------------------------------------------------------------------------------


class CreditOut(Schema):
    id: int
    water_user_id: int
    water_user: str
    uscc: str
    kind: str
    basis: str
    amount: int
    decided_on: str
    final_on: str
    final: bool


@router.get(
    "/enforcement/credit/export",
    operation_id="enforcement_credit_export",
    response={200: None},
)
def credit_export(request: HttpRequest, format: Literal["xlsx", "csv"] = "xlsx") -> HttpResponse:
    """Excel (or CSV) of the credit records the caller may see (the public: the final ones)."""
    qs = visible_to(request.user, Action.VIEW, CreditRecord).select_related("water_user")
    return export_response(qs, export_columns(CreditTable, CreditRecord), format, "credit")


@router.get(
    "/enforcement/credit/", response=list[CreditOut], operation_id="enforcement_credit_list"
)
def credit_list(request: HttpRequest, water_user_id: int | None = None) -> Any:
    """Credit records (地下水管理条例 第五十三条): the final ones to everybody (the public
    portal reads this), pending ones to staff and to the water user concerned."""
    qs = visible_to(request.user, Action.VIEW, CreditRecord).select_related("water_user")
    if water_user_id is not None:
        qs = qs.filter(water_user_id=water_user_id)
    return [
        {
            "id": r.pk,
            "water_user_id": r.water_user_id,
            "water_user": r.water_user.name,
            "uscc": r.water_user.uscc,
            "kind": r.kind,
            "basis": r.basis,
            "amount": r.amount,
            "decided_on": r.decided_on.isoformat(),
            "final_on": r.final_on.isoformat(),
            "final": r.is_final,
        }
        for r in qs
    ]
