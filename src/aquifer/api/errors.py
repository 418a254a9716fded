"""Every bad request gets a 4xx that says what is wrong and where; never a 500.

Error bodies share one shape::

    {"detail": "human summary", "errors": [{"field": "code", "message": "…"}]}
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.db.models import ProtectedError, RestrictedError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from aquifer.core.jsoninput import BodyRejected

__all__ = ["install_handlers", "validation_errors"]


def validation_errors(exc: ValidationError) -> list[dict[str, str]]:
    if hasattr(exc, "error_dict"):
        return [
            {"field": "__all__" if f == "__all__" else f, "message": str(m)}
            for f, msgs in exc.message_dict.items()
            for m in msgs
        ]
    return [{"field": "__all__", "message": str(m)} for m in exc.messages]


def _loc_field(loc: list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "payload", "filters")]
    return ".".join(parts) or "__all__"


def install_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(NinjaValidationError)
    def ninja_validation(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        errors = [
            {"field": _loc_field(list(e.get("loc", []))), "message": str(e.get("msg", ""))}
            for e in exc.errors
        ]
        return api.create_response(
            request, {"detail": _("请求数据有误。"), "errors": errors}, status=422
        )

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if isinstance(exc.__cause__, BodyRejected):  # the parser's: says what and where
            rejected = exc.__cause__
            return api.create_response(request, rejected.body(), status=rejected.status)
        return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)

    @api.exception_handler(ValidationError)
    def django_validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        return api.create_response(
            request,
            {"detail": _("数据校验未通过。"), "errors": validation_errors(exc)},
            status=422,
        )

    @api.exception_handler(PermissionDenied)
    def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            # Refused to the public: signing in (or a token) may be all that is missing.
            return unauthenticated(request, AuthenticationError())
        return api.create_response(
            request, {"detail": str(exc) or _("无权执行该操作。")}, status=403
        )

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        from aquifer.api.auth import InvalidToken

        if isinstance(exc, InvalidToken):
            detail = _("API 令牌无效或已吊销。")
            challenge = 'Bearer realm="aquifer", error="invalid_token"'
        else:
            detail = _("需要登录或 API 令牌。")
            challenge = 'Bearer realm="aquifer"'
        response = api.create_response(request, {"detail": detail}, status=401)
        response["WWW-Authenticate"] = challenge
        return response

    @api.exception_handler(ProtectedError)
    def protected(request: HttpRequest, exc: ProtectedError) -> HttpResponse:
        names = sorted({str(o._meta.verbose_name) for o in exc.protected_objects})
        return api.create_response(
            request,
            {"detail": _("仍有关联记录，不能删除：%s") % "、".join(names)},
            status=409,
        )

    api.add_exception_handler(RestrictedError, protected)  # type: ignore[arg-type]

    @api.exception_handler(IntegrityError)
    def conflict(request: HttpRequest, exc: IntegrityError) -> HttpResponse:
        return api.create_response(
            request, {"detail": _("与已有记录冲突（重复或关联无效）：%s") % exc}, status=409
        )
