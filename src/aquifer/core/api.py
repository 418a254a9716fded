"""Core API: who am I, and the audit trail (read-only: it cannot be edited)."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema

from aquifer.core import attachments
from aquifer.core.audit import SECURITY
from aquifer.core.crud import AuditOut, page
from aquifer.core.models import Attachment, AuditEntry
from aquifer.core.roles import Action, role_of
from aquifer.core.scoping import allowed, require_any, visible_to

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
