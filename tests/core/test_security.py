"""Issue 14: login throttling, security events, idle sessions, passwords, the secret key,
HTTPS settings and the Content-Security-Policy."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError, SystemCheckError
from django.test import Client, override_settings
from django.utils import timezone

from aquifer.core.models import AuditEntry

PW = "Aquifer-test-2026"
TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "aquifer" / "templates"


def events(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(source="security", action=action).order_by("id"))


def post_login(client: Client, username: str, password: str, path: str = "/login/") -> Any:
    return client.post(path, {"username": username, "password": password})


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


# --- login throttling (django-axes) and the slowdown before it -----------------------------


def patient_post(
    client: Client, traveller: Any, username: str, password: str, path: str = "/login/"
) -> Any:
    """A login attempt made after waiting out any slowdown (the clock is travelled, not
    slept): the first answer that is not "try again in N s"."""
    r = post_login(client, username, password, path)
    if r.status_code == 429 and "login-throttled" in r.content.decode():
        traveller.shift(int(r["Retry-After"]))
        r = post_login(client, username, password, path)
    return r


@pytest.fixture
def traveller() -> Any:
    with time_machine.travel(timezone.now(), tick=False) as t:
        yield t


@pytest.mark.parametrize("path", ["/login/", "/admin/login/"])
def test_thirty_wrong_passwords_lock_the_account(world: Any, path: str, traveller: Any) -> None:
    c = Client(REMOTE_ADDR="10.0.0.1")
    for _ in range(30):
        r = patient_post(c, traveller, "bureau", "wrong-password", path)
        assert r.status_code in (200, 429)
        assert not logged_in(c)
    r = patient_post(c, traveller, "bureau", PW, path)
    assert r.status_code == 429
    assert not logged_in(c)
    assert "登录已锁定" in r.content.decode()
    # The account, from another address too.
    other = Client(REMOTE_ADDR="10.0.0.2")
    assert post_login(other, "bureau", PW, path).status_code == 429 and not logged_in(other)
    # Another account is not locked from another address (the admin refuses a non-staff
    # account with its form, not with the lockout).
    r = post_login(other, "citizen", PW, path)
    assert r.status_code == (302 if path == "/login/" else 200)
    assert logged_in(other) == (path == "/login/")
    lockouts = events("lockout")
    assert lockouts and lockouts[0].object_id == "bureau"
    assert lockouts[0].after["ip"] == "10.0.0.1"
    assert lockouts[0].reason == ""  # nothing stored in one language (the count is in after)
    assert lockouts[0].after["failures"] == 5


def test_the_lockout_comes_at_the_limit_not_before(
    world: Any, settings: Any, traveller: Any
) -> None:
    from aquifer.core.security import slowdown_delay

    c = Client(REMOTE_ADDR="10.0.0.3")
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        # Each attempt waits exactly the delay the failures so far impose, and is answered.
        traveller.shift(slowdown_delay(n))
        assert post_login(c, "officer_a", "wrong").status_code == 200
    traveller.shift(slowdown_delay(settings.AXES_FAILURE_LIMIT - 1))
    assert post_login(c, "officer_a", PW).status_code == 302 and logged_in(c)


def test_the_delay_grows_with_each_failure(settings: Any) -> None:
    from aquifer.core.security import slowdown_delay

    settings.AQUIFER_LOGIN_SLOWDOWN_AFTER = 2
    settings.AQUIFER_LOGIN_SLOWDOWN_SECONDS = 5
    settings.AQUIFER_LOGIN_SLOWDOWN_MAX_SECONDS = 300
    assert [slowdown_delay(n) for n in range(7)] == [0, 0, 5, 10, 20, 40, 80]
    assert slowdown_delay(60) == 300
    settings.AQUIFER_LOGIN_SLOWDOWN_SECONDS = 0
    assert slowdown_delay(4) == 0


@pytest.mark.parametrize("path", ["/login/", "/admin/login/"])
def test_a_fast_attempt_after_failures_is_told_to_wait(
    world: Any, settings: Any, path: str, traveller: Any
) -> None:
    from axes.models import AccessAttempt

    settings.AQUIFER_LOGIN_SLOWDOWN_SECONDS = 7
    bureau = world.accounts["bureau"]
    bureau.is_staff = True  # so that the admin lets the right password in
    bureau.save()
    c = Client(REMOTE_ADDR="10.0.0.4")
    assert post_login(c, "bureau", "wrong", path).status_code == 200
    assert post_login(c, "bureau", "wrong", path).status_code == 200  # the 2nd: not slowed
    traveller.shift(3)
    r = post_login(c, "bureau", PW, path)  # the right password, 4 s too early
    assert r.status_code == 429 and r["Retry-After"] == "4"
    assert "请在 4 秒后再试" in r.content.decode() and not logged_in(c)
    en = Client(REMOTE_ADDR="10.0.0.4")
    en.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    body = post_login(en, "bureau", PW, path).content.decode()
    assert "try again in 4 s" in body and "秒" not in body
    # Refused unchecked and not counted: the count is still the two failures.
    assert sum(a.failures_since_start for a in AccessAttempt.objects.all()) == 2
    throttled = events("throttled")
    assert len(throttled) == 1  # one event for the wait, however often it is hammered
    assert (throttled[0].object_id, throttled[0].after["wait_s"]) == ("bureau", 4)
    assert events("login_failed")[-1].after["wait_s"] == 7
    traveller.shift(4)
    r = post_login(c, "bureau", PW, path)
    assert r.status_code == 302 and logged_in(c)


def test_failures_on_many_accounts_slow_the_address(world: Any, traveller: Any) -> None:
    c = Client(REMOTE_ADDR="10.0.0.7")
    for name in ("x1", "x2"):
        assert post_login(c, name, "guess").status_code == 200
    r = post_login(c, "citizen", PW)  # a third account, same address: slowed
    assert r.status_code == 429 and not logged_in(c)
    # The same account from another address is not.
    assert post_login(Client(REMOTE_ADDR="10.0.0.8"), "citizen", PW).status_code == 302


def test_failures_from_one_address_lock_that_address(world: Any, traveller: Any) -> None:
    c = Client(REMOTE_ADDR="10.0.0.9")
    for name in ("a1", "a2", "a3", "a4", "a5", "a6"):
        patient_post(c, traveller, name, "guess")
    assert patient_post(c, traveller, "citizen", PW).status_code == 429 and not logged_in(c)
    assert post_login(Client(REMOTE_ADDR="10.0.0.10"), "citizen", PW).status_code == 302


# --- security events ------------------------------------------------------------------------


def test_login_and_failed_login_are_recorded(world: Any) -> None:
    c = Client(REMOTE_ADDR="10.1.0.1")
    assert post_login(c, "officer_a", "nope").status_code == 200
    assert post_login(c, "officer_a", PW).status_code == 302
    failed, ok = events("login_failed")[-1], events("login")[-1]
    assert (failed.object_id, failed.username, failed.after["ip"]) == ("officer_a", "", "10.1.0.1")
    assert (ok.object_id, ok.username, ok.user_id) == (
        "officer_a",
        "officer_a",
        world.accounts["township"].pk,
    )
    assert failed.after["path"] == "/login/"


def test_a_refusal_is_recorded(world: Any) -> None:
    c = world.client("township")
    assert c.get("/api/audit/verify").status_code == 403
    denied = events("denied")[-1]
    assert (denied.username, denied.after["path"]) == ("officer_a", "/api/audit/verify")


def test_security_events_are_the_bureaus(world: Any) -> None:
    post_login(Client(), "officer_a", "nope")
    r = world.client("bureau").get("/api/audit/security/?action=login_failed")
    assert r.status_code == 200
    items = r.json()["items"]
    assert items and {i["action"] for i in items} == {"login_failed"}
    assert items[0]["account"] == "officer_a"
    assert world.client("township").get("/api/audit/security/").status_code == 403
    assert world.client("anonymous").get("/api/audit/security/").status_code == 401
    # Not in anyone else's view of the trail, page or API.
    for role in ("township", "inspector"):
        body = world.client(role).get("/api/audit/?limit=500").json()
        assert all(i["source"] != "security" for i in body["items"])
    page = world.client("inspector").get("/audit/")
    assert "login_failed" not in page.content.decode()
    bureau_page = world.client("bureau").get("/audit/?source=security")
    assert bureau_page.status_code == 200 and "登录失败" in bureau_page.content.decode()


# --- idle sessions --------------------------------------------------------------------------


@override_settings(AQUIFER_SESSION_IDLE_SECONDS=1800)
def test_an_idle_session_is_logged_out(world: Any) -> None:
    from aquifer.core.security import LAST_SEEN

    c = world.client("bureau")
    assert c.get("/api/me").json()["authenticated"] is True
    session = c.session
    session[LAST_SEEN] = int(time.time()) - 1700  # still within the limit
    session.save()
    assert c.get("/api/me").json()["authenticated"] is True
    session = c.session
    assert session[LAST_SEEN] >= int(time.time()) - 5  # the request counted as activity
    session[LAST_SEEN] = int(time.time()) - 1801
    session.save()
    assert c.get("/api/me").json()["authenticated"] is False
    assert c.get("/api/me").json()["authenticated"] is False  # and stays out
    assert events("expired")[-1].username == "bureau"


# --- passwords ------------------------------------------------------------------------------


@pytest.mark.parametrize("password", ["bureau12", "20262026", "Bureau2026"])
def test_weak_passwords_are_refused(world: Any, password: str) -> None:
    with pytest.raises(ValidationError):
        validate_password(password, user=world.accounts["bureau"])


def test_a_good_password_passes(world: Any) -> None:
    validate_password("Qingshui-河-2026!", user=world.accounts["bureau"])


# --- secret key -----------------------------------------------------------------------------


@override_settings(DEBUG=False)
def test_deploy_check_refuses_the_development_key(settings: Any) -> None:
    settings.SECRET_KEY = settings.DEVELOPMENT_SECRET_KEY
    with pytest.raises(SystemCheckError, match=r"aquifer\.E001"):
        call_command("check", deploy=True, fail_level="ERROR")
    with pytest.raises(CommandError, match="AQUIFER_SECRET_KEY"):
        call_command("serve", port=8799)
    settings.SECRET_KEY = "k" * 10 + "-this-is-a-long-random-key-0123456789-abcdefghijklmnopq"
    call_command("check", deploy=True, fail_level="ERROR")


@override_settings(DEBUG=True)
def test_debug_mode_may_use_the_development_key(settings: Any) -> None:
    settings.SECRET_KEY = settings.DEVELOPMENT_SECRET_KEY
    from aquifer.core.checks import secret_key_check

    assert secret_key_check() == []


def _aquifer(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AQUIFER_", "PYTEST"))}
    base.update(env)
    return subprocess.run(
        [sys.executable, "-m", "aquifer.cli", *args],
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
    )


HTTPS_ENV = {
    "AQUIFER_SECRET_KEY": "x7Gq2-p9LmZ3vT8rW1yK4nB6cD0fH5jS2aQ7eU-Hs3kP0wN8mC4vB9zX1",
    "AQUIFER_ALLOWED_HOSTS": "water.example.cn",
    "AQUIFER_HSTS_SECONDS": "31536000",
    "AQUIFER_HSTS_INCLUDE_SUBDOMAINS": "1",
    "AQUIFER_HSTS_PRELOAD": "1",
    "AQUIFER_SSL_REDIRECT": "1",
    "AQUIFER_SECURE_COOKIES": "1",
    "AQUIFER_PROXY_SSL_HEADER": "X-Forwarded-Proto",
}


def test_check_deploy_is_clean_with_the_https_settings(tmp_path: Path) -> None:
    env = {"AQUIFER_DATA_DIR": str(tmp_path)}
    bare = _aquifer(env, "check", "--deploy")
    assert bare.returncode != 0 and "aquifer.E001" in bare.stderr
    assert "security.W004" in bare.stderr and "security.W008" in bare.stderr
    done = _aquifer({**env, **HTTPS_ENV}, "check", "--deploy", "--fail-level", "WARNING")
    assert done.returncode == 0, done.stderr
    assert "no issues" in done.stdout


def test_https_settings_come_from_the_environment(tmp_path: Path) -> None:
    code = (
        "import django;django.setup();from django.conf import settings as s;"
        "print(s.SECURE_HSTS_SECONDS, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE,"
        " s.CSRF_COOKIE_SECURE, s.SECURE_PROXY_SSL_HEADER)"
    )
    env = {**HTTPS_ENV, "AQUIFER_DATA_DIR": str(tmp_path)}
    env["DJANGO_SETTINGS_MODULE"] = "aquifer.config.settings"
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AQUIFER_", "PYTEST"))}
    out = subprocess.run(
        [sys.executable, "-c", code], env={**base, **env}, capture_output=True, text=True
    )
    assert out.stdout.strip().split(None, 4) == [
        "31536000",
        "True",
        "True",
        "True",
        "('HTTP_X_FORWARDED_PROTO', 'https')",
    ], out.stderr


# --- Content-Security-Policy ----------------------------------------------------------------


def test_pages_send_a_policy_without_inline_scripts(world: Any) -> None:
    r = world.client("bureau").get("/")
    policy = r["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    assert directives["script-src"] == "'self'"
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-eval'" not in policy
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"


def _template_files() -> list[Path]:
    return sorted(TEMPLATES.rglob("*.html"))


def test_templates_have_no_inline_script_or_handler() -> None:
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)
    handler = re.compile(r"<[^>]*\son[a-z]+\s*=", re.I)
    found = [
        f"{path.relative_to(TEMPLATES)}: {m.group(0)[:60]}"
        for path in _template_files()
        for pattern in (inline_script, handler)
        for m in pattern.finditer(path.read_text())
    ]
    assert not found, found


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png",
            ["https://*.tile.openstreetmap.org"],
        ),
        ("http://t{s}.tianditu.gov.cn/img_w/wmts?x={x}", ["http://*.tianditu.gov.cn"]),
        ("https://tiles.example.cn:8443/{z}/{x}/{y}.png", ["https://tiles.example.cn:8443"]),
        ("https://a.{s}.example.cn/{z}/{x}/{y}.png", ["https:"]),
        ("", []),
        ("/local/{z}/{x}/{y}.png", []),
    ],
)
def test_the_tile_server_is_allowed_for_images(url: str, expected: list[str]) -> None:
    from aquifer.config.settings import _tile_source

    assert _tile_source(url) == expected


def test_the_api_docs_load_their_scripts_from_this_site(world: Any) -> None:
    html = world.client("bureau").get("/api/docs").content.decode()
    scripts = re.findall(r'<script[^>]*\bsrc="([^"]+)"', html)
    assert scripts and all(s.startswith("/static/") for s in scripts), scripts
