"""Core API: who am I, and the audit trail (read-only: it cannot be edited)."""

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema

from aquifer.core.crud import AuditOut, page
from aquifer.core.models import AuditEntry
from aquifer.core.roles import Action, role_of
from aquifer.core.scoping import visible_to

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
    qs = visible_to(request.user, Action.VIEW, AuditEntry)
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=object_id)
    if username:
        qs = qs.filter(username=username)
    return page(qs, limit, offset, AuditOut.of)
