"""Permit pages: list, detail (decisions with reasons and sources, quota use), application
form, review and decision, requests, quota use, the zone ledger, the rules page, exports.

Every queryset comes from :func:`aquifer.core.scoping.visible_to` (out of scope → 404); the
workflow's role rules are in :mod:`aquifer.permits.reports`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_POST

from aquifer.accounting import service as accounting
from aquifer.core.exports import export_response
from aquifer.core.roles import Action
from aquifer.core.scoping import allowed, visible_to
from aquifer.core.tables import export_columns, sort
from aquifer.permits import reasons, reports, services
from aquifer.permits.filters import PermitFilterSet
from aquifer.permits.forms import (
    ApplyForm,
    CancelForm,
    DecideForm,
    EndWindowForm,
    QuotaForm,
    RequestForm,
    ReviewForm,
    SettingsForm,
    WindowForm,
)
from aquifer.permits.models import (
    EmergencyWindow,
    Permit,
    PermitApplication,
    RuleDecision,
    RuleSettings,
)
from aquifer.permits.tables import LedgerTable, PermitTable, QuotaUseTable


def _join(errors: Any) -> str:
    return " ".join(str(e) for e in errors)


def _form_errors(form: Any) -> str:
    return "; ".join(f"{k}: {_join(v)}" for k, v in form.errors.items())


def _signed_in_or_login(request: HttpRequest) -> HttpResponse | None:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return None


def _need(request: HttpRequest, ok: bool) -> HttpResponse | None:
    """Login for the anonymous, 403 for a signed-in user without the right."""
    if not ok:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        raise PermissionDenied(_("您的角色无权执行该操作。"))
    return None


def _year(request: HttpRequest) -> int:
    try:
        year = int(request.GET.get("year") or timezone.localdate().year)
    except ValueError:
        year = timezone.localdate().year
    return min(max(year, 2000), 2100)


def _permits(request: HttpRequest) -> PermitFilterSet:
    """The visible permits through the list's FilterSet (an invalid filter value is left out
    of the filtering and shown as the form's error)."""
    qs = reports.permits_visible(request.user).prefetch_related("wells", "applications")
    return PermitFilterSet(request.GET, queryset=qs, request=request)


def _query(request: HttpRequest, filters: PermitFilterSet, *extra: str) -> str:
    """The query of the list's valid filters (and ``extra`` parameters), for export links."""
    names = [*extra, *filters.filters]
    return urlencode(
        [
            (name, request.GET[name])
            for name in names
            if request.GET.get(name) and name not in filters.errors
        ]
    )


def _paged(table: Any, request: HttpRequest, per_page: int) -> None:
    table.request = request
    sort(table, request.GET.getlist(table.order_by_field))
    table.paginator = Paginator(table.rows, max(per_page, 1))
    table.page = table.paginator.get_page(request.GET.get("page"))


def permit_list(request: HttpRequest) -> HttpResponse:
    denied = _need(request, allowed(request.user, "permits.register"))
    if denied:
        return denied
    filters = _permits(request)
    table = PermitTable(filters.qs, attrs={"id": "permit-list", "class": "list"})
    _paged(table, request, settings.AQUIFER["PAGE_SIZE"])
    context = {
        "title": _("取水许可证"),
        "table": table,
        "page_obj": table.page,
        "filter_form": filters.form,
        "query": _query(request, filters),
        "can_apply": reports.can_apply(request.user),
    }
    htmx = getattr(request, "htmx", None)
    if htmx and not htmx.history_restore_request:
        return render(request, "permits/_list_results.html", context)
    return render(request, "permits/list.html", context)


def permit_export(request: HttpRequest) -> HttpResponse:
    denied = _need(request, allowed(request.user, "permits.register"))
    if denied:
        return denied
    return export_response(
        _permits(request).qs,
        export_columns(PermitTable, Permit),
        request.GET.get("format", "xlsx"),
        "permits",
    )


