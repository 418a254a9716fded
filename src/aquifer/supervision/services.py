"""What may be done to plans, targets, assessments, inspections and orders, by whom — the one
write path for pages, API, jobs and the demo.

Every function checks the caller's scope (``core.scoping``: a township officer acts on their
own township's plan; the bureau decides, sets targets, scores; inspectors and the bureau
record inspections), validates (``full_clean``: a bad input is a ValidationError naming the
field), writes in one transaction (the models are ``@track``-ed: audited) and notifies
through ``aquifer.notifications``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone
from django.utils.translation import gettext as _

from aquifer.core.attachments import attach, attachments_of
from aquifer.core.audit import record, serialize
from aquifer.core.roles import Action
from aquifer.core.scoping import can, require
from aquifer.enforcement.models import Case, CaseSource, EvidenceKind
from aquifer.enforcement.services import open_case as open_enforcement_case
from aquifer.notifications.service import notify
from aquifer.registry.choices import DeviceKind
from aquifer.registry.models import Device, Township
from aquifer.supervision import conf, hooks, measures, scoring
from aquifer.supervision.models import (
    OPEN_ORDER_STATES,
    Accountability,
    Assessment,
    AssessmentState,
    Finding,
    Inspection,
    InspectionState,
    OrderAction,
    OrderState,
    PlanState,
    PlanTask,
    PlanVersion,
    Rectification,
    RectificationEvent,
    Score,
    ScoreAdjustment,
    ScoringMethod,
    Target,
    TaskKind,
    WorkPlan,
)

__all__ = [
    "add_finding",
    "add_method_version",
    "add_task",
    "adjust_score",
    "answer_order",
    "approve_plan",
    "compute_assessment",
    "compute_progress",
    "escalate_overdue_orders",
    "fill_default_targets",
    "freeze_assessment",
    "issue_order",
    "method_for",
    "notify_overdue_tasks",
    "open_plan",
    "publish_assessment",
    "record_inspection",
    "return_plan",
    "set_progress",
    "set_target",
    "submit_plan",
    "verify_order",
]


def _name(user: Any) -> str:
    return user.get_username() if getattr(user, "is_authenticated", False) else ""


def _deny(message: str) -> PermissionDenied:
    return PermissionDenied(message)


# --- work plans -----------------------------------------------------------------------------


def open_plan(*, by: Any, township: Township, year: int, title: str = "") -> WorkPlan:
    """The township's plan for ``year`` (created as a draft if it has none)."""
    plan = WorkPlan.objects.filter(township=township, year=year).first()
    if plan is not None:
        require(by, Action.VIEW, plan)
        return plan
    plan = WorkPlan(
        township=township,
        year=year,
        title=title or _("%(year)s年度地下水管理工作计划") % {"year": year},
    )
    if not can(by, Action.ADD, plan):
        raise _deny(_("您的角色无权编制该乡镇的工作计划。"))
    plan.full_clean()
    plan.save()
    return plan


def _editable(plan: WorkPlan, by: Any) -> None:
    require(by, Action.CHANGE, plan)
    if not plan.editable:
        raise ValidationError({"state": _("计划已报审或已批准，不能修改。")})


def add_task(*, by: Any, plan: WorkPlan, **fields: Any) -> PlanTask:
    _editable(plan, by)
    task = PlanTask(plan=plan, **fields)
    task.progress_computed = task.kind in {
        TaskKind.CLOSE_WELLS,
        TaskKind.INSTALL_METERS,
        TaskKind.INSTALL_ONLINE_METERS,
        TaskKind.ONLINE_RATE,
        TaskKind.RECTIFICATIONS,
    }
    task.full_clean()
    task.save()
    return task


def remove_task(*, by: Any, task: PlanTask) -> None:
    _editable(task.plan, by)
    task.delete()


def set_progress(*, by: Any, task: PlanTask, progress: float, note: str = "") -> PlanTask:
    """Progress entered by the township (tasks Aquifer does not measure)."""
    require(by, Action.CHANGE, task.plan)
    if task.progress_computed:
        raise ValidationError({"progress": _("该任务的进度由系统根据监测数据计算，不能手工填报。")})
    if task.plan.state != PlanState.APPROVED:
        raise ValidationError({"progress": _("计划批准后方可填报进度。")})
    task.progress, task.progress_note, task.progress_at = progress, note[:300], timezone.now()
    task.full_clean()
    task.save()
    return task


