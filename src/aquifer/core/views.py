"""Pages of the core: the home page (the morning view), login and logout, the audit trail.

The audit helpers here (:func:`history_of`, :func:`describe`) are also used by every app's
detail pages to show a record's history.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import defaults

from aquifer.core import attachments, morning, savedfilters
from aquifer.core import search as search_registry
from aquifer.core.audit import SECURITY
from aquifer.core.models import AuditEntry, SavedFilter
from aquifer.core.roles import Action
from aquifer.core.scoping import allowed, require, require_any, visible_to

__all__ = [
    "LoginView",
    "LogoutView",
    "audit_list",
    "current_names",
    "describe",
    "favicon",
    "field_label",
    "history_of",
    "home",
    "permission_denied",
    "saved_filter_create",
    "saved_filter_delete",
    "search",
]

#: The most entries a detail page shows; the audit page has them all.
HISTORY_LIMIT = 200
_VALUE_WIDTH = 120


class LoginView(auth_views.LoginView):
    template_name = "core/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """Log out (POST only, as Django requires)."""


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """A refused page (``handler403``): an anonymous visitor is sent to log in, since the page
    may be theirs once signed in; a signed-in user gets the 403 page."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return defaults.permission_denied(request, exception)


def home(request: HttpRequest) -> HttpResponse:
    """The home page: the morning view of the user's role — the figures the apps declared in
    their ``morning.py`` (:mod:`aquifer.core.morning`), each linking to the list behind it.
    Anonymous visitors and the public's accounts go to the portal."""
    if not allowed(request.user, "core.morning"):
        return redirect("portal:home")
    context = {
        "groups": morning.figures_for(request.user),
        "panels": morning.panels_for(request),
    }
    return render(request, "core/morning.html", context)


# --- Audit ----------------------------------------------------------------------------------------


def _model_of(object_type: str) -> type[models.Model] | None:
    try:
        return apps.get_model(object_type)
    except (LookupError, ValueError):
        return None


def _show(value: Any, f: models.Field[Any, Any] | None) -> str:
    if value is None or value == "":
        return "—"
    if f is not None and f.choices:
        value = dict(f.flatchoices).get(value, value)
    elif isinstance(value, bool):
        value = _("是") if value else _("否")
    elif isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = str(value)
    return text if len(text) <= _VALUE_WIDTH else text[: _VALUE_WIDTH - 1] + "…"


#: Labels of common fields that their models leave unnamed.
FIELD_LABELS = {"created_at": gettext_lazy("创建时间"), "updated_at": gettext_lazy("更新时间")}


def field_label(f: models.Field[Any, Any]) -> Any:
    """A field's verbose name, or our label for a field its model left unnamed."""
    if f.name in FIELD_LABELS and str(f.verbose_name) == f.name.replace("_", " "):
        return FIELD_LABELS[f.name]
    return f.verbose_name


def _related_name(
    f: models.Field[Any, Any], value: Any, names: dict[tuple[str, str], str]
) -> str | None:
    """A foreign key's stored id as the referenced record's name (``#id (已删除)`` when that
    record is gone); None when ``f`` is not a foreign key or the value is empty."""
    if value is None or value == "" or not (f.many_to_one or f.one_to_one):
        return None
    related = f.related_model
    if related is None or isinstance(related, str):
        return None
    key = (related._meta.label_lower, str(value))
    if key not in names:
        found = related._default_manager.filter(pk=value) if _pk_ok(related, value) else None
        target = found.first() if found is not None else None
        names[key] = str(target) if target is not None else _("#%(id)s（已删除）") % {"id": value}
    return names[key]


def _pk_ok(model: type[models.Model], value: Any) -> bool:
    try:
        model._meta.pk.to_python(value)
    except (ValidationError, TypeError, ValueError):
        return False
    return True


