"""REST API of the notifications app: one's own inbox and contact details; the rules (read by
the bureau and township officers, changed by the bureau).

Nobody reads another person's inbox, the bureau included: the inbox is the caller's own
messages. Anonymous callers get 401.

Do not add ``from __future__ import annotations`` (django-ninja reads these annotations).
"""

from typing import Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from aquifer.core.crud import page
from aquifer.core.roles import Action
from aquifer.core.scoping import allowed, can, visible_to
from aquifer.notifications.models import Contact, Rule
from aquifer.notifications.service import inbox_of, mark_read, unread_count
from aquifer.registry.models import Township

router = Router(tags=["notifications"])


def _signed_in(request: HttpRequest) -> Any:
    if not request.user.is_authenticated:
        raise HttpError(401, _("需要登录或 API 令牌。"))
    return request.user


class MessageOut(Schema):
    id: int
    event: str
    title: str
    body: str
    url: str
    severity: str
    township_id: int | None
    created_at: str
    read_at: str | None


def _message(d: Any) -> dict[str, Any]:
    n = d.notice
    return {
        "id": d.pk,
        "event": n.event,
        "title": n.display_title,
        "body": n.display_body,
        "url": n.url,
        "severity": n.severity,
        "township_id": n.township_id,
        "created_at": n.created_at.isoformat(),
        "read_at": d.read_at.isoformat() if d.read_at else None,
    }


class MessagePage(Schema):
    count: int
    unread: int
    limit: int
    offset: int
    items: list[MessageOut]


@router.get("/notifications/inbox", response=MessagePage, operation_id="notifications_inbox")
def inbox(
    request: HttpRequest,
    unread: bool = False,
    limit: int = Query(50, ge=1, le=500),  # type: ignore[type-arg]
    offset: int = Query(0, ge=0),  # type: ignore[type-arg]
) -> Any:
    """The caller's own inbox, newest first."""
    user = _signed_in(request)
    qs = inbox_of(user)
    if unread:
        qs = qs.filter(read_at__isnull=True)
    out = page(qs, limit, offset, _message)
    out["unread"] = unread_count(user)
    return out


class ReadIn(Schema):
    ids: list[int] | None = Field(None, description="message ids; null marks all read")


class ReadOut(Schema):
    marked: int
    unread: int


@router.post("/notifications/inbox/read", response=ReadOut, operation_id="notifications_read")
def read(request: HttpRequest, payload: ReadIn) -> Any:
    """Mark some or all of one's own messages read (ids of others' messages are ignored)."""
    user = _signed_in(request)
    n = mark_read(user, payload.ids)
    return {"marked": n, "unread": unread_count(user)}


class ContactOut(Schema):
    email: str
    mobile: str


class ContactIn(Schema):
    email: str | None = Field(None, max_length=254)
    mobile: str | None = Field(None, max_length=20)


@router.get("/notifications/contact", response=ContactOut, operation_id="notifications_contact")
def contact(request: HttpRequest) -> Any:
    user = _signed_in(request)
    c = Contact.objects.filter(user=user).first()
    return {"email": user.email, "mobile": c.mobile if c else ""}


@router.patch(
    "/notifications/contact", response=ContactOut, operation_id="notifications_contact_update"
)
def contact_update(request: HttpRequest, payload: ContactIn) -> Any:
    """Change one's own e-mail address and / or mobile number."""
    from django.core.validators import validate_email

    user = _signed_in(request)
    c = Contact.objects.filter(user=user).first() or Contact(user=user)
    errors: dict[str, Any] = {}
    if payload.email is not None and payload.email:
        try:
            validate_email(payload.email)
        except ValidationError as exc:
            errors["email"] = exc.messages
    if payload.mobile is not None:
        c.mobile = payload.mobile.strip()
        try:
            c.full_clean()
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if payload.mobile is not None:
            c.save()
        if payload.email is not None and payload.email != user.email:
            user.email = payload.email
            user.save(update_fields=["email"])
    return {"email": user.email, "mobile": c.mobile}


class RuleOut(Schema):
    id: int
    event: str
    role: str
    township_id: int | None
    addressed_only: bool
    inbox: bool
    email: bool
    sms: bool
    min_severity: str
    active: bool


class RuleIn(Schema):
    event: str = "*"
    role: Literal["bureau", "township", "water_user", "inspector"]
    township_id: int | None = None
    addressed_only: bool = False
    inbox: bool = True
    email: bool = False
    sms: bool = False
    min_severity: Literal["info", "warning", "critical"] = "info"
    active: bool = True


class RulePatch(Schema):
    event: str | None = None
    role: Literal["bureau", "township", "water_user", "inspector"] | None = None
    township_id: int | None = None
    addressed_only: bool | None = None
    inbox: bool | None = None
    email: bool | None = None
    sms: bool | None = None
    min_severity: Literal["info", "warning", "critical"] | None = None
    active: bool | None = None


def _rules(request: HttpRequest) -> Any:
    user = _signed_in(request)
    if not allowed(user, "notifications.rules"):
        raise PermissionDenied(_("只有县水务局和乡镇可以查看通知规则。"))
    return visible_to(user, Action.VIEW, Rule)


def _bureau(request: HttpRequest) -> None:
    if not can(request.user, Action.CHANGE, Rule):
        raise PermissionDenied(_("只有县水务局可以修改通知规则。"))


def _save_rule(rule: Rule, data: dict[str, Any]) -> Rule:
    if (
        data.get("township_id") is not None
        and not Township.objects.filter(pk=data["township_id"]).exists()
    ):
        raise ValidationError({"township_id": _("不存在编号为 %s 的乡镇。") % data["township_id"]})
    for k, v in data.items():
        setattr(rule, k, v)
    rule.full_clean()
    rule.save()
    return rule


@router.get("/notifications/rules", response=list[RuleOut], operation_id="notifications_rules")
def rules(request: HttpRequest) -> Any:
    return list(_rules(request))


@router.post(
    "/notifications/rules", response={201: RuleOut}, operation_id="notifications_rule_create"
)
def rule_create(request: HttpRequest, payload: RuleIn) -> Any:
    _rules(request)
    _bureau(request)
    return Status(201, _save_rule(Rule(), payload.dict()))


@router.patch(
    "/notifications/rules/{pk}", response=RuleOut, operation_id="notifications_rule_update"
)
def rule_update(request: HttpRequest, pk: int, payload: RulePatch) -> Any:
    rule = _rules(request).filter(pk=pk).first()
    if rule is None:
        raise Http404
    _bureau(request)
    return _save_rule(rule, payload.dict(exclude_unset=True))


@router.delete(
    "/notifications/rules/{pk}", response={204: None}, operation_id="notifications_rule_delete"
)
def rule_delete(request: HttpRequest, pk: int) -> Any:
    rule = _rules(request).filter(pk=pk).first()
    if rule is None:
        raise Http404
    _bureau(request)
    rule.delete()
    return Status(204, None)


@router.get("/notifications/unread", response=ReadOut, operation_id="notifications_unread")
def unread(request: HttpRequest) -> Any:
    """The caller's unread count (``marked`` is always 0)."""
    user = _signed_in(request)
    return {"marked": 0, "unread": unread_count(user)}