def _snapshot(plan: WorkPlan, by: Any, comment: str = "") -> None:
    tasks = [
        {
            "kind": t.kind,
            "title": t.title,
            "target": t.target,
            "unit": t.unit,
            "deadline": t.deadline.isoformat(),
            "responsible": t.responsible,
        }
        for t in plan.tasks.all()
    ]
    PlanVersion.objects.create(
        plan=plan,
        version=plan.version,
        state=plan.state,
        tasks=tasks,
        comment=comment,
        username=_name(by),
    )


@transaction.atomic
def submit_plan(*, by: Any, plan: WorkPlan) -> WorkPlan:
    _editable(plan, by)
    if not plan.tasks.exists():
        raise ValidationError({"tasks": _("计划至少包含一项任务。")})
    plan.state, plan.version, plan.submitted_at = (
        PlanState.SUBMITTED,
        plan.version + 1,
        timezone.now(),
    )
    plan.save()
    _snapshot(plan, by)
    notify(
        event="plan.submitted",
        title=_("%(township)s报审%(year)s年度工作计划")
        % {"township": plan.township, "year": plan.year},
        township=plan.township,
        url=plan.get_absolute_url(),
    )
    return plan


def _decide(plan: WorkPlan, by: Any, state: str, comment: str) -> WorkPlan:
    require(by, "decide", plan)
    if plan.state != PlanState.SUBMITTED:
        raise ValidationError({"state": _("只能审核已报审的计划。")})
    if state == PlanState.RETURNED and not comment.strip():
        raise ValidationError({"comment": _("退回计划须填写意见。")})
    plan.state, plan.comment, plan.decided_at = state, comment, timezone.now()
    plan.save()
    _snapshot(plan, by, comment)
    notify(
        event="plan.decided",
        title=_("%(year)s年度工作计划：%(state)s")
        % {"year": plan.year, "state": plan.get_state_display()},
        body=comment,
        township=plan.township,
        url=plan.get_absolute_url(),
    )
    return plan


@transaction.atomic
def return_plan(*, by: Any, plan: WorkPlan, comment: str) -> WorkPlan:
    return _decide(plan, by, PlanState.RETURNED, comment)


@transaction.atomic
def approve_plan(*, by: Any, plan: WorkPlan, comment: str = "") -> WorkPlan:
    return _decide(plan, by, PlanState.APPROVED, comment)


def compute_progress(year: int) -> int:
    """Progress of the tasks Aquifer measures, for every approved plan of ``year``: wells
    closed (status closed or sealed), meters and online meters installed in the year, online
    (arrival) rate in %, rectification orders closed in the year. A fixed number of queries."""
    tasks = list(
        PlanTask.objects.filter(
            plan__year=year, plan__state=PlanState.APPROVED, progress_computed=True
        )
    )
    if not tasks:
        return 0
    closed = {t: m.value or 0 for t, m in measures.closures(year).items()}
    meters = dict(
        Device.objects.filter(kind=DeviceKind.FLOW_METER, installed_on__year=year)
        .values("well__township_id")
        .annotate(n=Count("id"))
        .values_list("well__township_id", "n")
    )
    online = {t: m.num or 0 for t, m in measures.online_meter_coverage(year).items()}
    rate = {t: (m.value or 0) * 100 for t, m in measures.arrival_rate(year).items()}
    orders = dict(
        Rectification.objects.filter(state=OrderState.CLOSED, closed_at__year=year)
        .values("township_id")
        .annotate(n=Count("id"))
        .values_list("township_id", "n")
    )
    source = {
        TaskKind.CLOSE_WELLS: closed,
        TaskKind.INSTALL_METERS: meters,
        TaskKind.INSTALL_ONLINE_METERS: online,
        TaskKind.ONLINE_RATE: rate,
        TaskKind.RECTIFICATIONS: orders,
    }
    plans = dict(WorkPlan.objects.filter(year=year).values_list("pk", "township_id"))
    now = timezone.now()
    changed = []
    for task in tasks:
        value = float(source[TaskKind(task.kind)].get(plans[task.plan_id], 0) or 0)
        if value != task.progress:
            task.progress, task.progress_at = round(value, 2), now
            changed.append(task)
    for task in changed:  # each change audited (few: progress moves slowly)
        task.save(update_fields=["progress", "progress_at"])
    return len(changed)