SUBJECTS: dict[str, str] = {
    "new_permit": gettext_noop("新增取水许可"),
    "quota_increase": gettext_noop("增加许可水量"),
    "quota_decrease": gettext_noop("核减许可水量"),
    "renewal": gettext_noop("延续"),
    "transfer": gettext_noop("水权交易转让水量"),
    "well_activation": gettext_noop("取水井启用"),
    "cancellation": gettext_noop("注销"),
}


def _decision_reason(r: RuleDecision) -> str:
    """What a rule decision's "reason" column shows: the officer's note, or the application
    it was made on (older rows stored "application <id>" / "well <code> activation")."""
    text = r.reason or ""
    if r.application_id and text in ("", f"application {r.application_id}"):
        return _("申请 #%(n)s") % {"n": r.application_id}
    if text.startswith("well ") and text.endswith(" activation"):
        return _("取水井 %(code)s 启用") % {"code": text[5 : -len(" activation")]}
    return text


def permit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    denied = _signed_in_or_login(request)
    if denied:
        return denied
    permit = get_object_or_404(reports.permits_visible(request.user), pk=pk)
    user = request.user
    year = _year(request)
    apps = list(permit.applications.order_by("-received_on", "-id"))
    for a in apps:
        a.can_review = reports.can_review(user, a)  # type: ignore[attr-defined]
        a.can_decide = reports.can_decide(user, a)  # type: ignore[attr-defined]
        a.working_days_left = (  # type: ignore[attr-defined]
            services.calendar().working_days_between(timezone.localdate(), a.deadline)
            if a.is_open
            else None
        )
        # What the rules would answer to an approval today: seen before deciding.
        preview = services.preview(a) if a.is_open else None
        a.preview = preview.to_dict() if preview is not None else None  # type: ignore[attr-defined]
    decisions = list(
        visible_to(user, Action.VIEW, RuleDecision).filter(permit=permit).order_by("-at", "-id")
    )
    for r in decisions:
        r.subject_label = _(SUBJECTS[r.subject]) if r.subject in SUBJECTS else r.subject  # type: ignore[attr-defined]
        r.reason_label = _decision_reason(r)  # type: ignore[attr-defined]
    row = reports.quota_rows([permit], year)[0]
    monthly = reports.monthly_use(permit, year)
    context = {
        "permit": permit,
        "wells": list(visible_to(user, Action.VIEW, permit.wells.all()).select_related("zone")),
        "applications": apps,
        "decisions": decisions,
        "quota": row,
        "year": year,
        "monthly_json": json.dumps(monthly) if monthly is not None else "null",
        "review_form": ReviewForm(None),
        "decide_form": DecideForm(None),
        "request_form": RequestForm(None),
        "quota_form": QuotaForm(None),
        "cancel_form": CancelForm(None),
        "can_request": reports.can_request(user, permit),
        "can_manage": reports.can_manage(user) and permit.status == "active",
    }
    return render(request, "permits/detail.html", context)


def permit_apply(request: HttpRequest) -> HttpResponse:
    denied = _need(request, reports.can_apply(request.user))
    if denied:
        return denied
    user = request.user
    form = ApplyForm(request.POST if request.method == "POST" else None, user)
    own = getattr(user, "water_user_id", None)
    if own:  # a water user applies for itself
        form.fields["holder"].initial = own
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        if not reports.can_apply(user, d["holder"]):
            form.add_error("holder", _("您不能为该取用水户申请。"))
        else:
            try:
                app = services.apply_for_permit(
                    holder=d["holder"],
                    wells=d["wells"],
                    source=d["source"],
                    use_type=d["use_type"],
                    annual_quota_m3=d["annual_quota_m3"],
                    term_years=d["term_years"],
                    flags=d["flags"],
                    purpose=d["purpose"],
                    statement=d["statement"],
                    by=user,
                )
            except ValidationError as exc:
                for field, errs in exc.message_dict.items():
                    for e in errs:
                        form.add_error(field if field in form.fields else None, e)
            else:
                messages.success(
                    request,
                    _("申请 #%(n)s 已受理，决定期限：%(d)s")
                    % {"n": app.pk, "d": app.deadline.isoformat()},
                )
                _preview_message(request, app)
                return redirect(app.permit.get_absolute_url())
    status = 422 if request.method == "POST" else 200
    return render(
        request, "permits/apply.html", {"form": form, "title": _("申请取水许可")}, status=status
    )


