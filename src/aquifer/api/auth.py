"""Who is calling the API: a bearer token, a browser session, or the public."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer, SessionAuth
from ninja.security.base import AuthBase

from aquifer.core.models import ApiToken

__all__ = ["AUTH", "InvalidToken", "PublicRead", "TokenAuth"]


class InvalidToken(AuthenticationError):
    """A bearer key that is unknown, revoked or of a disabled account: 401, never the public's
    view (a client must learn that its key no longer works)."""

    def __init__(self) -> None:
        super().__init__(401, "invalid token")


class TokenAuth(HttpBearer):
    """``Authorization: Bearer aq_…`` — machine clients; tokens are issued by
    ``aquifer token create USERNAME``. A request that carries a bearer key which does not
    authenticate is refused with 401 (``WWW-Authenticate: Bearer error="invalid_token"``)
    rather than served as the public."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = (
            ApiToken.objects.select_related("user")
            .filter(key_hash=ApiToken.digest(token), revoked=False, user__is_active=True)
            .first()
        )
        if found is None:
            raise InvalidToken
        now = timezone.now()
        if found.last_used_at is None or (now - found.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        request.user = found.user
        return found.user


class PublicRead(AuthBase):
    """Anyone may read what the public may read; writing needs an account."""

    openapi_type = "http"
    openapi_scheme = "none"

    def __call__(self, request: HttpRequest) -> Any:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return AnonymousUser()
        return None


AUTH = [TokenAuth(), SessionAuth(), PublicRead()]
