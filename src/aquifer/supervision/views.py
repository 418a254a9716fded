"""Pages of township supervision: the overview (plans of a year), a plan with its tasks,
versions and actions, the targets, the assessment (ranking, a township's report, evidence,
PDF), inspections and rectification orders.

Every queryset comes from ``visible_to``; a record out of sight is a 404. Writes go through
``supervision.services``; a refused input is shown as the form's error, never a 500.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aquifer.core.attachments import attachments_of
from aquifer.core.pdf import pdf_response, render_pdf
from aquifer.core.roles import Action
from aquifer.core.scoping import allowed, can, visible_to
from aquifer.core.tables import sort
from aquifer.enforcement.models import Case, CaseKind
from aquifer.registry.models import Township, WaterUser
from aquifer.supervision import measures, services
from aquifer.supervision.filters import OrderFilterSet
from aquifer.supervision.models import (
    Accountability,
    Assessment,
    Finding,
    Indicator,
    Inspection,
    Rectification,
    Score,
    Severity,
    Target,
    TaskKind,
    WorkPlan,
)
from aquifer.supervision.tables import OrderTable, ScoreTable

View = Callable[..., HttpResponse]


def gated(capability: str) -> Callable[[View], View]:
    """Only who has ``capability``: an anonymous visitor is sent to log in, others get 403."""

    def wrap(view: View) -> View:
        @functools.wraps(view)
        def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not allowed(request.user, capability):
                if not request.user.is_authenticated:
                    return redirect_to_login(request.get_full_path())
                raise PermissionDenied(_("您的角色无权访问此页面。"))
            return view(request, *args, **kwargs)

        return inner

    return wrap


def _signed_in(view: View) -> View:
    @functools.wraps(view)
    def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return inner


def _year(request: HttpRequest) -> int:
    try:
        year = int(request.GET.get("year") or timezone.localdate().year)
    except ValueError:
        year = timezone.localdate().year
    return min(2100, max(2000, year))


def _errors(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [
            f"{k}: {m}" if k != "__all__" else str(m)
            for k, ms in exc.message_dict.items()
            for m in ms
        ]
    return list(exc.messages)


def _pk(value: str | None) -> int:
    """A posted record id; anything else is 0 (no record), never a 500."""
    return int(value) if value and value.isdigit() else 0


def _number(value: str | None, field: str) -> float:
    try:
        return float(value or "")
    except ValueError:
        raise ValidationError({field: _("请输入数字。")}) from None


def _date(value: str | None, field: str) -> dt.date:
    d = parse_date(value or "") if value else None
    if d is None:
        raise ValidationError({field: _("请输入日期，如 2026-06-30。")})
    return d


# --- overview and plans ---------------------------------------------------------------------


@gated("supervision.staff")
def index(request: HttpRequest) -> HttpResponse:
    year = _year(request)
    user = request.user
    plans = (
        visible_to(user, Action.VIEW, WorkPlan)
        .filter(year=year)
        .select_related("township")
        .order_by("township__code")
    )
    have = {p.township_id for p in plans}
    can_open = [
        t
        for t in visible_to(user, Action.VIEW, Township).order_by("code")
        if t.pk not in have and can(user, Action.ADD, WorkPlan(township=t, year=year))
    ]
    if request.method == "POST":
        township = get_object_or_404(
            visible_to(user, Action.VIEW, Township), pk=_pk(request.POST.get("township"))
        )
        plan = services.open_plan(by=user, township=township, year=year)
        return redirect(plan)
    rows = []
    for p in plans:
        tasks = list(p.tasks.all())
        rows.append(
            {
                "plan": p,
                "tasks": len(tasks),
                "done": sum(1 for t in tasks if t.done),
                "overdue": sum(1 for t in tasks if t.overdue and p.state == "approved"),
            }
        )
    return render(
        request,
        "supervision/index.html",
        {"year": year, "rows": rows, "can_open": can_open, "years": range(year - 2, year + 2)},
    )


def _plan_context(
    request: HttpRequest, plan: WorkPlan, errors: list[str] | None = None
) -> dict[str, Any]:
    user = request.user
    return {
        "plan": plan,
        "tasks": plan.tasks.all(),
        "versions": plan.versions.all(),
        "can_edit": plan.editable and can(user, Action.CHANGE, plan),
        "can_progress": plan.state == "approved" and can(user, Action.CHANGE, plan),
        "can_decide": plan.state == "submitted" and can(user, "decide", plan),
        "kinds": TaskKind.choices,
        "errors": errors or [],
    }


@_signed_in
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_object_or_404(
        visible_to(request.user, Action.VIEW, WorkPlan).select_related("township"), pk=pk
    )
    return render(request, "supervision/plan_detail.html", _plan_context(request, plan))


@require_POST
@_signed_in
def plan_act(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    plan = get_object_or_404(visible_to(user, Action.VIEW, WorkPlan), pk=pk)
    action = request.POST.get("action", "")
    p = request.POST
    try:
        if action == "add_task":
            services.add_task(
                by=user,
                plan=plan,
                kind=p.get("kind", ""),
                title=p.get("title", "").strip(),
                target=_number(p.get("target"), "target"),
                unit=p.get("unit", "").strip(),
                deadline=_date(p.get("deadline"), "deadline"),
                responsible=p.get("responsible", "").strip(),
            )
        elif action == "remove_task":
            task = get_object_or_404(plan.tasks, pk=_pk(p.get("task")))
            services.remove_task(by=user, task=task)
        elif action == "progress":
            task = get_object_or_404(plan.tasks, pk=_pk(p.get("task")))
            services.set_progress(
                by=user,
                task=task,
                progress=_number(p.get("progress"), "progress"),
                note=p.get("note", ""),
            )
        elif action == "submit":
            services.submit_plan(by=user, plan=plan)
        elif action == "return":
            services.return_plan(by=user, plan=plan, comment=p.get("comment", ""))
        elif action == "approve":
            services.approve_plan(by=user, plan=plan, comment=p.get("comment", ""))
        else:
            raise ValidationError({"action": _("未知操作。")})
    except ValidationError as exc:
        plan.refresh_from_db()
        return render(
            request,
            "supervision/plan_detail.html",
            _plan_context(request, plan, _errors(exc)),
            status=422,
        )
    messages.success(request, _("已保存。"))
    return redirect(plan)


# --- targets --------------------------------------------------------------------------------


@gated("supervision.staff")
def targets(request: HttpRequest) -> HttpResponse:
    user = request.user
    year = _year(request)
    errors: list[str] = []
    if request.method == "POST":
        try:
            if request.POST.get("action") == "defaults":
                n = services.fill_default_targets(by=user, year=year)
                messages.success(request, _("已按计算默认值生成 %(n)s 项目标。") % {"n": n})
            else:
                township = Township.objects.filter(pk=_pk(request.POST.get("township"))).first()
                if township is None:
                    raise ValidationError({"township": _("请选择乡镇。")})
                indicator = request.POST.get("indicator", "")
                if indicator not in Indicator.values:
                    raise ValidationError({"indicator": _("请选择指标。")})
                services.set_target(
                    by=user,
                    township=township,
                    year=year,
                    indicator=indicator,
                    value=_number(request.POST.get("value"), "value"),
                    note=request.POST.get("note", ""),
                )
                messages.success(request, _("已保存。"))
            return redirect(f"{reverse('supervision:targets')}?year={year}")
        except ValidationError as exc:
            errors = _errors(exc)
    labels = {
        "permitted_m3": _("许可水量 (m³)"),
        "allowable_m3": _("分区可开采量份额 (m³)"),
        "closed": _("已关停/封存"),
        "prohibited_in_use": _("禁采区内在用井"),
        "threshold_m3": _("在线计量门槛 (m³/年)"),
        "wells": _("需在线计量的井"),
    }
    rows = [
        {
            "t": t,
            "basis": [
                (labels[k], v) for k, v in (t.basis or {}).items() if k in labels and v is not None
            ],
        }
        for t in visible_to(user, Action.VIEW, Target)
        .filter(year=year)
        .select_related("township")
        .order_by("township__code", "indicator")
    ]
    return render(
        request,
        "supervision/targets.html",
        {
            "year": year,
            "rows": rows,
            "errors": errors,
            "can_set": can(user, Action.ADD, Target),
            "townships": visible_to(user, Action.VIEW, Township).order_by("code"),
            "indicators": Indicator.choices,
        },
        status=422 if errors else 200,
    )


# --- assessment -----------------------------------------------------------------------------


def _scores(request: HttpRequest, assessment: Assessment) -> Any:
    return (
        visible_to(request.user, Action.VIEW, Score)
        .filter(assessment=assessment)
        .select_related("township")
    )


@gated("supervision.results")
def assessment(request: HttpRequest, year: int) -> HttpResponse:
    user = request.user
    errors: list[str] = []
    if request.method == "POST":
        action = request.POST.get("action")
        fn = {
            "compute": services.compute_assessment,
            "freeze": services.freeze_assessment,
            "publish": services.publish_assessment,
        }.get(action or "")
        try:
            if fn is None:
                raise ValidationError({"action": _("未知操作。")})
            fn(by=user, year=year)
            return redirect("supervision:assessment", year=year)
        except ValidationError as exc:
            errors = _errors(exc)
    a = Assessment.objects.filter(year=year).select_related("method").first()
    context: dict[str, Any] = {
        "year": year,
        "assessment": a,
        "errors": errors,
        "can_score": can(user, "score", Assessment),
    }
    if a is not None:
        table = ScoreTable(
            _scores(request, a).select_related("assessment"),
            attrs={"id": "ranking", "class": "list"},
        )
        table.request = request
        sort(table, request.GET.getlist(table.order_by_field) or ["rank"])
        table.paginator = Paginator(table.rows, 50)
        table.page = table.paginator.get_page(request.GET.get("page"))
        context["table"] = table
        api = reverse("api:api-root") + f"supervision/assessments/{year}/export"
        context["exports"] = [("Excel", f"{api}?format=xlsx"), ("CSV", f"{api}?format=csv")]
    return render(request, "supervision/assessment.html", context, status=422 if errors else 200)


def _labels() -> dict[str, str]:
    out = {str(k): str(v) for k, v in Indicator.choices}
    out["prohibited_withdrawal"] = _("禁采区取水")
    out["overdue_rectification"] = _("整改逾期")
    return out


def _report_context(request: HttpRequest, year: int, township_id: int) -> dict[str, Any]:
    a = Assessment.objects.filter(year=year).select_related("method").first()
    if a is None:
        raise Http404
    score = get_object_or_404(_scores(request, a), township_id=township_id)
    labels = _labels()
    lines = [
        {**line, "label": labels.get(line["code"], line["code"])}
        for line in score.details.get("indicators", [])
    ]
    deductions = [
        {**d, "label": labels.get(d["code"], d["code"])}
        for d in score.details.get("deductions", [])
    ]
    return {
        "year": year,
        "assessment": a,
        "score": score,
        "lines": lines,
        "deductions": deductions,
        "adjustments": score.adjustments.all(),
        "can_adjust": a.state != "frozen" and can(request.user, "adjust", score),
    }


@gated("supervision.results")
def assessment_township(request: HttpRequest, year: int, township_id: int) -> HttpResponse:
    context = _report_context(request, year, township_id)
    errors: list[str] = []
    if request.method == "POST":
        try:
            services.adjust_score(
                by=request.user,
                score=context["score"],
                points=_number(request.POST.get("points"), "points"),
                reason=request.POST.get("reason", ""),
            )
            return redirect("supervision:assessment_township", year=year, township_id=township_id)
        except ValidationError as exc:
            errors = _errors(exc)
    context["errors"] = errors
    return render(request, "supervision/report.html", context, status=422 if errors else 200)


@gated("supervision.results")
def assessment_pdf(request: HttpRequest, year: int) -> HttpResponse:
    """The county report (or ``?township=<id>``'s) as a PDF (core.pdf, WeasyPrint)."""
    a = Assessment.objects.filter(year=year).first()
    if a is None:
        raise Http404
    township = request.GET.get("township")
    if township:
        if not township.isdigit():
            raise Http404
        context = _report_context(request, year, int(township))
        template = "supervision/report_print.html"
    else:
        context = {"year": year, "assessment": a, "scores": _scores(request, a).order_by("rank")}
        template = "supervision/county_print.html"
    if request.GET.get("format") == "html":  # the printable page itself
        return render(request, template, context)
    body = render_pdf(template, context, request=request)
    return pdf_response(body, f"assessment-{year}{'-' + township if township else ''}.pdf")


@gated("supervision.results")
def evidence(request: HttpRequest, year: int, township_id: int, indicator: str) -> HttpResponse:
    a = Assessment.objects.filter(year=year).first()
    if a is None or not _scores(request, a).filter(township_id=township_id).exists():
        raise Http404
    label, qs = measures.evidence(indicator, township_id, year)
    if not label:
        raise Http404
    qs = visible_to(request.user, Action.VIEW, qs)
    page = Paginator(qs.order_by("pk"), 100).get_page(request.GET.get("page"))
    return render(
        request,
        "supervision/evidence.html",
        {
            "year": year,
            "township": get_object_or_404(Township, pk=township_id),
            "indicator": _labels().get(indicator, indicator),
            "page_obj": page,
            "count": qs.count(),
        },
    )


# --- inspections and orders -----------------------------------------------------------------


@gated("supervision.orders")
def inspection_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    errors: list[str] = []
    if request.method == "POST":
        p = request.POST
        try:
            township = (
                visible_to(user, Action.VIEW, Township).filter(pk=_pk(p.get("township"))).first()
            )
            owner = visible_to(user, Action.VIEW, WaterUser).filter(pk=_pk(p.get("owner"))).first()
            if township is None and owner is None:
                raise ValidationError({"township": _("请选择被检查的乡镇或取用水户。")})
            lon = _number(p.get("lon"), "lon") if p.get("lon") else None
            lat = _number(p.get("lat"), "lat") if p.get("lat") else None
            i = services.record_inspection(
                by=user,
                township=township,
                owner=owner,
                date=_date(p.get("date"), "date"),
                place=p.get("place", ""),
                lon=lon,
                lat=lat,
                subject=p.get("subject", "").strip(),
                summary=p.get("summary", ""),
            )
            return redirect(i)
        except ValidationError as exc:
            errors = _errors(exc)
    inspections = visible_to(user, Action.VIEW, Inspection).select_related("township", "owner")[
        :100
    ]
    filters = OrderFilterSet(
        request.GET,
        queryset=visible_to(user, Action.VIEW, Rectification).select_related("township", "owner"),
        request=request,
    )
    table = OrderTable(filters.qs, attrs={"id": "order-list", "class": "list"})
    table.request = request
    sort(table, request.GET.getlist(table.order_by_field))
    table.paginator = Paginator(table.rows, 50)
    table.page = table.paginator.get_page(request.GET.get("page"))
    query = urlencode(
        [
            (n, request.GET[n])
            for n in filters.filters
            if request.GET.get(n) and n not in filters.errors
        ]
    )
    return render(
        request,
        "supervision/inspection_list.html",
        {
            "inspections": inspections,
            "form": filters.form,
            "table": table,
            "page_obj": table.page,
            "errors": errors,
            "can_record": can(user, Action.ADD, Inspection),
            "townships": visible_to(user, Action.VIEW, Township).order_by("code"),
            "accountability": visible_to(user, Action.VIEW, Accountability).select_related(
                "township"
            )[:50],
            "query": query,
        },
        status=422 if errors else 200,
    )


@_signed_in
def inspection_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    inspection = get_object_or_404(
        visible_to(user, Action.VIEW, Inspection).select_related("township", "owner"), pk=pk
    )
    errors: list[str] = []
    if request.method == "POST":
        p = request.POST
        try:
            if p.get("action") == "finding":
                services.add_finding(
                    by=user,
                    inspection=inspection,
                    description=p.get("description", "").strip(),
                    rule=p.get("rule", "").strip(),
                    severity=p.get("severity", Severity.MINOR),
                    files=request.FILES.getlist("files"),
                )
            elif p.get("action") == "order":
                finding = get_object_or_404(
                    visible_to(user, Action.VIEW, Finding),
                    pk=_pk(p.get("finding")),
                    inspection=inspection,
                )
                services.issue_order(
                    by=user,
                    finding=finding,
                    requirement=p.get("requirement", "").strip(),
                    responsible=p.get("responsible", "").strip(),
                    deadline=_date(p.get("deadline"), "deadline") if p.get("deadline") else None,
                )
            elif p.get("action") == "case":
                finding = get_object_or_404(
                    visible_to(user, Action.VIEW, Finding),
                    pk=_pk(p.get("finding")),
                    inspection=inspection,
                )
                case = services.open_case_from_finding(
                    by=user, finding=finding, kind=p.get("kind", "")
                )
                return redirect(case)
            else:
                raise ValidationError({"action": _("未知操作。")})
            return redirect(inspection)
        except ValidationError as exc:
            errors = _errors(exc)
    found = list(inspection.findings.all())
    cases = {
        c.source_ref: c
        for c in Case.objects.filter(source_ref__in=[f"finding:{f.pk}" for f in found])
    }
    findings = [(f, attachments_of(f), cases.get(f"finding:{f.pk}")) for f in found]
    orders = visible_to(user, Action.VIEW, Rectification).filter(finding__inspection=inspection)
    return render(
        request,
        "supervision/inspection_detail.html",
        {
            "inspection": inspection,
            "findings": findings,
            "orders": orders,
            "inspectors": [u.get_username() for u in inspection.inspectors.all()],
            "can_record": can(user, Action.CHANGE, inspection),
            "can_open_case": can(user, "open", Case),
            "case_kinds": CaseKind.choices,
            "severities": Severity.choices,
            "errors": errors,
        },
        status=422 if errors else 200,
    )


def _order_context(
    request: HttpRequest, order: Rectification, errors: list[str] | None = None
) -> dict[str, Any]:
    user = request.user
    return {
        "order": order,
        "events": [(e, attachments_of(e)) for e in order.events.all()],
        "finding_files": attachments_of(order.finding),
        "can_answer": order.state in ("issued", "sent_back") and can(user, "answer", order),
        "can_verify": order.state == "answered" and can(user, "verify", order),
        "errors": errors or [],
        "finding": order.finding,
    }


@_signed_in
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    order = get_object_or_404(visible_to(request.user, Action.VIEW, Rectification), pk=pk)
    return render(request, "supervision/order_detail.html", _order_context(request, order))


@require_POST
@_signed_in
def order_act(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    order = get_object_or_404(visible_to(user, Action.VIEW, Rectification), pk=pk)
    action = request.POST.get("action")
    note = request.POST.get("note", "")
    try:
        if action == "answer":
            services.answer_order(
                by=user, order=order, evidence=note, files=request.FILES.getlist("files")
            )
        elif action in ("close", "send_back"):
            services.verify_order(by=user, order=order, accept=action == "close", note=note)
        else:
            raise ValidationError({"action": _("未知操作。")})
    except ValidationError as exc:
        order.refresh_from_db()
        return render(
            request,
            "supervision/order_detail.html",
            _order_context(request, order, _errors(exc)),
            status=422,
        )
    return redirect(order)