def _preview_message(request: HttpRequest, app: PermitApplication) -> None:
    """Tell the applicant at once when the rules stand against their application."""
    preview = services.preview(app)
    if preview is not None and not preview.allowed:
        messages.warning(
            request,
            _("规则预判：按现行规则，该申请将不予许可。%(reasons)s")
            % {"reasons": reasons.decision_text(preview.to_dict())},
        )


def _app_for(request: HttpRequest, pk: int) -> PermitApplication:
    qs = visible_to(request.user, Action.VIEW, PermitApplication).select_related("permit__township")
    return get_object_or_404(qs, pk=pk)


def _fail(
    request: HttpRequest, permit: Permit, form: Any, exc: Exception | None = None
) -> HttpResponse:
    if exc is not None:
        text = (
            exc.message
            if isinstance(exc, services.PermitError)
            else "; ".join(getattr(exc, "messages", [str(exc)]))
        )
    else:
        text = _form_errors(form)
    messages.error(request, text)
    return HttpResponseRedirect(permit.get_absolute_url())


def _act(
    request: HttpRequest,
    permit: Permit,
    allowed: bool,
    form_class: Any,
    act: Callable[[dict[str, Any]], None],
) -> HttpResponse:
    """The body every permit/application action shares: 403 without the right, the form's
    errors or the service's refusal as a message, else ``act`` (which posts its own message);
    back to the permit either way."""
    if not allowed:
        raise PermissionDenied(_("您的角色无权执行该操作。"))
    form = form_class(request.POST)
    if not form.is_valid():
        return _fail(request, permit, form)
    try:
        act(form.cleaned_data)
    except services.PermitError as exc:
        return _fail(request, permit, form, exc)
    return redirect(permit.get_absolute_url())


def _decided(request: HttpRequest, d: Any, ok: str, refused: str) -> None:
    """Success only when the change was made; a refusal (by the rules or the bureau) is an
    error banner with the reasons as sentences in the reader's language."""
    if d.allowed:
        messages.success(request, ok)
    else:
        messages.error(request, refused + " " + reasons.decision_text(d.to_dict()))


@require_POST
def application_review(request: HttpRequest, pk: int) -> HttpResponse:
    denied = _signed_in_or_login(request)
    if denied:
        return denied
    app = _app_for(request, pk)

    def act(d: dict[str, Any]) -> None:
        services.review(
            app,
            recommends=d["recommends"],
            opinion=d["opinion"],
            by=request.user,
            reclaimed_land=d.get("reclaimed_land"),
        )
        messages.success(request, _("初审意见已提交。"))

    return _act(request, app.permit, reports.can_review(request.user, app), ReviewForm, act)


@require_POST
def application_decide(request: HttpRequest, pk: int) -> HttpResponse:
    denied = _signed_in_or_login(request)
    if denied:
        return denied
    app = _app_for(request, pk)

    def act(d: dict[str, Any]) -> None:
        decision = services.decide(app, approve=d["approve"], note=d["note"], by=request.user)
        number = {"n": app.pk}
        _decided(
            request,
            decision,
            _("申请 #%(n)s：已准予许可。") % number,
            _("申请 #%(n)s：不予许可。") % number,
        )

    return _act(request, app.permit, reports.can_decide(request.user), DecideForm, act)