def describe(
    entry: AuditEntry,
    model: type[models.Model] | None = None,
    names: dict[tuple[str, str], str] | None = None,
) -> dict[str, Any]:
    """An audit entry as a page shows it: each changed field by its name, old → new.

    The primary key and automatic timestamps (``updated_at``) are left out, and so are fields
    that a new record leaves empty. A foreign key shows the referenced record's name, not its
    id (``names``: a cache of those names, shared by the entries of one page).
    """
    names = {} if names is None else names
    model = model or _model_of(entry.object_type)
    by_attname: dict[str, models.Field[Any, Any]] = {}
    if model is not None:
        by_attname = {f.attname: f for f in model._meta.concrete_fields}
    changes = []
    for key, (old, new) in entry.changes.items():
        f = by_attname.get(key)
        if f is not None and (
            f.primary_key or getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        ):
            continue
        shown_old, shown_new = _show(old, f), _show(new, f)
        if f is not None and f.is_relation:
            shown_old = _related_name(f, old, names) or shown_old
            shown_new = _related_name(f, new, names) or shown_new
        if shown_old == shown_new:
            continue
        changes.append(
            {
                "field": key,
                "label": field_label(f) if f is not None else key,
                "old": shown_old,
                "new": shown_new,
            }
        )
    return {
        "entry": entry,
        # The record's name as it reads now, in the reader's language (a name recorded in
        # one language is not shown in the other); the recorded one once it is gone.
        "repr": names.get((entry.object_type, entry.object_id)) or entry.object_repr,
        "changes": changes,
        "type_label": model._meta.verbose_name if model is not None else entry.object_type,
        "url": _object_url(entry, model),
    }


def _object_url(entry: AuditEntry, model: type[models.Model] | None) -> str:
    if model is None or entry.action == AuditEntry.ActionChoices.DELETE:
        return ""
    try:
        return reverse(
            f"{model._meta.app_label}:{model._meta.model_name}_detail", args=[entry.object_id]
        )
    except NoReverseMatch:
        return ""


def history_of(obj: models.Model) -> list[dict[str, Any]]:
    """The audit trail of one record, newest first.

    Whoever may see the record may see its history (as the API's ``/history`` endpoint).
    """
    entries = AuditEntry.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))[
        :HISTORY_LIMIT
    ]
    names: dict[tuple[str, str], str] = {(obj._meta.label_lower, str(obj.pk)): str(obj)}
    return [describe(e, type(obj), names) for e in entries]


def current_names(entries: Any) -> dict[tuple[str, str], str]:
    """The current names of the records ``entries`` are about, and of the records their
    changed foreign keys point to (one query per record type, however many entries), keyed
    like :func:`describe`'s cache; security events have none, a record that is gone is
    named ``#id (已删除)``."""
    ids: dict[str, set[str]] = {}
    related: dict[str, set[str]] = {}
    for e in entries:
        if e.source == SECURITY:
            continue
        ids.setdefault(e.object_type, set()).add(e.object_id)
        model = _model_of(e.object_type)
        if model is None:
            continue
        fks = {f.attname: f.related_model for f in _foreign_keys(model)}
        for key, pair in (e.changes or {}).items():
            target = fks.get(key)
            if target is None or not isinstance(pair, list | tuple):
                continue
            for value in pair:
                if value is not None and value != "":
                    related.setdefault(target._meta.label_lower, set()).add(str(value))
    names: dict[tuple[str, str], str] = {}
    for object_type in ids.keys() | related.keys():
        model = _model_of(object_type)
        if model is None:
            continue
        keys = ids.get(object_type, set()) | related.get(object_type, set())
        valid = [k for k in keys if _pk_ok(model, k)]
        found = _named(model).in_bulk(valid)
        for pk, obj in found.items():
            names[(object_type, str(pk))] = str(obj)
        # a referenced record that is gone (an entry's own record keeps its recorded name)
        for k in related.get(object_type, set()) - ids.get(object_type, set()):
            names.setdefault((object_type, k), _("#%(id)s（已删除）") % {"id": k})
    return names


#: Columns of a referenced record that a name never reads and that weigh much to load
#: (outlines, documents).
_HEAVY = (models.JSONField, models.BinaryField)


@functools.cache
def _foreign_keys(model: type[models.Model]) -> tuple[Any, ...]:
    """The model's foreign keys and one-to-one fields to a loaded model (asked once per
    entry of an audit page: kept per model)."""
    return tuple(
        f
        for f in model._meta.concrete_fields
        if (f.many_to_one or f.one_to_one) and not isinstance(f.related_model, str | None)
    )


def _named(model: type[models.Model]) -> Any:
    """The records of ``model`` as loaded to be named: the records they point to joined in
    (a target's name reads its township, a score's its assessment — not a query per record),
    without the heavy columns of those (a township's boundary), and what else the model says
    its name reads (``NAME_PREFETCH``: lookups for ``prefetch_related``)."""
    joined = _foreign_keys(model)
    heavy: list[str] = []  # the record's own: its name may read them (an alarm's params)
    for f in joined:
        related = f.related_model._meta
        heavy += [f"{f.name}__{g.name}" for g in related.concrete_fields if isinstance(g, _HEAVY)]
    qs = model._default_manager.select_related(*(f.name for f in joined))
    qs = qs.prefetch_related(*getattr(model, "NAME_PREFETCH", ()))
    return qs.defer(*heavy) if heavy else qs


