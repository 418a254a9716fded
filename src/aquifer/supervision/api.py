"""REST API of township supervision: plans and tasks, targets, scoring methods, the
assessment (ranking, evidence, adjustment, export), inspections, findings, rectification
orders and accountability records.

Every queryset comes from ``visible_to``; a record out of scope is a 404, an action the role
may not take a 403, a bad input a 422 naming the field. Writes go through
``supervision.services`` (the same checks as the pages).

Do not add ``from __future__ import annotations`` (django-ninja reads these annotations).
"""

import datetime as dt
from typing import Any, Literal

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile

from aquifer.core.api import AttachmentOut, attachment_out
from aquifer.core.attachments import attachments_of
from aquifer.core.crud import page
from aquifer.core.exports import export_response
from aquifer.core.filters import filter_errors, openapi_parameters
from aquifer.core.roles import Action
from aquifer.core.scoping import can, visible_to
from aquifer.core.tables import export_columns
from aquifer.enforcement.models import CaseKind
from aquifer.registry.models import Township, WaterUser
from aquifer.supervision import measures, services
from aquifer.supervision.filters import OrderFilterSet
from aquifer.supervision.models import (
    Accountability,
    Assessment,
    Finding,
    Indicator,
    Inspection,
    PlanTask,
    Rectification,
    Score,
    ScoringMethod,
    Severity,
    Target,
    TaskKind,
    WorkPlan,
)
from aquifer.supervision.tables import ScoreTable

router = Router(tags=["supervision"])

YEAR = Query(..., ge=2000, le=2100)  # type: ignore[type-arg]


def _iso(t: Any) -> str | None:
    return t.isoformat() if t else None


def _signed_in(request: HttpRequest) -> Any:
    if not request.user.is_authenticated:
        raise HttpError(401, _("需要登录或 API 令牌。"))
    return request.user


def _one(request: HttpRequest, model: Any, pk: int) -> Any:
    obj = visible_to(request.user, Action.VIEW, model).filter(pk=pk).first()
    if obj is None:
        raise Http404
    return obj


def _township(user: Any, township_id: int, field: str = "township_id") -> Township:
    t = visible_to(user, Action.VIEW, Township).filter(pk=township_id).first()
    if t is None:
        raise ValidationError({field: _("不存在编号为 %s 的乡镇。") % township_id})
    return t


# --- plans ----------------------------------------------------------------------------------


class TaskOut(Schema):
    id: int
    kind: str
    title: str
    target: float
    unit: str
    deadline: dt.date
    responsible: str
    progress: float
    progress_computed: bool
    progress_note: str
    done: bool
    overdue: bool


class PlanOut(Schema):
    id: int
    township_id: int
    year: int
    title: str
    state: str
    version: int
    comment: str
    tasks: list[TaskOut]
    versions: list[dict[str, Any]]

    @staticmethod
    def of(p: WorkPlan) -> dict[str, Any]:
        return {
            "id": p.pk,
            "township_id": p.township_id,
            "year": p.year,
            "title": p.title,
            "state": p.state,
            "version": p.version,
            "comment": p.comment,
            "tasks": [
                {**{f: getattr(t, f) for f in TaskOut.model_fields}, "id": t.pk}
                for t in p.tasks.all()
            ],
            "versions": [
                {
                    "version": v.version,
                    "state": v.state,
                    "comment": v.comment,
                    "username": v.username,
                    "at": v.at.isoformat(),
                    "tasks": v.tasks,
                }
                for v in p.versions.all()
            ],
        }


class PlanIn(Schema):
    township_id: int
    year: int = Field(..., ge=2000, le=2100)
    title: str = Field("", max_length=200)


class TaskIn(Schema):
    kind: TaskKind
    title: str = Field(..., min_length=1, max_length=200)
    target: float = Field(..., ge=0)
    unit: str = Field(..., min_length=1, max_length=20)
    deadline: dt.date
    responsible: str = Field(..., min_length=1, max_length=100)


class PlanActionIn(Schema):
    action: Literal["submit", "return", "approve"]
    comment: str = Field("", max_length=4000)


class ProgressIn(Schema):
    progress: float = Field(..., ge=0)
    note: str = Field("", max_length=300)