def notify_overdue_tasks(today: dt.date | None = None) -> int:
    """Flag tasks past their deadline and not done: one notice per task, once."""
    today = today or timezone.localdate()
    due = PlanTask.objects.filter(
        plan__state=PlanState.APPROVED,
        deadline__lt=today,
        overdue_notified_at__isnull=True,
        progress__lt=F("target"),
    ).select_related("plan__township")
    n = 0
    for task in due:
        notify(
            event="task.overdue",
            title=_("计划任务逾期：%(task)s") % {"task": task.title},
            township=task.plan.township,
            url=task.plan.get_absolute_url(),
            severity="warning",
        )
        PlanTask.objects.filter(pk=task.pk).update(overdue_notified_at=timezone.now())
        n += 1
    return n


# --- targets --------------------------------------------------------------------------------


def set_target(
    *, by: Any, township: Township, year: int, indicator: str, value: float, note: str = ""
) -> Target:
    target = Target.objects.filter(township=township, year=year, indicator=indicator).first()
    if target is None:
        target = Target(township=township, year=year, indicator=indicator)
        if not can(by, Action.ADD, target):
            raise _deny(_("只有水务局可以设定考核目标。"))
        defaults = measures.default_targets(year).get(township.pk, {})
        target.default_value, target.basis = defaults.get(indicator, (None, {}))
    else:
        require(by, Action.CHANGE, target)
    target.value, target.note = value, note
    target.full_clean()
    target.save()
    return target


@transaction.atomic
def fill_default_targets(*, by: Any, year: int) -> int:
    """Create the targets of ``year`` not set yet from the computed defaults."""
    if not can(by, Action.ADD, Target):
        raise _deny(_("只有水务局可以设定考核目标。"))
    have = set(Target.objects.filter(year=year).values_list("township_id", "indicator"))
    n = 0
    for township_id, rows in measures.default_targets(year).items():
        for indicator, (value, basis) in rows.items():
            if value is None or (township_id, indicator) in have:
                continue
            Target.objects.create(
                township_id=township_id,
                year=year,
                indicator=indicator,
                value=value,
                default_value=value,
                basis=basis,
            )
            n += 1
    return n


def targets_of(year: int) -> dict[int, dict[str, float | None]]:
    """The targets in force for ``year``: those set, else the computed defaults."""
    out: dict[int, dict[str, float | None]] = {
        t: {k: v for k, (v, _basis) in rows.items()}
        for t, rows in measures.default_targets(year).items()
    }
    for t, ind, value in Target.objects.filter(year=year).values_list(
        "township_id", "indicator", "value"
    ):
        out.setdefault(t, {})[ind] = value
    return out


# --- assessment -----------------------------------------------------------------------------


def method_for(year: int) -> ScoringMethod:
    """The newest method version of ``year`` (the default method as version 1 if none)."""
    method = ScoringMethod.objects.filter(year=year).order_by("-version").first()
    if method is None:
        method = ScoringMethod.objects.create(
            year=year, version=1, definition=scoring.DEFAULT_METHOD, note="default"
        )
    return method


def add_method_version(*, by: Any, year: int, definition: Any, note: str = "") -> ScoringMethod:
    if not can(by, Action.ADD, ScoringMethod):
        raise _deny(_("只有水务局可以修改评分办法。"))
    scoring.validate(definition)
    last = ScoringMethod.objects.filter(year=year).order_by("-version").first()
    method = ScoringMethod(
        year=year, version=(last.version + 1) if last else 1, definition=definition, note=note
    )
    method.full_clean()
    method.save()
    return method


def _may_score(by: Any) -> None:
    if by is not None and not can(by, "score", Assessment):
        raise _deny(_("只有水务局可以计算、定稿和公布考核结果。"))


