"""The audit trail: who changed what, when, and from what to what (NetBox's ObjectChange).

Every model registered with :func:`track` gets an :class:`~aquifer.core.models.AuditEntry` on
each create, update and delete made through the ORM's ``save()`` and ``delete()``. Bulk paths
(``bulk_update``, re-derivation of wells after a zone changes) call :func:`record` themselves.

Who did it comes from the context: the web and API set it per request
(:class:`AuditContextMiddleware`), the CLI and background jobs with :func:`audit_context`.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.db.models.signals import post_delete, post_save, pre_save

# The caller's address (behind the county's proxies, the one the proxy was connected from),
# offered here too: the trail and the security events record it.
from aquifer.core.addresses import client_ip

__all__ = [
    "SECURITY",
    "AuditContextMiddleware",
    "audit_context",
    "client_ip",
    "record",
    "record_security",
    "serialize",
    "track",
]

#: The ``source`` of security events (logins, failures, lockouts, refusals) in the trail.
SECURITY = "security"

_TRACKED: dict[type[models.Model], tuple[str, ...]] = {}


@dataclass
class AuditContext:
    request: Any = None
    user: Any = None
    source: str = "system"
    reason: str = ""
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def actor(self) -> tuple[int | None, str]:
        user = self.user
        if user is None and self.request is not None:
            user = getattr(self.request, "user", None)
        if user is not None and getattr(user, "is_authenticated", False):
            return user.pk, user.get_username()
        return None, ""


_context: ContextVar[AuditContext | None] = ContextVar("aquifer_audit_context", default=None)


def current() -> AuditContext:
    return _context.get() or AuditContext()


@contextmanager
def audit_context(
    user: Any = None, source: str = "cli", reason: str = ""
) -> Iterator[AuditContext]:
    """Attribute every change made inside the block to ``user`` (CLI, imports, jobs)."""
    ctx = AuditContext(user=user, source=source, reason=reason)
    token = _context.set(ctx)
    try:
        yield ctx
    finally:
        _context.reset(token)


class AuditContextMiddleware:
    """Gives every request an id and makes its user the author of the changes it makes."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        source = "api" if request.path.startswith("/api/") else "web"
        ctx = AuditContext(request=request, source=source)
        request.request_id = ctx.request_id
        token = _context.set(ctx)
        try:
            response = self.get_response(request)
        finally:
            _context.reset(token)
        response["X-Request-ID"] = ctx.request_id
        return response


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def serialize(instance: models.Model) -> dict[str, Any]:
    """The stored state of a record as JSON-able values, secrets replaced by a fingerprint."""
    secret = _TRACKED.get(type(instance), ())
    data: dict[str, Any] = {}
    for f in instance._meta.concrete_fields:
        value = getattr(instance, f.attname)
        if f.name in secret and value:
            value = "sha256:" + hashlib.sha256(str(value).encode()).hexdigest()[:12]
        elif isinstance(f, models.DecimalField) and value is not None:
            # As the database stores it: 130 and 130.00 are the same depth.
            value = decimal.Decimal(str(value)).quantize(
                decimal.Decimal(1).scaleb(-f.decimal_places)
            )
        data[f.attname] = _jsonable(value)
    return data


def _township_of(instance: models.Model) -> int | None:
    from aquifer.core.scoping import township_id_of

    return township_id_of(instance)


def record(
    action: str,
    instance: models.Model,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    reason: str = "",
) -> None:
    """Write one audit entry for ``instance`` (used by signals and by bulk paths)."""
    from aquifer.core.models import AuditEntry

    ctx = current()
    user_id, username = ctx.actor()
    AuditEntry.objects.create(
        user_id=user_id,
        username=username,
        request_id=ctx.request_id,
        source=ctx.source,
        action=action,
        object_type=instance._meta.label_lower,
        object_id=str(instance.pk),
        object_repr=_repr(instance),
        township_id=_township_of(instance),
        before=before,
        after=after,
        reason=(reason or ctx.reason)[:300],
    )


def _repr(instance: models.Model) -> str:
    """The record's name as the trail keeps it: in the default language, whatever language
    the request that changed it was in (the pages show the current name in the reader's)."""
    from django.conf import settings
    from django.utils import translation

    with translation.override(settings.LANGUAGE_CODE):
        return str(instance)[:200]


def record_security(
    action: str,
    request: Any = None,
    *,
    username: str = "",
    user: Any = None,
    reason: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    """Write one security event into the trail (``source="security"``): a login, a failed
    login, a lockout, a refusal (403) or an idle session ended. ``object_type`` is
    ``core.user`` and the object the account name; ``after`` holds the address, the path and
    ``detail``. Never raises: a failure to record is logged, not shown to the caller."""
    import logging

    from aquifer.core.models import AuditEntry

    if user is not None and getattr(user, "is_authenticated", False):
        user_id, name = user.pk, user.get_username()
    else:
        user_id, name = None, ""
    username = (username or name)[:150]
    info: dict[str, Any] = {"ip": client_ip(request)} if request is not None else {}
    if request is not None:
        info["method"] = getattr(request, "method", "") or ""
        info["path"] = str(getattr(request, "path", ""))[:300]
    info.update(detail or {})
    try:
        AuditEntry.objects.create(
            user_id=user_id,
            username=name[:150],
            request_id=str(getattr(request, "request_id", "") or current().request_id),
            source=SECURITY,
            action=action,
            object_type="core.user",
            object_id=username[:64],
            object_repr=username[:200],
            township_id=None,  # the bureau's alone: not in a township's view of the trail
            before=None,
            after=info,
            reason=reason[:300],
        )
    except Exception:  # an event lost must not turn a login into a 500
        logging.getLogger(__name__).exception("could not record security event %s", action)


def _pre_save(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    before = None
    if instance.pk is not None and not instance._state.adding:
        old = sender._base_manager.filter(pk=instance.pk).first()
        before = serialize(old) if old is not None else None
    instance._audit_before = before  # type: ignore[attr-defined]


def _post_save(
    sender: type[models.Model], instance: models.Model, created: bool, **kwargs: Any
) -> None:
    if kwargs.get("raw"):
        return
    before = getattr(instance, "_audit_before", None)
    after = serialize(instance)
    if created or before is None:
        record("create", instance, None, after)
    elif before != after:
        record("update", instance, before, after)
    instance._audit_before = after  # type: ignore[attr-defined]


def _post_delete(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    record("delete", instance, serialize(instance), None)


def track(model: type[models.Model] | None = None, *, secret_fields: tuple[str, ...] = ()) -> Any:
    """Register a model for the audit trail; a class decorator, with or without arguments.

    ``secret_fields`` are recorded as a short fingerprint, never as their value.
    """

    def register(cls: type[models.Model]) -> type[models.Model]:
        _TRACKED[cls] = secret_fields
        return cls

    return register(model) if model is not None else register


def connect_signals() -> None:
    for model in _TRACKED:
        uid = f"audit-{model._meta.label_lower}"
        pre_save.connect(_pre_save, sender=model, dispatch_uid=uid + "-pre")
        post_save.connect(_post_save, sender=model, dispatch_uid=uid + "-post")
        post_delete.connect(_post_delete, sender=model, dispatch_uid=uid + "-del")