@router.get("/supervision/plans/", response=list[PlanOut], operation_id="supervision_plan_list")
def plan_list(request: HttpRequest, year: int | None = Query(None, ge=2000, le=2100)) -> Any:  # type: ignore[type-arg]
    qs = visible_to(request.user, Action.VIEW, WorkPlan).prefetch_related("tasks", "versions")
    if year is not None:
        qs = qs.filter(year=year)
    return [PlanOut.of(p) for p in qs]


@router.post("/supervision/plans/", response={201: PlanOut}, operation_id="supervision_plan_create")
def plan_create(request: HttpRequest, payload: PlanIn) -> Any:
    user = _signed_in(request)
    township = _township(user, payload.township_id)
    plan = services.open_plan(by=user, township=township, year=payload.year, title=payload.title)
    return Status(201, PlanOut.of(plan))


@router.get("/supervision/plans/{pk}", response=PlanOut, operation_id="supervision_plan_read")
def plan_read(request: HttpRequest, pk: int) -> Any:
    return PlanOut.of(_one(request, WorkPlan, pk))


@router.post(
    "/supervision/plans/{pk}/tasks",
    response={201: PlanOut},
    operation_id="supervision_plan_task_add",
)
def plan_task_add(request: HttpRequest, pk: int, payload: TaskIn) -> Any:
    user = _signed_in(request)
    plan = _one(request, WorkPlan, pk)
    services.add_task(by=user, plan=plan, **payload.dict())
    return Status(201, PlanOut.of(plan))


@router.post(
    "/supervision/plans/{pk}/actions",
    response=PlanOut,
    operation_id="supervision_plan_act",
    summary="Submit a plan (township), return it with comments or approve it (bureau)",
)
def plan_act(request: HttpRequest, pk: int, payload: PlanActionIn) -> Any:
    user = _signed_in(request)
    plan = _one(request, WorkPlan, pk)
    if payload.action == "submit":
        services.submit_plan(by=user, plan=plan)
    elif payload.action == "return":
        services.return_plan(by=user, plan=plan, comment=payload.comment)
    else:
        services.approve_plan(by=user, plan=plan, comment=payload.comment)
    return PlanOut.of(_one(request, WorkPlan, pk))


@router.post(
    "/supervision/tasks/{pk}/progress",
    response=TaskOut,
    operation_id="supervision_task_progress",
    summary="Enter a task's progress (tasks Aquifer does not measure)",
)
def task_progress(request: HttpRequest, pk: int, payload: ProgressIn) -> Any:
    user = _signed_in(request)
    task = _one(request, PlanTask, pk)
    services.set_progress(by=user, task=task, progress=payload.progress, note=payload.note)
    return {**{f: getattr(task, f) for f in TaskOut.model_fields}, "id": task.pk}


# --- targets and methods ---------------------------------------------------------------------


class TargetOut(Schema):
    id: int
    township_id: int
    year: int
    indicator: str
    value: float
    default_value: float | None
    basis: dict[str, Any]
    note: str


class TargetIn(Schema):
    township_id: int
    year: int = Field(..., ge=2000, le=2100)
    indicator: Indicator
    value: float = Field(..., ge=0)
    note: str = Field("", max_length=300)


def _target_out(t: Target) -> dict[str, Any]:
    return {f: getattr(t, f) for f in TargetOut.model_fields} | {"id": t.pk}


@router.get(
    "/supervision/targets/", response=list[TargetOut], operation_id="supervision_target_list"
)
def target_list(
    request: HttpRequest,
    year: int | None = Query(None, ge=2000, le=2100),  # type: ignore[type-arg]
) -> Any:
    """The targets of ``year`` (default: this year) the caller may see."""
    qs = visible_to(request.user, Action.VIEW, Target).filter(
        year=year or timezone.localdate().year
    )
    return [_target_out(t) for t in qs]


@router.post(
    "/supervision/targets/", response={201: TargetOut}, operation_id="supervision_target_set"
)
def target_set(request: HttpRequest, payload: TargetIn) -> Any:
    user = _signed_in(request)
    township = _township(user, payload.township_id)
    t = services.set_target(
        by=user,
        township=township,
        year=payload.year,
        indicator=payload.indicator,
        value=payload.value,
        note=payload.note,
    )
    return Status(201, _target_out(t))