@transaction.atomic
def compute_assessment(*, by: Any = None, year: int) -> Assessment:
    """Score every township for ``year`` by the newest method (provisional); a frozen
    assessment is not recomputed. A fixed number of queries whatever the county's size."""
    _may_score(by)
    assessment = Assessment.objects.filter(year=year).first()
    if assessment is not None and assessment.state == AssessmentState.FROZEN:
        raise ValidationError({"state": _("考核结果已定稿，不能重新计算。")})
    method = method_for(year)
    if assessment is None:
        assessment = Assessment.objects.create(year=year, method=method)
    definition = method.definition
    codes = [i["code"] for i in definition["indicators"]]
    values = measures.measure_all(codes, year)
    minus = {
        d["code"]: measures.DEDUCTIONS[d["code"]](year) for d in definition.get("deductions", [])
    }
    targets = targets_of(year)
    existing = {s.township_id: s for s in Score.objects.filter(assessment=assessment)}
    now = timezone.now()
    scores = []
    for township in Township.objects.order_by("code"):
        points, deducted, details = scoring.score_township(
            definition, values, minus, targets.get(township.pk, {}), township.pk
        )
        s = existing.get(township.pk) or Score(assessment=assessment, township=township)
        s.points, s.deductions, s.details, s.computed_at = points, deducted, details, now
        s.total = round(points - deducted + s.adjustment, 2)
        scores.append(s)
    _rank(scores)
    Score.objects.bulk_create([s for s in scores if s.pk is None])
    Score.objects.bulk_update(
        [s for s in scores if s.pk is not None],
        ["points", "deductions", "details", "computed_at", "total", "rank"],
    )
    assessment.method, assessment.computed_at = method, now
    assessment.save()
    record("compute", assessment, None, serialize(assessment), reason=f"method v{method.version}")
    return assessment


def _rank(scores: list[Score]) -> None:
    """Competition ranking (1, 2, 2, 4) by total, ties sharing a rank."""
    ordered = sorted(scores, key=lambda s: -s.total)
    for i, s in enumerate(ordered):
        s.rank = ordered[i - 1].rank if i and s.total == ordered[i - 1].total else i + 1


@transaction.atomic
def adjust_score(*, by: Any, score: Score, points: float, reason: str) -> Score:
    require(by, "adjust", score)
    if score.assessment.state == AssessmentState.FROZEN:
        raise ValidationError({"points": _("考核结果已定稿，不能调整。")})
    adj = ScoreAdjustment(
        score=score, points=points, reason=(reason or "").strip(), username=_name(by)
    )
    adj.full_clean()
    adj.save()
    score.adjustment = round(score.adjustment + points, 2)
    score.total = round(score.points - score.deductions + score.adjustment, 2)
    score.save()
    scores = list(Score.objects.filter(assessment=score.assessment))
    _rank(scores)
    Score.objects.bulk_update(scores, ["rank"])
    score.refresh_from_db()
    return score


@transaction.atomic
def freeze_assessment(*, by: Any, year: int) -> Assessment:
    _may_score(by)
    assessment = compute_assessment(by=by, year=year)
    assessment.state, assessment.frozen_at = AssessmentState.FROZEN, timezone.now()
    assessment.save()
    return assessment


@transaction.atomic
def publish_assessment(*, by: Any, year: int) -> Assessment:
    _may_score(by)
    assessment = Assessment.objects.filter(year=year).first()
    if assessment is None:
        raise ValidationError({"year": _("该年度尚未计算考核结果。")})
    if assessment.published_at is None:
        assessment.published_at = timezone.now()
        assessment.save()
        notify(
            event="assessment.published",
            title=_("%(year)s年度考核结果已公布") % {"year": year},
            url=assessment.get_absolute_url(),
        )
    return assessment


# --- inspections and rectification ----------------------------------------------------------


def record_inspection(*, by: Any, inspectors: list[Any] | None = None, **fields: Any) -> Inspection:
    inspection = Inspection(**fields)
    if not can(by, Action.ADD, inspection):
        raise _deny(_("您的角色无权记录督查检查。"))
    owner = inspection.owner if inspection.owner_id else None
    if owner is not None and not inspection.township_id:
        inspection.township_id = owner.township_id
    inspection.full_clean()
    inspection.save()
    inspection.inspectors.set(inspectors or [by])
    return inspection


@transaction.atomic
def add_finding(
    *, by: Any, inspection: Inspection, files: list[Any] | None = None, **fields: Any
) -> Finding:
    """A finding with its photos and files (core attachments: hashed, size- and
    type-checked, served only to who may see the inspection)."""
    require(by, Action.CHANGE, inspection)
    finding = Finding(inspection=inspection, **fields)
    finding.full_clean()
    finding.save()
    for f in files or []:
        attach(finding, f, user=by, field="files")
    if inspection.state != InspectionState.DONE:
        inspection.state = InspectionState.DONE
        inspection.save()
    hooks.finding_recorded(finding=finding, by=by)  # apps above supervision may listen
    return finding