def _permit_for(request: HttpRequest, pk: int) -> Permit:
    return get_object_or_404(reports.permits_visible(request.user), pk=pk)


@require_POST
def permit_request(request: HttpRequest, pk: int) -> HttpResponse:
    denied = _signed_in_or_login(request)
    if denied:
        return denied
    permit = _permit_for(request, pk)

    def act(d: dict[str, Any]) -> None:
        app = services.apply_for(
            permit,
            d["kind"],
            requested_quota_m3=d["requested_quota_m3"],
            requested_term_years=d["requested_term_years"],
            statement=d["statement"],
            by=request.user,
        )
        messages.success(
            request,
            _("申请 #%(n)s 已受理，决定期限：%(d)s") % {"n": app.pk, "d": app.deadline.isoformat()},
        )
        _preview_message(request, app)

    return _act(request, permit, reports.can_request(request.user, permit), RequestForm, act)


@require_POST
def permit_quota(request: HttpRequest, pk: int) -> HttpResponse:
    denied = _signed_in_or_login(request)
    if denied:
        return denied
    permit = _permit_for(request, pk)

    def act(d: dict[str, Any]) -> None:
        decision = services.change_quota(
            permit, d["new_quota_m3"], reason=d["reason"], by=request.user, source="web"
        )
        _decided(request, decision, _("许可水量已调整。"), _("规则不允许调整许可水量。"))

    return _act(request, permit, reports.can_manage(request.user), QuotaForm, act)


@require_POST
def permit_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    denied = _signed_in_or_login(request)
    if denied:
        return denied
    permit = _permit_for(request, pk)

    def act(d: dict[str, Any]) -> None:
        services.cancel(permit, reason=d["reason"], by=request.user)
        messages.success(request, _("许可证已注销。"))

    return _act(request, permit, reports.can_manage(request.user), CancelForm, act)


def _quota_rows(request: HttpRequest) -> tuple[list[Any], int, PermitFilterSet]:
    filters = _permits(request)
    year = _year(request)
    return reports.quota_rows(filters.qs.filter(status="active"), year), year, filters


def quota_use(request: HttpRequest) -> HttpResponse:
    denied = _need(request, allowed(request.user, "permits.register"))
    if denied:
        return denied
    rows, year, filters = _quota_rows(request)
    table = QuotaUseTable(rows, attrs={"id": "quota-use-list", "class": "list"})
    # Every row is computed (a column sorts them all), a page of them is shown.
    _paged(table, request, settings.AQUIFER["PAGE_SIZE"])
    reports.name_rows(r.record for r in table.page.object_list)
    context = {
        "title": _("许可水量使用"),
        "table": table,
        "page_obj": table.page,
        "year": year,
        "as_of": accounting.as_of(year),
        "filter_form": filters.form,
        "query": _query(request, filters, "year"),
    }
    htmx = getattr(request, "htmx", None)
    if htmx and not htmx.history_restore_request:
        return render(request, "permits/_quota_results.html", context)
    return render(request, "permits/quota_use.html", context)


def quota_export(request: HttpRequest) -> HttpResponse:
    denied = _need(request, allowed(request.user, "permits.register"))
    if denied:
        return denied
    rows, year, _filters = _quota_rows(request)
    return export_response(
        rows, export_columns(QuotaUseTable), request.GET.get("format", "xlsx"), f"quota-use-{year}"
    )


def zone_ledger(request: HttpRequest) -> HttpResponse:
    denied = _need(request, reports.can_see_ledger(request.user))
    if denied:
        return denied
    year = _year(request)
    data = reports.ledger(year)
    zones = LedgerTable(
        data["zones"], attrs={"id": "ledger-zones", "class": "list"}, exclude=["level"]
    )
    county = [{**r, "name": _("全县")} for r in data["county"]]
    townships = LedgerTable(
        data["townships"] + county,
        attrs={"id": "ledger-townships", "class": "list"},
        exclude=["level", "kind", "layer"],
    )
    for table in (zones, townships):
        _paged(table, request, len(table.rows))
    return render(
        request,
        "permits/ledger.html",
        {"title": _("分区水量台账"), "year": year, "zones": zones, "townships": townships},
    )