class DefaultsOut(Schema):
    created: int


@router.post(
    "/supervision/targets/defaults",
    response=DefaultsOut,
    operation_id="supervision_target_defaults",
    summary="Create the year's missing targets from the computed defaults",
)
def target_defaults(request: HttpRequest, year: int = YEAR) -> Any:
    user = _signed_in(request)
    return {"created": services.fill_default_targets(by=user, year=year)}


class MethodOut(Schema):
    id: int
    year: int
    version: int
    definition: dict[str, Any]
    note: str


class MethodIn(Schema):
    year: int = Field(..., ge=2000, le=2100)
    definition: dict[str, Any]
    note: str = Field("", max_length=300)


@router.get(
    "/supervision/methods/", response=list[MethodOut], operation_id="supervision_method_list"
)
def method_list(request: HttpRequest) -> Any:
    return list(visible_to(request.user, Action.VIEW, ScoringMethod))


@router.post(
    "/supervision/methods/", response={201: MethodOut}, operation_id="supervision_method_add"
)
def method_add(request: HttpRequest, payload: MethodIn) -> Any:
    user = _signed_in(request)
    m = services.add_method_version(
        by=user, year=payload.year, definition=payload.definition, note=payload.note
    )
    return Status(201, m)


# --- assessment -----------------------------------------------------------------------------


class ScoreOut(Schema):
    id: int
    township_id: int
    township: str
    rank: int | None
    points: float
    deductions: float
    adjustment: float
    total: float
    details: dict[str, Any]


class AssessmentOut(Schema):
    year: int
    state: str
    method_version: int
    published: bool
    computed_at: str | None
    scores: list[ScoreOut]


def _score_out(s: Score) -> dict[str, Any]:
    return {
        "id": s.pk,
        "township_id": s.township_id,
        "township": s.township.name,
        "rank": s.rank,
        "points": s.points,
        "deductions": s.deductions,
        "adjustment": s.adjustment,
        "total": s.total,
        "details": s.details,
    }


def _assessment(year: int) -> Assessment:
    a = Assessment.objects.filter(year=year).select_related("method").first()
    if a is None:
        raise Http404
    return a


def _scores(request: HttpRequest, a: Assessment) -> Any:
    return (
        visible_to(request.user, Action.VIEW, Score)
        .filter(assessment=a)
        .select_related("township")
        .order_by("rank", "township__code")
    )


def _assessment_out(request: HttpRequest, a: Assessment) -> dict[str, Any]:
    return {
        "year": a.year,
        "state": a.state,
        "method_version": a.method.version,
        "published": a.published,
        "computed_at": _iso(a.computed_at),
        "scores": [_score_out(s) for s in _scores(request, a)],
    }


@router.get(
    "/supervision/assessments/{year}",
    response=AssessmentOut,
    operation_id="supervision_assessment_read",
    summary="A year's scores and ranking (others' scores once published)",
)
def assessment_read(request: HttpRequest, year: int) -> Any:
    return _assessment_out(request, _assessment(year))


class AssessmentActionIn(Schema):
    action: Literal["compute", "freeze", "publish"]


@router.post(
    "/supervision/assessments/{year}/actions",
    response=AssessmentOut,
    operation_id="supervision_assessment_act",
    summary="Compute (provisional), freeze or publish a year's assessment (bureau)",
)
def assessment_act(request: HttpRequest, year: int, payload: AssessmentActionIn) -> Any:
    user = _signed_in(request)
    if not 2000 <= year <= 2100:
        raise ValidationError({"year": _("年度须在 2000 至 2100 之间。")})
    fn = {
        "compute": services.compute_assessment,
        "freeze": services.freeze_assessment,
        "publish": services.publish_assessment,
    }[payload.action]
    a = fn(by=user, year=year)
    return _assessment_out(request, a)


@router.get(
    "/supervision/assessments/{year}/export",
    operation_id="supervision_assessment_export",
    response={200: None},
)
def assessment_export(
    request: HttpRequest, year: int, format: Literal["xlsx", "csv"] = "xlsx"
) -> HttpResponse:
    """Excel (or CSV) of the ranking, with the ranking page's columns."""
    a = _assessment(year)
    return export_response(
        _scores(request, a), export_columns(ScoreTable, Score), format, f"assessment-{year}"
    )


