"""Core API: who am I, and the audit trail (read-only: it cannot be edited)."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status

from aquifer.core import attachments, savedfilters
from aquifer.core import search as search_registry
from aquifer.core.audit import SECURITY
from aquifer.core.crud import AuditOut, page
from aquifer.core.models import Attachment, AuditEntry, SavedFilter
from aquifer.core.roles import Action, role_of
from aquifer.core.scoping import allowed, require, require_any, visible_to

router = Router(tags=["core"])


class MeOut(Schema):
    authenticated: bool
    username: str
    role: str
    township_id: int | None
    water_user_id: int | None


@router.get("/me", response=MeOut, operation_id="me")
def me(request: HttpRequest) -> Any:
    user = request.user
    return {
        "authenticated": bool(user.is_authenticated),
        "username": user.get_username() if user.is_authenticated else "",
        "role": role_of(user),
        "township_id": getattr(user, "township_id", None),
        "water_user_id": getattr(user, "water_user_id", None),
    }


class AuditPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[AuditOut]


@router.get(
    "/audit/",
    response=AuditPage,
    operation_id="audit_list",
    summary="Audit entries in the user's scope (bureau: all; township: its own)",
)
def audit_list(
    request: HttpRequest,
    object_type: str | None = None,
    object_id: str | None = None,
    username: str | None = None,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
) -> Any:
    require_any(request.user, Action.VIEW, AuditEntry, _("您的角色无权查看审计记录。"))
    qs = visible_to(request.user, Action.VIEW, AuditEntry)
    qs = qs.exclude(source=SECURITY)  # the bureau's, at /audit/security/
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=object_id)
    if username:
        qs = qs.filter(username=username)
    return page(qs, limit, offset, AuditOut.of)


def _need(request: HttpRequest, capability: str, what: str) -> None:
    """Refuse unless the policy registry grants ``capability`` (anonymous: 401)."""
    if not allowed(request.user, capability):
        raise PermissionDenied(what)


class BrokenLinkOut(Schema):
    id: int
    problem: str
    message: str
    expected: str
    found: str


class VerifyOut(Schema):
    ok: bool
    checked: int
    head: str
    broken: BrokenLinkOut | None
    missing_triggers: list[str]


@router.get(
    "/audit/verify",
    response=VerifyOut,
    operation_id="audit_verify",
    summary="Verify the audit trail's hash chain; names the first broken link (bureau)",
)
def audit_verify(request: HttpRequest) -> Any:
    from aquifer.core import chain
    from aquifer.core.management.commands.audit import report

    _need(request, "core.audit_verify", _("只有县水务局可以校验审计记录。"))
    return report(chain.verify())


class SecurityEventOut(Schema):
    id: int
    time: str
    action: str
    username: str
    account: str
    ip: str
    path: str
    reason: str


class SecurityPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[SecurityEventOut]


def security_event(entry: AuditEntry) -> dict[str, Any]:
    after = entry.after or {}
    return {
        "id": entry.pk,
        "time": entry.time.isoformat(),
        "action": entry.action,
        "username": entry.username,
        "account": entry.object_id,
        "ip": str(after.get("ip", "")),
        "path": str(after.get("path", "")),
        "reason": entry.reason,
    }


@router.get(
    "/audit/security/",
    response=SecurityPage,
    operation_id="security_events",
    summary="Security events: logins, failed logins, lockouts, refusals, idle logouts (bureau)",
)
def security_events(
    request: HttpRequest,
    action: AuditEntry.ActionChoices | None = None,
    account: str | None = None,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
) -> Any:
    _need(request, "core.security", _("只有县水务局可以查看安全事件。"))
    qs = AuditEntry.objects.filter(source=SECURITY)
    if action:
        qs = qs.filter(action=action)
    if account:
        qs = qs.filter(object_id=account)
    return page(qs, limit, offset, security_event)


class AttachmentOut(Schema):
    """An attachment as the API lists it with its record (the bytes at ``url``)."""

    id: int
    name: str
    label: str
    mime: str
    size: int
    sha256: str
    uploaded_at: str
    url: str


def attachment_out(attachment: Attachment) -> dict[str, Any]:
    return {
        "id": attachment.pk,
        "name": attachment.name,
        "label": attachment.label,
        "mime": attachment.mime,
        "size": attachment.size,
        "sha256": attachment.sha256,
        "uploaded_at": attachment.uploaded_at.isoformat(),
        "url": f"/api/files/{attachment.pk}",
    }


@router.get(
    "/files/{attachment_id}",
    operation_id="core_attachment_download",
    summary="An attachment's bytes, to whoever may view the record it belongs to",
)
def attachment_download(request: HttpRequest, attachment_id: int) -> HttpResponse:
    return attachments.serve(request.user, attachment_id)


class SearchHitOut(Schema):
    title: str
    detail: str
    url: str
    exact: bool


class SearchKindOut(Schema):
    kind: str
    label: str
    hits: list[SearchHitOut]


class SearchOut(Schema):
    query: str
    exact: SearchHitOut | None
    results: list[SearchKindOut]


@router.get(
    "/search",
    response=SearchOut,
    operation_id="search",
    summary="Records the user may open whose code, number, name or USCC matches q",
)
def search(
    request: HttpRequest,
    q: str = Query(..., min_length=1, max_length=search_registry.MAX_QUERY),
    limit: int = Query(search_registry.PER_KIND, ge=1, le=20),
) -> Any:
    results = search_registry.search(request.user, q, limit)
    exact = search_registry.exact_hit(results)
    return {
        "query": " ".join(q.split()),
        "exact": exact.__dict__ if exact else None,
        "results": [
            {"kind": r.kind.key, "label": str(r.kind.label), "hits": [h.__dict__ for h in r.hits]}
            for r in results
        ],
    }


class SavedFilterOut(Schema):
    id: int
    url_name: str
    name: str
    query: str
    shared: bool
    mine: bool
    url: str


class SavedFilterIn(Schema):
    url_name: str
    name: str
    query: str = ""
    shared: bool = False


class SavedFilterPatch(Schema):
    name: str | None = None
    query: str | None = None
    shared: bool | None = None


def _saved_out(request: HttpRequest, f: SavedFilter) -> dict[str, Any]:
    return {
        "id": f.pk,
        "url_name": f.url_name,
        "name": f.name,
        "query": f.query,
        "shared": f.shared,
        "mine": f.owner_id == request.user.pk,
        "url": f.get_absolute_url(),
    }


def _saved(request: HttpRequest, pk: int) -> SavedFilter:
    f = visible_to(request.user, "view", SavedFilter).filter(pk=pk).first()
    if f is None:
        raise Http404
    return f


@router.get(
    "/saved-filters",
    response=list[SavedFilterOut],
    operation_id="saved_filter_list",
    summary="The caller's saved list filters (and, for the bureau, those shared with it)",
)
def saved_filter_list(request: HttpRequest, url_name: str | None = None) -> Any:
    qs = visible_to(request.user, "view", SavedFilter)
    if url_name:
        qs = qs.filter(url_name=url_name)
    return [_saved_out(request, f) for f in qs]


@router.get("/saved-filters/{pk}", response=SavedFilterOut, operation_id="saved_filter_get")
def saved_filter_get(request: HttpRequest, pk: int) -> Any:
    return _saved_out(request, _saved(request, pk))


@router.post(
    "/saved-filters",
    response={201: SavedFilterOut},
    operation_id="saved_filter_add",
    summary="Save a list's filter; the query's keys must be the list's filters (else 422)",
)
def saved_filter_add(request: HttpRequest, payload: SavedFilterIn) -> Any:
    f = savedfilters.save(
        request.user, payload.url_name, payload.name, payload.query, payload.shared
    )
    return Status(201, _saved_out(request, f))


@router.patch("/saved-filters/{pk}", response=SavedFilterOut, operation_id="saved_filter_update")
def saved_filter_update(request: HttpRequest, pk: int, payload: SavedFilterPatch) -> Any:
    f = _saved(request, pk)
    require(request.user, "change", f)
    f = savedfilters.save(
        request.user,
        f.url_name,
        payload.name if payload.name is not None else f.name,
        payload.query if payload.query is not None else f.query,
        payload.shared if payload.shared is not None else f.shared,
        instance=f,
    )
    return _saved_out(request, f)


@router.delete("/saved-filters/{pk}", response={204: None}, operation_id="saved_filter_remove")
def saved_filter_remove(request: HttpRequest, pk: int) -> Any:
    f = _saved(request, pk)
    require(request.user, "delete", f)
    f.delete()
    return Status(204, None)
