"""Security events and session rules (docs/operations.md, "Security").

- Logins, failed logins and lockouts (django-axes) are recorded in the audit trail as
  ``source="security"`` entries by signal receivers connected in :func:`connect_signals`.
- :class:`SecurityMiddleware` records every refusal (HTTP 403) and ends a session idle for
  longer than ``AQUIFER_SESSION_IDLE_SECONDS``.
"""

from __future__ import annotations

import time
from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.signals import user_logged_in, user_login_failed

from aquifer.core.audit import record_security

__all__ = ["SecurityMiddleware", "ThrottledBackend", "connect_signals"]

#: The session key holding the time (epoch seconds) of the session's last request.
LAST_SEEN = "aquifer_last_seen"
#: How stale the stored time may get before it is written again (saves a write per request).
TOUCH_EVERY_S = 60


def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[LAST_SEEN] = int(time.time())
    record_security("login", request, user=user)


def _login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kw: Any) -> None:
    username = str(credentials.get("username", "") or "")
    record_security("login_failed", request, username=username)


def _locked_out(
    sender: Any, request: Any, username: str | None, ip_address: str, **kw: Any
) -> None:
    record_security(
        "lockout",
        request,
        username=username or "",
        reason=f"{settings.AXES_FAILURE_LIMIT} failed logins",
        detail={"ip": ip_address or ""},
    )


def connect_signals() -> None:
    from axes.signals import user_locked_out

    user_logged_in.connect(_logged_in, dispatch_uid="aquifer-security-login")
    user_login_failed.connect(_login_failed, dispatch_uid="aquifer-security-login-failed")
    user_locked_out.connect(_locked_out, dispatch_uid="aquifer-security-lockout")


class SecurityMiddleware:
    """Ends idle sessions and records refusals.

    Idle timeout: the session remembers when it was last used; a request that comes more than
    ``AQUIFER_SESSION_IDLE_SECONDS`` later finds itself logged out (and an ``expired`` event
    in the trail). The time is written at most once a minute, not on every request.
    """

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        self._expire_idle(request)
        response = self.get_response(request)
        if response.status_code == 403:
            user = getattr(request, "user", None)
            record_security(
                "denied",
                request,
                user=user,
                username=getattr(user, "get_username", lambda: "")() if user else "",
            )
        return response

    @staticmethod
    def _expire_idle(request: Any) -> None:
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        if session is None or user is None or not user.is_authenticated:
            return
        now = int(time.time())
        last = session.get(LAST_SEEN)
        idle = settings.AQUIFER_SESSION_IDLE_SECONDS
        if isinstance(last, int) and idle > 0 and now - last > idle:
            record_security("expired", request, user=user, detail={"idle_s": now - last})
            auth.logout(request)  # flushes the session; request.user becomes anonymous
            return
        if not isinstance(last, int) or now - last >= TOUCH_EVERY_S:
            session[LAST_SEEN] = now


class ThrottledBackend(AxesStandaloneBackend):  # type: ignore[misc]
    """django-axes' check before every login over HTTP. ``authenticate()`` called without a
    request (the test client's ``login``, a shell) is not an HTTP login and is not throttled;
    axes itself would raise on it."""

    def authenticate(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        if request is None:
            return None
        return super().authenticate(request, *args, **kwargs)
