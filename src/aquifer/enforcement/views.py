"""Pages of the enforcement app: the case list and a case (procedure, evidence, documents),
opening a case (by hand, from an alarm), the metering compliance list, electricity statements
and the 以电折水 check, the pollution-source register, and the public credit list.

Every queryset comes from ``visible_to``; a case out of sight is a 404. Writes go through
``enforcement.services`` (the same checks as the API).
"""

from __future__ import annotations

import datetime as dt
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
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aquifer.core.attachments import attach as store_file
from aquifer.core.roles import Action
from aquifer.core.scoping import allowed, can, require, visible_to
from aquifer.core.tables import sort
from aquifer.enforcement import compliance, documents, pollution, services
from aquifer.enforcement.filters import CaseFilterSet
from aquifer.enforcement.forms import CaseForm, SourceEditForm, SourceForm
from aquifer.enforcement.models import (
    Band,
    Case,
    CaseKind,
    CreditRecord,
    EvidenceKind,
    ExecutionKind,
    PollutionSource,
    SourceInspection,
    TankType,
)
from aquifer.enforcement.tables import CaseTable, CreditTable, MeteringTable
from aquifer.maintenance.models import Patrol
from aquifer.monitoring.models import Alarm
from aquifer.registry.models import Township, Well

PAGE_SIZE = 50


def _signed_in(request: HttpRequest) -> HttpResponse | None:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return None