def audit_list(request: HttpRequest) -> HttpResponse:
    """The audit trail in the user's scope, filtered by record type and by user, paged."""
    user = request.user
    require_any(user, Action.VIEW, AuditEntry, _("您的角色无权查看审计记录。"))
    qs = visible_to(user, Action.VIEW, AuditEntry)
    # Security events (logins, lockouts, refusals) are reviewed on their own
    # ("?source=security", the core.security capability); the trail of changes leaves them out.
    security = request.GET.get("source", "") == SECURITY and allowed(user, "core.security")
    qs = qs.filter(source=SECURITY) if security else qs.exclude(source=SECURITY)
    types = sorted(set(qs.order_by().values_list("object_type", flat=True).distinct()))
    type_choices = []
    for t in types:
        model = _model_of(t)
        type_choices.append((t, str(model._meta.verbose_name) if model else t))
    object_type = request.GET.get("object_type", "").strip()
    username = request.GET.get("username", "").strip()
    if object_type:
        qs = qs.filter(object_type=object_type)
    if username:
        qs = qs.filter(username=username)
    page = Paginator(qs, settings.AQUIFER["PAGE_SIZE"]).get_page(request.GET.get("page"))
    names = current_names(page)
    context = {
        "page_obj": page,
        "entries": [describe(e, names=names) for e in page],
        "type_choices": type_choices,
        "object_type": object_type,
        "username": username,
        "security": security,
    }
    htmx = getattr(request, "htmx", None)
    if htmx and not htmx.history_restore_request:
        return render(request, "core/_audit_results.html", context)
    return render(request, "core/audit_list.html", context)


def attachment(request: HttpRequest, pk: int) -> HttpResponse:
    """One attachment's bytes, to a user who may view the record it belongs to (else 404)."""
    return attachments.serve(request.user, pk)


def search(request: HttpRequest) -> HttpResponse:
    """The global search (core/search.py): every kind of record the user may open whose
    identifier or name matches ``q``; a query that is exactly one record's identifier goes
    straight to that record."""
    query = " ".join(request.GET.get("q", "").split())[: search_registry.MAX_QUERY]
    results = search_registry.search(request.user, query)
    exact = search_registry.exact_hit(results)
    if exact is not None and request.GET.get("all") != "1":
        return redirect(exact.url)
    return render(request, "core/search.html", {"query": query, "results": results})


def _back_to_list(url_name: str, query: str = "") -> HttpResponse:
    try:
        url = reverse(url_name)
    except NoReverseMatch:
        url = reverse("home")
    return redirect(f"{url}?{query}" if query else url)


def saved_filter_create(request: HttpRequest) -> HttpResponse:
    """Keep the list's current filter under a name (the form beside a list's filter bar)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    require_any(request.user, Action.ADD, SavedFilter)
    url_name = request.POST.get("url_name", "")
    query = request.POST.get("query", "")
    try:
        saved = savedfilters.save(
            request.user,
            url_name,
            request.POST.get("name", ""),
            query,
            shared=request.POST.get("shared") == "on",
        )
    except ValidationError as exc:
        for field, problems in exc.message_dict.items():
            label = str(getattr(SavedFilter._meta.get_field(field), "verbose_name", field))
            messages.error(request, f"{label}: {' '.join(problems)}")
        return _back_to_list(url_name, savedfilters.clean_query(query))
    messages.success(request, _("筛选“%(name)s”已保存。") % {"name": saved.name})
    return _back_to_list(saved.url_name, saved.query)


def saved_filter_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete one's own saved filter."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    saved = get_object_or_404(visible_to(request.user, Action.VIEW, SavedFilter), pk=pk)
    require(request.user, Action.DELETE, saved)
    url_name = saved.url_name
    saved.delete()
    messages.success(request, _("筛选“%(name)s”已删除。") % {"name": saved.name})
    return _back_to_list(url_name)


def favicon(request: HttpRequest) -> HttpResponse:
    """``/favicon.ico`` (browsers ask for it at the root): the icon among the static files."""
    response = redirect(static("aquifer/favicon.ico"))
    response["Cache-Control"] = "public, max-age=86400"
    return response