class ScoreEvidenceOut(Schema):
    indicator: str
    model: str
    count: int
    items: list[dict[str, Any]]


@router.get(
    "/supervision/assessments/{year}/townships/{township_id}/evidence/{indicator}",
    response=ScoreEvidenceOut,
    operation_id="supervision_score_evidence",
    summary="The records behind one indicator or deduction of a township's score",
)
def score_evidence(request: HttpRequest, year: int, township_id: int, indicator: str) -> Any:
    a = _assessment(year)
    if not _scores(request, a).filter(township_id=township_id).exists():
        raise Http404
    label, qs = measures.evidence(indicator, township_id, year)
    if not label:
        raise ValidationError({"indicator": _("未知指标：%s") % indicator})
    qs = visible_to(request.user, Action.VIEW, qs)
    return {
        "indicator": indicator,
        "model": label,
        "count": qs.count(),
        "items": [{"id": o.pk, "label": str(o)} for o in qs[:200]],
    }


class AdjustIn(Schema):
    points: float = Field(..., ge=-100, le=100)
    reason: str = Field(..., max_length=300)


@router.post(
    "/supervision/scores/{pk}/adjust",
    response=ScoreOut,
    operation_id="supervision_score_adjust",
    summary="Adjust a score, with a reason (bureau; audited)",
)
def score_adjust(request: HttpRequest, pk: int, payload: AdjustIn) -> Any:
    user = _signed_in(request)
    score = _one(request, Score, pk)
    s = services.adjust_score(by=user, score=score, points=payload.points, reason=payload.reason)
    return _score_out(s)


# --- inspections and orders -----------------------------------------------------------------


class SupervisionFindingOut(Schema):
    id: int
    description: str
    rule: str
    severity: str
    files: list[AttachmentOut] = []


def _finding_out(f: Finding) -> dict[str, Any]:
    return {
        "id": f.pk,
        "description": f.description,
        "rule": f.rule,
        "severity": f.severity,
        "files": [attachment_out(a) for a in attachments_of(f)],
    }


class SupervisionInspectionOut(Schema):
    id: int
    township_id: int | None
    owner_id: int | None
    date: dt.date
    state: str
    place: str
    lon: float | None
    lat: float | None
    subject: str
    summary: str
    inspectors: list[str]
    findings: list[SupervisionFindingOut]

    @staticmethod
    def of(i: Inspection) -> dict[str, Any]:
        return {
            **{
                f: getattr(i, f)
                for f in SupervisionInspectionOut.model_fields
                if f not in ("inspectors", "findings")
            },
            "id": i.pk,
            "inspectors": [u.get_username() for u in i.inspectors.all()],
            "findings": [_finding_out(f) for f in i.findings.all()],
        }


class SupervisionInspectionIn(Schema):
    township_id: int | None = None
    owner_id: int | None = None
    date: dt.date
    place: str = Field("", max_length=200)
    lon: float | None = None
    lat: float | None = None
    subject: str = Field(..., min_length=1, max_length=200)
    summary: str = Field("", max_length=4000)
    inspector_ids: list[int] = []


class FindingIn(Schema):
    description: str = Field(..., min_length=1, max_length=4000)
    rule: str = Field(..., min_length=1, max_length=200)
    severity: Severity = Severity.MINOR


@router.get(
    "/supervision/inspections/",
    response=list[SupervisionInspectionOut],
    operation_id="supervision_inspection_list",
)
def inspection_list(
    request: HttpRequest,
    limit: int = Query(50, ge=1, le=500),  # type: ignore[type-arg]
    offset: int = Query(0, ge=0),  # type: ignore[type-arg]
) -> Any:
    qs = visible_to(request.user, Action.VIEW, Inspection).prefetch_related(
        "inspectors", "findings"
    )
    return [SupervisionInspectionOut.of(i) for i in qs[offset : offset + limit]]