def open_case_from_finding(*, by: Any, finding: Finding, kind: str) -> Case:
    """An enforcement case from an inspection finding (one per finding): the finding as it
    stands — description, rule, severity, the inspection, and its files' SHA-256 — becomes the
    case's first evidence, so the case holds exactly what the inspectors recorded."""
    require(by, Action.VIEW, finding.inspection)
    if not can(by, "open", Case):
        raise _deny(_("您的角色无权移送执法立案。"))
    existing = Case.objects.filter(source_ref=f"finding:{finding.pk}").first()
    if existing is not None:
        raise ValidationError({"finding": _("该发现已立案：%s") % existing.number})
    inspection = finding.inspection
    snapshot = {
        "finding": finding.pk,
        "inspection": inspection.pk,
        "date": inspection.date.isoformat(),
        "place": inspection.place,
        "lon": inspection.lon,
        "lat": inspection.lat,
        "description": finding.description,
        "rule": finding.rule,
        "severity": finding.severity,
        "files": [
            {"name": a.name, "sha256": a.sha256, "size": a.size} for a in attachments_of(finding)
        ],
    }
    return open_enforcement_case(
        kind,
        CaseSource.INSPECTION,
        by=by,
        title=finding.description[:200],
        facts=finding.description,
        owner=inspection.owner if inspection.owner_id else None,
        township=inspection.township,
        source_ref=f"finding:{finding.pk}",
        evidence=[(EvidenceKind.FINDING, _("督查检查发现"), snapshot)],
    )


def attach_to_finding(*, by: Any, finding: Finding, files: list[Any]) -> list[Any]:
    """More photos or files for a finding (who may change its inspection)."""
    require(by, Action.CHANGE, finding.inspection)
    if not files:
        raise ValidationError({"files": _("请选择文件。")})
    with transaction.atomic():
        return [attach(finding, f, user=by, field="files") for f in files]


def _event(order: Rectification, action: str, by: Any, note: str = "") -> RectificationEvent:
    return RectificationEvent.objects.create(
        order=order, action=action, note=note, username=_name(by)
    )


@transaction.atomic
def issue_order(
    *,
    by: Any,
    finding: Finding,
    requirement: str,
    responsible: str,
    deadline: dt.date | None = None,
) -> Rectification:
    inspection = finding.inspection
    order = Rectification(
        finding=finding,
        township_id=inspection.township_id,
        owner_id=inspection.owner_id,
        requirement=requirement,
        responsible=responsible,
        deadline=deadline
        or timezone.localdate() + dt.timedelta(days=conf.get("RECTIFICATION_DAYS")),
    )
    if not can(by, "issue", order):
        raise _deny(_("您的角色无权下达整改通知。"))
    order.full_clean()
    if order.deadline < timezone.localdate():
        raise ValidationError({"deadline": _("整改期限不能早于今天。")})
    order.save()
    _event(order, OrderAction.ISSUE, by, requirement)
    notify(
        event="rectification.issued",
        title=_("整改通知 %(number)s：%(req)s") % {"number": order.number, "req": requirement[:80]},
        township=order.township_id,
        url=order.get_absolute_url(),
        users=[order.owner] if order.owner_id else None,
        severity="warning",
    )
    return order


@transaction.atomic
def answer_order(
    *, by: Any, order: Rectification, evidence: str, files: list[Any] | None = None
) -> Rectification:
    """The township or water user reports what was done: the text and the files (photos,
    scans) are the evidence, kept with the answer's event."""
    require(by, "answer", order)
    if order.state not in (OrderState.ISSUED, OrderState.SENT_BACK):
        raise ValidationError({"state": _("该整改通知当前不能报送。")})
    if not (evidence or "").strip():
        raise ValidationError({"evidence": _("请填写整改情况及佐证。")})
    order.state, order.answered_at = OrderState.ANSWERED, timezone.now()
    order.save()
    event = _event(order, OrderAction.ANSWER, by, evidence)
    for f in files or []:
        attach(event, f, user=by, field="files")
    notify(
        event="rectification.answered",
        title=_("整改通知 %(number)s 已报送整改情况") % {"number": order.number},
        township=order.township_id,
        url=order.get_absolute_url(),
    )
    return order


