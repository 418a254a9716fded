"""Security events and session rules (docs/operations.md, "Security").

- Logins, failed logins and lockouts (django-axes) are recorded in the audit trail as
  ``source="security"`` entries by signal receivers connected in :func:`connect_signals`.
- :class:`SecurityMiddleware` records every refusal (HTTP 403), ends a session idle for
  longer than ``AQUIFER_SESSION_IDLE_SECONDS`` and slows repeated failed logins down before
  django-axes locks them out (:func:`login_wait`).
"""

from __future__ import annotations

import datetime as dt
import math
import time
from typing import Any, NamedTuple

from axes.attempts import get_cool_off_threshold
from axes.backends import AxesStandaloneBackend
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import (
    get_client_parameters,
    get_client_username,
    get_credentials,
    get_failure_limit,
)
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models import Max, Sum
from django.shortcuts import render
from django.utils import timezone

from aquifer.core.audit import SECURITY, client_ip, record_security

__all__ = [
    "LOGIN_VIEWS",
    "LoginWait",
    "SecurityMiddleware",
    "ThrottledBackend",
    "connect_signals",
    "login_wait",
    "slowdown_delay",
]


def _username_field() -> str:
    """django-axes' AXES_USERNAME_FORM_FIELD (its default when unset)."""
    return str(getattr(settings, "AXES_USERNAME_FORM_FIELD", "username"))


#: The login views the slowdown guards, by URL name (our page and the admin's).
LOGIN_VIEWS = frozenset({"login", "admin:login"})

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
    detail: dict[str, Any] = {}
    if request is not None and not getattr(request, "axes_locked_out", False):
        # django-axes' receiver ran first (its app is listed before ours): the failure is
        # counted, and the wait it imposes on the next attempt is known.
        found = login_wait(request)
        detail = {"failures": found.failures, "wait_s": found.wait}
    record_security("login_failed", request, username=username, detail=detail)


def _locked_out(
    sender: Any, request: Any, username: str | None, ip_address: str, **kw: Any
) -> None:
    record_security(
        "lockout",
        request,
        username=username or "",
        detail={"ip": ip_address or "", "failures": settings.AXES_FAILURE_LIMIT},
    )


def connect_signals() -> None:
    from axes.signals import user_locked_out

    user_logged_in.connect(_logged_in, dispatch_uid="aquifer-security-login")
    user_login_failed.connect(_login_failed, dispatch_uid="aquifer-security-login-failed")
    user_locked_out.connect(_locked_out, dispatch_uid="aquifer-security-lockout")


# --- Slowing repeated failed logins down ----------------------------------------------------


def slowdown_delay(failures: int) -> float:
    """How long (seconds) the next login must wait after ``failures`` recent failures.

    0 for the first ``AQUIFER_LOGIN_SLOWDOWN_AFTER`` failures; then
    ``AQUIFER_LOGIN_SLOWDOWN_SECONDS``, doubled with each further failure, at most
    ``AQUIFER_LOGIN_SLOWDOWN_MAX_SECONDS``. The numbers are our own choice, not a standard's.
    """
    after = settings.AQUIFER_LOGIN_SLOWDOWN_AFTER
    base = float(settings.AQUIFER_LOGIN_SLOWDOWN_SECONDS)
    if base <= 0 or failures < max(after, 1):
        return 0.0
    return float(
        min(base * 2 ** min(failures - after, 32), settings.AQUIFER_LOGIN_SLOWDOWN_MAX_SECONDS)
    )


class LoginWait(NamedTuple):
    wait: int  # whole seconds still to wait; 0 = the attempt may go ahead
    failures: int  # the most failures counted for one key (account or address)
    since: dt.datetime | None  # the failure the wait runs from


def login_wait(request: Any) -> LoginWait:
    """How long a login attempt carried by ``request`` must still wait.

    Counts the failures django-axes recorded within its cool-off window for each of its
    lockout parameters (the account, whatever the address; the address, whatever the
    account), as axes itself counts them; the strictest key decides. No wait once the count
    reaches the lockout limit: axes' lockout answers then.
    """
    if not getattr(settings, "AXES_ENABLED", True):
        return LoginWait(0, 0, None)
    AxesProxyHandler.update_request(request)
    credentials = get_credentials(get_client_username(request))
    username = credentials[_username_field()]
    keys = get_client_parameters(
        username, request.axes_ip_address, request.axes_user_agent, request, credentials
    )
    try:
        threshold = get_cool_off_threshold(request)
    except TypeError:  # no cool-off configured: every failure ever recorded counts
        threshold = None
    now = timezone.now()
    limit = get_failure_limit(request, credentials)
    wait, worst, since = 0, 0, None
    for key in keys:
        qs = AccessAttempt.objects.filter(**key)
        if threshold is not None:
            qs = qs.filter(attempt_time__gte=threshold)
        agg = qs.aggregate(n=Sum("failures_since_start"), last=Max("attempt_time"))
        failures, last = int(agg["n"] or 0), agg["last"]
        worst = max(worst, failures)
        if failures >= limit:
            return LoginWait(0, worst, None)
        delay = slowdown_delay(failures)
        left = math.ceil((last - now).total_seconds() + delay) if delay and last else 0
        if left > wait:
            wait, since = left, last
    return LoginWait(wait, worst, since)


def _throttled(request: Any, found: LoginWait) -> Any:
    """The 429 answer to a login attempt made before its wait is over. The attempt is not
    checked, nor counted as a failure; the first one in each wait is a ``throttled`` event."""
    from aquifer.core.models import AuditEntry

    username = str(request.POST.get(_username_field(), "") or "")[:64]
    ip = client_ip(request)
    seen = AuditEntry.objects.filter(
        source=SECURITY, action="throttled", object_id=username, after__ip=ip
    )
    if found.since is None or not seen.filter(time__gte=found.since).exists():
        detail = {"failures": found.failures, "wait_s": found.wait}
        record_security("throttled", request, username=username, detail=detail)
    response = render(
        request,
        "core/login_throttled.html",
        {
            "wait": found.wait,
            "username": username,
            "next": str(request.POST.get("next", "") or ""),
            "action": request.get_full_path(),
        },
        status=429,
    )
    response["Retry-After"] = str(found.wait)
    return response


class SecurityMiddleware:
    """Ends idle sessions, records refusals and slows repeated failed logins down.

    Idle timeout: the session remembers when it was last used; a request that comes more than
    ``AQUIFER_SESSION_IDLE_SECONDS`` later finds itself logged out (and an ``expired`` event
    in the trail). The time is written at most once a minute, not on every request.

    Slowdown: a login posted to one of :data:`LOGIN_VIEWS` while :func:`login_wait` says
    to wait is answered 429 ("try again in N s", ``Retry-After``) without checking the
    password; nothing sleeps in the request thread.
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

    def process_view(self, request: Any, view: Any, args: Any, kwargs: Any) -> Any:
        match = getattr(request, "resolver_match", None)
        if request.method != "POST" or match is None or match.view_name not in LOGIN_VIEWS:
            return None
        found = login_wait(request)
        return _throttled(request, found) if found.wait > 0 else None

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