@router.post(
    "/supervision/inspections/",
    response={201: SupervisionInspectionOut},
    operation_id="supervision_inspection_create",
)
def inspection_create(request: HttpRequest, payload: SupervisionInspectionIn) -> Any:
    user = _signed_in(request)
    data = payload.dict()
    ids = data.pop("inspector_ids")
    if payload.township_id is not None:
        data["township"] = _township(user, data.pop("township_id"))
    else:
        data.pop("township_id")
    if payload.owner_id is not None:
        owner = visible_to(user, Action.VIEW, WaterUser).filter(pk=data.pop("owner_id")).first()
        if owner is None:
            raise ValidationError(
                {"owner_id": _("不存在编号为 %s 的取用水户。") % payload.owner_id}
            )
        data["owner"] = owner
    else:
        data.pop("owner_id")
    if data.get("township") is None and data.get("owner") is None:
        raise ValidationError({"township_id": _("请选择被检查的乡镇或取用水户。")})
    people = list(get_user_model().objects.filter(pk__in=ids, is_active=True))
    if len(people) != len(set(ids)):
        raise ValidationError({"inspector_ids": _("检查人员不存在。")})
    i = services.record_inspection(by=user, inspectors=people or None, **data)
    return Status(201, SupervisionInspectionOut.of(i))


@router.get(
    "/supervision/inspections/{pk}",
    response=SupervisionInspectionOut,
    operation_id="supervision_inspection_read",
)
def inspection_read(request: HttpRequest, pk: int) -> Any:
    return SupervisionInspectionOut.of(_one(request, Inspection, pk))


@router.post(
    "/supervision/inspections/{pk}/findings",
    response={201: SupervisionFindingOut},
    operation_id="supervision_finding_add",
)
def finding_add(request: HttpRequest, pk: int, payload: FindingIn) -> Any:
    user = _signed_in(request)
    f = services.add_finding(by=user, inspection=_one(request, Inspection, pk), **payload.dict())
    return Status(201, _finding_out(f))


class FindingCaseIn(Schema):
    kind: CaseKind


class FindingCaseOut(Schema):
    id: int
    number: str
    kind: str
    url: str


@router.post(
    "/supervision/findings/{pk}/case",
    response={201: FindingCaseOut},
    operation_id="supervision_finding_case",
    summary="Refer a finding to enforcement: a case with the finding as its first evidence",
)
def finding_case(request: HttpRequest, pk: int, payload: FindingCaseIn) -> Any:
    user = _signed_in(request)
    finding = _one(request, Finding, pk)
    case = services.open_case_from_finding(by=user, finding=finding, kind=payload.kind)
    return Status(
        201,
        {"id": case.pk, "number": case.number, "kind": case.kind, "url": case.get_absolute_url()},
    )


@router.post(
    "/supervision/findings/{pk}/files",
    response={201: SupervisionFindingOut},
    operation_id="supervision_finding_files",
    summary="Attach photos or files (JPEG, PNG, WebP, PDF) to a finding",
)
def finding_files(request: HttpRequest, pk: int, files: list[UploadedFile] = File(...)) -> Any:  # type: ignore[type-arg]
    user = _signed_in(request)
    finding = _one(request, Finding, pk)
    services.attach_to_finding(by=user, finding=finding, files=list(files))
    return Status(201, _finding_out(finding))


class OrderOut(Schema):
    id: int
    number: str
    finding_id: int
    township_id: int | None
    owner_id: int | None
    requirement: str
    responsible: str
    deadline: dt.date
    state: str
    overdue: bool
    sent_back_count: int
    issued_at: str
    closed_at: str | None
    events: list[dict[str, Any]]

    @staticmethod
    def of(o: Rectification) -> dict[str, Any]:
        return {
            "id": o.pk,
            "number": o.number,
            "finding_id": o.finding_id,
            "township_id": o.township_id,
            "owner_id": o.owner_id,
            "requirement": o.requirement,
            "responsible": o.responsible,
            "deadline": o.deadline,
            "state": o.state,
            "overdue": o.overdue,
            "sent_back_count": o.sent_back_count,
            "issued_at": o.issued_at.isoformat(),
            "closed_at": _iso(o.closed_at),
            "events": [
                {
                    "action": e.action,
                    "note": e.note,
                    "username": e.username,
                    "at": e.at.isoformat(),
                    "files": [attachment_out(a) for a in attachments_of(e)],
                }
                for e in o.events.all()
            ],
        }