def _errors(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [m for ms in exc.message_dict.values() for m in ms]
    return list(exc.messages)


def case_list(request: HttpRequest) -> HttpResponse:
    if (r := _signed_in(request)) is not None:
        return r
    qs = visible_to(request.user, Action.VIEW, Case).select_related("township")
    filters = CaseFilterSet(request.GET, queryset=qs, request=request)
    table = CaseTable(filters.qs, attrs={"id": "case-list", "class": "list"})
    table.request = request
    sort(table, request.GET.getlist(table.order_by_field))
    table.paginator = Paginator(table.rows, PAGE_SIZE)
    table.page = table.paginator.get_page(request.GET.get("page"))
    query = urlencode(
        [
            (n, request.GET[n])
            for n in filters.filters
            if request.GET.get(n) and n not in filters.errors
        ]
    )
    api = reverse("api:api-root") + "enforcement/cases/export"
    exports = [
        (label, f"{api}?format={fmt}" + (f"&{query}" if query else ""))
        for fmt, label in (("xlsx", "Excel"), ("csv", "CSV"))
    ]
    return render(
        request,
        "enforcement/case_list.html",
        {
            "form": filters.form,
            "table": table,
            "page_obj": table.page,
            "exports": exports,
            "can_open": can(request.user, "open", Case),
        },
    )


def case_new(request: HttpRequest) -> HttpResponse:
    if (r := _signed_in(request)) is not None:
        return r
    form = CaseForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            case = services.open_case(
                d["kind"],
                d["source"],
                by=request.user,
                title=d["title"],
                facts=d["facts"],
                party=d["party"],
                well=d["well"],
            )
        except ValidationError as exc:
            for m in _errors(exc):
                form.add_error(None, m)
        except PermissionDenied as exc:
            form.add_error(None, str(exc) or _("无权登记该案件。"))
        else:
            messages.success(request, _("已登记案件 %s") % case.number)
            return redirect(case.get_absolute_url())
    return render(request, "enforcement/case_form.html", {"form": form})


def _case(request: HttpRequest, pk: int) -> Case:
    case = get_object_or_404(Case.objects.select_related("township", "owner", "well"), pk=pk)
    require(request.user, Action.VIEW, case)
    return case


def _detail(
    request: HttpRequest, case: Case, errors: list[str] | None = None, status: int = 200
) -> HttpResponse:
    staff = can(request.user, "work", case) or can(request.user, "open", case)
    return render(
        request,
        "enforcement/case_detail.html",
        {
            "case": case,
            "staff": staff,
            "steps": case.steps.all() if staff else [],
            "evidence": case.evidence.all() if staff else [],
            "allowed": services.permitted_steps(request.user, case),
            "documents": documents.available(case)
            if staff
            else [d for d in documents.available(case) if d[0] == "decision"],
            "bands": Band.choices,
            "executions": ExecutionKind.choices,
            "evidence_kinds": [
                c
                for c in EvidenceKind.choices
                if c[0] in ("frame", "statement", "note", "document", "finding")
            ],
            "can_attach": can(request.user, "work", case) and case.is_open,
            "errors": errors or [],
        },
        status=status,
    )


def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    if (r := _signed_in(request)) is not None:
        return r
    return _detail(request, _case(request, pk))


@require_POST
def case_step(request: HttpRequest, pk: int) -> HttpResponse:
    if (r := _signed_in(request)) is not None:
        return r
    case = _case(request, pk)
    p = request.POST
    data: dict[str, Any] = {k: p[k] for k in ("band", "amount", "reason", "execution") if p.get(k)}
    data["hearing"] = p.get("hearing") == "on"
    try:
        services.take_step(case, p.get("step", ""), by=request.user, note=p.get("note", ""), **data)
    except ValidationError as exc:
        return _detail(request, _case(request, pk), _errors(exc), status=422)
    return redirect(case.get_absolute_url())


@require_POST
def case_evidence(request: HttpRequest, pk: int) -> HttpResponse:
    if (r := _signed_in(request)) is not None:
        return r
    case = _case(request, pk)
    p = request.POST
    try:
        upload = request.FILES.get("file")
        if upload is not None:
            if not can(request.user, "work", case):
                raise PermissionDenied(_("无权办理该案件。"))
            attachment = store_file(case, upload, user=request.user, label=p.get("label", ""))
            services.attach_file(case, attachment, by=request.user, label=p.get("label", ""))
        else:
            kind = p.get("kind", "")
            content = {"text": p.get("text", "")}
            if kind == "frame":
                content["raw_hex"] = p.get("raw_hex", "")
            services.attach(case, kind, p.get("label", ""), content, by=request.user)
    except ValidationError as exc:
        return _detail(request, _case(request, pk), _errors(exc), status=422)
    return redirect(case.get_absolute_url() + "#evidence")


def _local_time(value: str, field: str) -> dt.datetime | None:
    """A ``datetime-local`` field as an aware time (China Standard Time); None if empty."""
    if not value.strip():
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError({field: _("时间格式不正确：%s") % value}) from None
    return parsed if parsed.utcoffset() is not None else timezone.make_aware(parsed)


@require_POST
def case_frames(request: HttpRequest, pk: int) -> HttpResponse:
    """Attach the case device's archived raw frames of a window (empty: the alarm's)."""
    if (r := _signed_in(request)) is not None:
        return r
    case = _case(request, pk)
    p = request.POST
    try:
        start = _local_time(p.get("start", ""), "start")
        end = _local_time(p.get("end", ""), "end")
        pieces = services.attach_archived_frames(case, by=request.user, start=start, end=end)
    except ValidationError as exc:
        return _detail(request, _case(request, pk), _errors(exc), status=422)
    messages.success(request, _("已附加原始报文 %s 条") % len(pieces))
    return redirect(case.get_absolute_url() + "#evidence")


def case_document(request: HttpRequest, pk: int, code: str) -> HttpResponse:
    if (r := _signed_in(request)) is not None:
        return r
    case = _case(request, pk)
    staff = can(request.user, "work", case) or can(request.user, "open", case)
    codes = [c for c, _t in documents.available(case)]
    if code not in codes or (not staff and code != "decision"):
        raise Http404
    return documents.response(case, code)


@require_POST
def case_from_alarm(request: HttpRequest, pk: int) -> HttpResponse:
    if (r := _signed_in(request)) is not None:
        return r
    alarm = visible_to(request.user, Action.VIEW, Alarm).filter(pk=pk).first()
    if alarm is None:
        raise Http404
    try:
        case = services.open_from_alarm(
            alarm, by=request.user, kind=request.POST.get("kind") or None
        )
    except ValidationError as exc:
        for m in _errors(exc):
            messages.error(request, m)
        return redirect(alarm.get_absolute_url())
    messages.success(request, _("已登记案件 %s") % case.number)
    return redirect(case.get_absolute_url())


def case_from_patrol(request: HttpRequest, pk: int) -> HttpResponse:
    """A case from a patrol visit (its checklist and findings attached): GET asks the kind,
    POST opens it."""
    if (r := _signed_in(request)) is not None:
        return r
    patrol = visible_to(request.user, Action.VIEW, Patrol).filter(pk=pk).first()
    if patrol is None:
        raise Http404
    if not can(request.user, "open", Case):
        raise PermissionDenied(_("无权登记该案件。"))
    errors: list[str] = []
    if request.method == "POST":
        try:
            case = services.open_from_patrol(
                patrol,
                by=request.user,
                kind=request.POST.get("kind", ""),
                facts=request.POST.get("facts", "").strip(),
            )
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(request, _("已登记案件 %s") % case.number)
            return redirect(case.get_absolute_url())
    return render(
        request,
        "enforcement/case_from_patrol.html",
        {"patrol": patrol, "kinds": CaseKind.choices, "errors": errors},
        status=422 if errors else 200,
    )


def metering(request: HttpRequest) -> HttpResponse:
    if (r := _signed_in(request)) is not None:
        return r
    township_id = request.GET.get("township_id") or None
    errors: list[str] = []
    rows: list[Any] = []
    try:
        rows = compliance.metering_rows(request.user, int(township_id) if township_id else None)
    except (ValueError, ValidationError):
        errors.append(_("不存在该乡镇。"))
    table = MeteringTable(rows, attrs={"id": "metering-list", "class": "list"})
    table.request = request
    table.paginator = Paginator(table.rows, PAGE_SIZE)
    table.page = table.paginator.get_page(request.GET.get("page"))
    api = reverse("api:api-root") + "enforcement/metering/export"
    q = f"&township_id={township_id}" if township_id and not errors else ""
    by_township: dict[str, int] = {}
    for row in rows:
        by_township[row.township] = by_township.get(row.township, 0) + 1
    return render(
        request,
        "enforcement/metering.html",
        {
            "table": table,
            "page_obj": table.page,
            "errors": errors,
            "count": len(rows),
            "by_township": by_township,
            "townships": Township.objects.order_by("code")
            if allowed(request.user, "enforcement.all_townships")
            else [],
            "township_id": township_id,
            "exports": [("Excel", f"{api}?format=xlsx{q}"), ("CSV", f"{api}?format=csv{q}")],
        },
    )


def electricity(request: HttpRequest) -> HttpResponse:
    if (r := _signed_in(request)) is not None:
        return r
    errors: list[str] = []
    result = None
    if request.method == "POST":
        if not allowed(request.user, "enforcement.metering_admin"):
            raise PermissionDenied(_("无权导入电费清单。"))
        upload = request.FILES.get("file")
        if upload is None:
            errors.append(_("请选择文件。"))
        else:
            try:
                result = compliance.import_electricity(
                    upload.name or "", upload.read(), by=request.user
                )
            except compliance.ImportError_ as exc:
                errors = [
                    _("第 %(row)s 行 %(col)s：%(msg)s") % {"row": r_, "col": c, "msg": m}
                    for r_, c, m in exc.errors[:50]
                ]
    try:
        year = int(request.GET.get("year") or timezone.localdate().year)
    except ValueError:
        year = timezone.localdate().year
        errors.append(_("年份无效。"))
    visible = set(visible_to(request.user, Action.VIEW, Well).values_list("id", flat=True))
    suspected = [b for b in compliance.cross_check(year) if b.well_id in visible]
    estimates = [e for e in compliance.estimates(year) if e["well_id"] in visible]
    return render(
        request,
        "enforcement/electricity.html",
        {
            "year": year,
            "suspected": suspected,
            "estimates": estimates,
            "errors": errors,
            "result": result,
            "can_import": allowed(request.user, "enforcement.metering_admin"),
            "years": range(timezone.localdate().year - 3, timezone.localdate().year + 1),
        },
        status=422 if errors and request.method == "POST" else 200,
    )


def source_list(request: HttpRequest) -> HttpResponse:
    if (r := _signed_in(request)) is not None:
        return r
    form = SourceForm(request.POST or None)
    can_add = can(request.user, Action.ADD, PollutionSource)
    if request.method == "POST":
        if not can_add:
            raise PermissionDenied(_("无权登记污染源。"))
        if form.is_valid():
            source = form.save()
            return redirect(source.get_absolute_url())
    sources = list(
        visible_to(request.user, Action.VIEW, PollutionSource).select_related("township")
    )
    for s in sources:
        s.missing_labels = [  # type: ignore[attr-defined]
            pollution.DUTY_LABELS[d]
            for d in pollution.missing_duties(
                s.kind, s.tank_type, s.seepage_control, s.monitoring_well
            )
        ]
    return render(
        request,
        "enforcement/source_list.html",
        {
            "sources": sources,
            "form": form,
            "can_add": can_add,
        },
        status=422 if request.method == "POST" else 200,
    )


def source_detail(request: HttpRequest, pk: int) -> HttpResponse:
    if (r := _signed_in(request)) is not None:
        return r
    source = get_object_or_404(PollutionSource, pk=pk)
    require(request.user, Action.VIEW, source)
    errors: list[str] = []
    if request.method == "POST":
        p = request.POST
        try:
            if p.get("inspection"):
                inspection = get_object_or_404(SourceInspection, pk=p["inspection"], source=source)
                case = pollution.open_case_from_inspection(inspection, by=request.user)
                return redirect(case.get_absolute_url())
            pollution.inspect(
                source,
                by=request.user,
                tank_type=p.get("tank_type", ""),
                seepage_control=p.get("seepage_control") == "on",
                monitoring_well=p.get("monitoring_well") == "on",
                findings=p.get("findings", ""),
            )
            return redirect(source.get_absolute_url())
        except ValueError:
            raise Http404 from None
        except ValidationError as exc:
            errors = _errors(exc)
    inspections = list(source.inspections.all())
    for i in inspections:
        i.missing_labels = [  # type: ignore[attr-defined]
            pollution.DUTY_LABELS[d] for d in i.missing
        ]
    return render(
        request,
        "enforcement/source_detail.html",
        {
            "source": source,
            "inspections": inspections,
            "errors": errors,
            "duties": [pollution.DUTY_LABELS[d] for d in pollution.duties(source.kind)],
            "missing": [
                pollution.DUTY_LABELS[d]
                for d in pollution.missing_duties(
                    source.kind, source.tank_type, source.seepage_control, source.monitoring_well
                )
            ],
            "can_inspect": can(request.user, "inspect", source),
            "can_edit": can(request.user, Action.CHANGE, source),
            "can_open": can(request.user, "open", Case),
            "tank_types": TankType.choices,
        },
        status=422 if errors else 200,
    )


def source_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a registered source (bureau and inspectors); out of sight a 404."""
    if (r := _signed_in(request)) is not None:
        return r
    source = get_object_or_404(PollutionSource, pk=pk)
    require(request.user, Action.VIEW, source)
    if not can(request.user, Action.CHANGE, source):
        raise PermissionDenied(_("无权修改该污染源。"))
    form = SourceEditForm(request.POST or None, instance=source)
    if request.method == "POST" and form.is_valid():
        fresh = PollutionSource.objects.get(pk=source.pk)
        try:
            pollution.update_source(fresh, form.cleaned_data, by=request.user)
        except ValidationError as exc:
            for field, errs in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errs)
        else:
            messages.success(request, _("已修改污染源 %s") % fresh.name)
            return redirect(fresh.get_absolute_url())
    return render(
        request,
        "enforcement/source_edit.html",
        {"source": source, "form": form},
        status=422 if request.method == "POST" else 200,
    )


def credit(request: HttpRequest) -> HttpResponse:
    qs = visible_to(request.user, Action.VIEW, CreditRecord).select_related("water_user")
    table = CreditTable(qs, attrs={"id": "credit-list", "class": "list"})
    table.request = request
    sort(table, request.GET.getlist(table.order_by_field))
    table.paginator = Paginator(table.rows, PAGE_SIZE)
    table.page = table.paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "enforcement/credit.html",
        {"table": table, "page_obj": table.page, "today": dt.date.today()},
    )