@transaction.atomic
def verify_order(*, by: Any, order: Rectification, accept: bool, note: str = "") -> Rectification:
    """The bureau verifies an answer: closes the order, or sends it back (with a reason)."""
    require(by, "verify", order)
    if order.state != OrderState.ANSWERED:
        raise ValidationError({"state": _("只能核查已报送的整改通知。")})
    if accept:
        order.state, order.closed_at = OrderState.CLOSED, timezone.now()
        action = OrderAction.CLOSE
    else:
        if not note.strip():
            raise ValidationError({"note": _("退回整改须说明理由。")})
        order.state = OrderState.SENT_BACK
        order.sent_back_count += 1
        action = OrderAction.SEND_BACK
    order.save()
    _event(order, action, by, note)
    notify(
        event="rectification.decided",
        title=_("整改通知 %(number)s：%(state)s")
        % {"number": order.number, "state": order.get_state_display()},
        body=note,
        township=order.township_id,
        url=order.get_absolute_url(),
        users=[order.owner] if order.owner_id else None,
    )
    if not accept and order.sent_back_count >= conf.get("ACCOUNTABILITY_SENT_BACK"):
        open_accountability(
            township_id=order.township_id,
            orders=[order],
            reason=_("整改通知 %(number)s 被退回 %(n)s 次")
            % {"number": order.number, "n": order.sent_back_count},
        )
    return order


def escalate_overdue_orders(today: dt.date | None = None) -> int:
    """Escalate every open order past its deadline (once), and open an accountability record
    for a township with too many overdue orders at once."""
    today = today or timezone.localdate()
    due = Rectification.objects.filter(
        state__in=OPEN_ORDER_STATES, deadline__lt=today, escalated_at__isnull=True
    )
    n = 0
    for order in due:
        order.escalated_at = timezone.now()
        order.save(update_fields=["escalated_at"])
        _event(order, OrderAction.ESCALATE, None)
        notify(
            event="rectification.overdue",
            title=_("整改通知 %(number)s 已逾期") % {"number": order.number},
            township=order.township_id,
            url=order.get_absolute_url(),
            users=[order.owner] if order.owner_id else None,
            severity="critical",
        )
        n += 1
    limit = conf.get("ACCOUNTABILITY_OVERDUE_ORDERS")
    heavy = (
        Rectification.objects.filter(state__in=OPEN_ORDER_STATES, deadline__lt=today)
        .values("township_id")
        .annotate(k=Count("id"))
        .filter(k__gte=limit, township_id__isnull=False)
    )
    for row in heavy:
        orders = list(
            Rectification.objects.filter(
                township_id=row["township_id"], state__in=OPEN_ORDER_STATES, deadline__lt=today
            )
        )
        open_accountability(
            township_id=row["township_id"],
            orders=orders,
            reason=_("%(n)s 项整改通知同时逾期") % {"n": row["k"]},
        )
    return n


def open_accountability(
    *, township_id: int | None, orders: list[Rectification], reason: str
) -> Accountability | None:
    """An accountability record naming the township and the orders' history; not a second
    one while an open record already covers the same orders."""
    if township_id is None:
        return None
    ids = {o.pk for o in orders}
    for open_ in Accountability.objects.filter(township_id=township_id, closed_at__isnull=True):
        if ids <= set(open_.orders.values_list("pk", flat=True)):
            return None
    history = [
        {
            "order": o.number,
            "finding": o.finding.description[:200],
            "rule": o.finding.rule,
            "deadline": o.deadline.isoformat(),
            "state": o.state,
            "sent_back": o.sent_back_count,
            "events": [
                {"action": e.action, "at": e.at.isoformat(), "note": e.note[:200]}
                for e in o.events.all()
            ],
        }
        for o in orders
    ]
    acc = Accountability.objects.create(
        township_id=township_id, reason=reason[:300], history=history
    )
    acc.orders.set(orders)
    notify(
        event="accountability.opened",
        title=_("启动问责：%(reason)s") % {"reason": reason},
        township=township_id,
        url="/supervision/inspections/",
        severity="critical",
    )
    return acc


__all__ += ["attach_to_finding", "open_accountability", "remove_task", "targets_of"]