class OrderIn(Schema):
    requirement: str = Field(..., min_length=1, max_length=4000)
    responsible: str = Field(..., min_length=1, max_length=200)
    deadline: dt.date | None = None


class OrderActionIn(Schema):
    action: Literal["answer", "close", "send_back"]
    note: str = Field("", max_length=4000)


class OrderPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[OrderOut]


_ORDER_FILTERS: dict[str, Any] = {"parameters": openapi_parameters(OrderFilterSet)}


@router.get(
    "/supervision/orders/",
    response=OrderPage,
    operation_id="supervision_order_list",
    openapi_extra=_ORDER_FILTERS,
)
def order_list(
    request: HttpRequest,
    limit: int = Query(50, ge=1, le=500),  # type: ignore[type-arg]
    offset: int = Query(0, ge=0),  # type: ignore[type-arg]
) -> Any:
    qs = visible_to(request.user, Action.VIEW, Rectification).prefetch_related("events")
    filters = OrderFilterSet(request.GET, queryset=qs, request=request)
    if not filters.is_valid():
        raise filter_errors(filters)
    return page(filters.qs, limit, offset, OrderOut.of)


@router.post(
    "/supervision/findings/{pk}/orders",
    response={201: OrderOut},
    operation_id="supervision_order_issue",
    summary="Issue a rectification order from a finding",
)
def order_issue(request: HttpRequest, pk: int, payload: OrderIn) -> Any:
    user = _signed_in(request)
    finding = _one(request, Finding, pk)
    o = services.issue_order(by=user, finding=finding, **payload.dict())
    return Status(201, OrderOut.of(o))


@router.get("/supervision/orders/{pk}", response=OrderOut, operation_id="supervision_order_read")
def order_read(request: HttpRequest, pk: int) -> Any:
    return OrderOut.of(_one(request, Rectification, pk))


@router.post(
    "/supervision/orders/{pk}/actions",
    response=OrderOut,
    operation_id="supervision_order_act",
    summary="Answer an order with evidence (township, water user); close or send it back",
)
def order_act(request: HttpRequest, pk: int, payload: OrderActionIn) -> Any:
    user = _signed_in(request)
    order = _one(request, Rectification, pk)
    if payload.action == "answer":
        services.answer_order(by=user, order=order, evidence=payload.note)
    else:
        services.verify_order(
            by=user, order=order, accept=payload.action == "close", note=payload.note
        )
    return OrderOut.of(_one(request, Rectification, pk))


@router.post(
    "/supervision/orders/{pk}/evidence",
    response=OrderOut,
    operation_id="supervision_order_evidence",
    summary="Answer an order with its evidence: the text and photos or files (multipart)",
)
def order_evidence(
    request: HttpRequest,
    pk: int,
    note: str = Form(..., max_length=4000),  # type: ignore[type-arg]
    files: list[UploadedFile] = File(None),  # type: ignore[type-arg]
) -> Any:
    user = _signed_in(request)
    order = _one(request, Rectification, pk)
    services.answer_order(by=user, order=order, evidence=note, files=list(files or []))
    return OrderOut.of(_one(request, Rectification, pk))


class AccountabilityOut(Schema):
    id: int
    township_id: int
    opened_at: str
    reason: str
    history: list[dict[str, Any]]
    closed_at: str | None


@router.get(
    "/supervision/accountability/",
    response=list[AccountabilityOut],
    operation_id="supervision_accountability_list",
)
def accountability_list(request: HttpRequest) -> Any:
    if not can(request.user, Action.VIEW, Accountability):
        if not request.user.is_authenticated:
            raise HttpError(401, _("需要登录或 API 令牌。"))
        raise PermissionDenied(_("您的角色无权查看问责记录。"))
    return [
        {
            "id": a.pk,
            "township_id": a.township_id,
            "opened_at": a.opened_at.isoformat(),
            "reason": a.reason,
            "history": a.history,
            "closed_at": _iso(a.closed_at),
        }
        for a in visible_to(request.user, Action.VIEW, Accountability)
    ]