def ledger_export(request: HttpRequest) -> HttpResponse:
    denied = _need(request, reports.can_see_ledger(request.user))
    if denied:
        return denied
    year = _year(request)
    return export_response(
        reports.ledger_rows(reports.ledger(year)),
        export_columns(LedgerTable),
        request.GET.get("format", "xlsx"),
        f"zone-ledger-{year}",
    )


def rules_page(request: HttpRequest) -> HttpResponse:
    denied = _need(request, reports.can_see_rules(request.user))
    if denied:
        return denied
    conf = services.current_settings()
    rs = services.rule_set(conf)
    manage = reports.can_manage(request.user)
    initial = {}
    if conf is not None:
        initial = {
            "overloaded_townships": ", ".join(conf.overloaded_townships),
            "overloaded_zones": ", ".join(conf.overloaded_zones),
            "overloaded_sources": conf.overloaded_sources,
            "county_cap_m3": conf.county_cap_m3,
        }
    return render(
        request,
        "permits/rules.html",
        {
            "title": _("许可规则"),
            "ruleset": rs.to_dict(),
            "conf": conf,
            "history": list(RuleSettings.objects.all()[:20]),
            "windows": list(EmergencyWindow.objects.all()),
            "in_emergency": services.in_emergency(timezone.localdate()),
            "can_manage": manage,
            "settings_form": SettingsForm(initial=initial) if manage else None,
            "window_form": WindowForm() if manage else None,
            "end_form": EndWindowForm(initial={"end": timezone.localdate()}) if manage else None,
            "calendar_years": sorted(services.calendar().known_years),
        },
    )


def _codes(text: str) -> list[str]:
    return [c.strip() for c in text.replace("，", ",").split(",") if c.strip()]


@require_POST
def rules_settings(request: HttpRequest) -> HttpResponse:
    denied = _need(request, reports.can_manage(request.user))
    if denied:
        return denied
    form = SettingsForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.save_settings(
                by=request.user,
                document=d["document"],
                overloaded_townships=_codes(d["overloaded_townships"]),
                overloaded_zones=_codes(d["overloaded_zones"]),
                overloaded_sources=list(d["overloaded_sources"]),
                county_cap_m3=d["county_cap_m3"],
                note=d["note"],
            )
        except ValidationError as exc:
            messages.error(
                request, "; ".join(f"{k}: {_join(v)}" for k, v in exc.message_dict.items())
            )
        except services.PermitError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("规则设置已保存。"))
    else:
        messages.error(request, _form_errors(form))
    return redirect("permits:rules")


@require_POST
def window_declare(request: HttpRequest) -> HttpResponse:
    denied = _need(request, reports.can_manage(request.user))
    if denied:
        return denied
    form = WindowForm(request.POST)
    if form.is_valid():
        try:
            services.declare_window(by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
        else:
            messages.success(request, _("已宣布应急期。"))
    else:
        messages.error(request, _form_errors(form))
    return redirect("permits:rules")


@require_POST
def window_end(request: HttpRequest, pk: int) -> HttpResponse:
    denied = _need(request, reports.can_manage(request.user))
    if denied:
        return denied
    window = EmergencyWindow.objects.filter(pk=pk).first()
    if window is None:
        raise Http404
    form = EndWindowForm(request.POST)
    if form.is_valid():
        try:
            services.end_window(window, end=form.cleaned_data["end"], by=request.user)
        except (ValidationError, services.PermitError) as exc:
            messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(request, _("应急期已结束。"))
    else:
        messages.error(request, _form_errors(form))
    return redirect("permits:rules")
