"""Django settings for Aquifer.

Everything that differs between a laptop demo and production comes from the environment:

- ``DATABASE_URL``: ``sqlite:///path`` (default: ``var/aquifer.sqlite3`` in the working directory)
  or ``postgres://user@host:5432/name``.
- ``AQUIFER_SECRET_KEY``, ``AQUIFER_DEBUG``, ``AQUIFER_ALLOWED_HOSTS`` (comma separated).
- ``AQUIFER_DATA_DIR``: where the SQLite file and uploaded files live (default ``./var``).
- Security (docs/operations.md, "Security"): ``AQUIFER_HSTS_SECONDS``,
  ``AQUIFER_HSTS_INCLUDE_SUBDOMAINS``, ``AQUIFER_HSTS_PRELOAD``, ``AQUIFER_SSL_REDIRECT``,
  ``AQUIFER_SECURE_COOKIES``, ``AQUIFER_PROXY_SSL_HEADER``, ``AQUIFER_LOGIN_FAILURE_LIMIT``,
  ``AQUIFER_LOGIN_LOCKOUT_MINUTES``, ``AQUIFER_LOGIN_LOCKOUT_BY``,
  ``AQUIFER_SESSION_IDLE_SECONDS``.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("AQUIFER_DATA_DIR", Path.cwd() / "var")).resolve()

#: The published development key: allowed with DEBUG on, in tests and in ``aquifer demo``
#: (which says so); ``aquifer serve`` and ``aquifer check --deploy`` refuse it otherwise
#: (``aquifer.core.checks``).
DEVELOPMENT_SECRET_KEY = "insecure-development-key-set-AQUIFER_SECRET_KEY-in-production"
SECRET_KEY = os.environ.get("AQUIFER_SECRET_KEY", "") or DEVELOPMENT_SECRET_KEY
DEBUG = os.environ.get("AQUIFER_DEBUG", "0") == "1"
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("AQUIFER_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
    if h.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",  # its Swagger UI from our own static files (the CDN copy breaks the CSP)
    "axes",
    # Aquifer's apps in their layers, lowest first (docs/architecture.md, "Layers"): an app
    # imports only from the apps listed before it.
    "aquifer.core",
    "aquifer.registry",
    "aquifer.telemetry",
    "aquifer.notifications",
    "aquifer.monitoring",
    "aquifer.maintenance",
    "aquifer.accounting",
    "aquifer.permits",
    "aquifer.analysis",
    "aquifer.rights",
    "aquifer.closure",
    "aquifer.enforcement",
    "aquifer.supervision",
    "aquifer.portal",
    "aquifer.opendata",
    "aquifer.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "aquifer.core.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "aquifer.core.audit.AuditContextMiddleware",
    "aquifer.core.security.SecurityMiddleware",
    "aquifer.core.middleware.PolicyGateMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "aquifer.config.urls"
WSGI_APPLICATION = "aquifer.config.wsgi.application"
ASGI_APPLICATION = "aquifer.config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "aquifer.core.context_processors.role",
                "aquifer.demo.progress.demo_fill",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'aquifer.sqlite3'}"),
        conn_max_age=int(os.environ.get("AQUIFER_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    _name = str(DATABASES["default"]["NAME"])
    if _name and _name != ":memory:" and not _name.startswith("file:"):
        Path(_name).parent.mkdir(parents=True, exist_ok=True)  # ./var on a fresh machine
    # WAL lets readers go on while one writer commits; "IMMEDIATE" takes the write lock at
    # BEGIN so that two writers never deadlock on a lock upgrade. synchronous=FULL: a commit
    # (after which the gateway acknowledges a device) survives a power cut, not only a crash.
    # wal_autocheckpoint: the WAL is copied into the database file once it holds this many
    # pages (SQLite's default 1,000 = 4 MB). A gateway batch dirties a page per device, so
    # the default checkpointed after every batch, writing each device's hot index page into
    # the file again and again; at 20,000 pages (80 MB of WAL) a page rewritten by several
    # batches is copied once: ingest +40 % (docs/operations.md). Durability is the WAL's
    # fsync at each commit either way.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; "
        f"PRAGMA synchronous={os.environ.get('AQUIFER_SQLITE_SYNCHRONOUS', 'FULL')}; "
        f"PRAGMA wal_autocheckpoint={int(os.environ.get('AQUIFER_SQLITE_WAL_PAGES', '20000'))}; "
        "PRAGMA foreign_keys=ON;",
    }
    # Tests on SQLite use a file beside it (each xdist worker its own), not the shared-cache
    # in-memory database: there a second connection of the process (a thread's) fails at
    # once with "database table is locked" instead of waiting for the lock as on a file.
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(_name).with_name("test-aquifer.sqlite3"))
        if _name and _name != ":memory:" and not _name.startswith("file:")
        else None
    }
DATABASES["default"].setdefault("TEST", {})

AUTH_USER_MODEL = "core.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes checks each login first: a locked-out account or address is refused before the
# password is.
AUTHENTICATION_BACKENDS = [
    "aquifer.core.security.ThrottledBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# --- Security (docs/operations.md, "Security") ---------------------------------------------


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


# HTTPS, once the site is served over it (directly or behind a proxy that terminates TLS).
SECURE_HSTS_SECONDS = int(os.environ.get("AQUIFER_HSTS_SECONDS", "0") or 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_flag("AQUIFER_HSTS_INCLUDE_SUBDOMAINS")
SECURE_HSTS_PRELOAD = _env_flag("AQUIFER_HSTS_PRELOAD")
SECURE_SSL_REDIRECT = _env_flag("AQUIFER_SSL_REDIRECT")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = _env_flag("AQUIFER_SECURE_COOKIES")
# "X-Forwarded-Proto" (or another header) set by the proxy in front: the request is HTTPS when
# it says "https". Only set it when such a proxy is always in front and overwrites the header.
_proxy_header = os.environ.get("AQUIFER_PROXY_SSL_HEADER", "").strip()
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_" + _proxy_header.upper().replace("-", "_").removeprefix("HTTP_"), "https")
    if _proxy_header
    else None
)
X_FRAME_OPTIONS = "DENY"

# Idle sessions end after this many seconds without a request (core.security); 0 = never.
AQUIFER_SESSION_IDLE_SECONDS = int(os.environ.get("AQUIFER_SESSION_IDLE_SECONDS", "1800"))

# Login throttling (django-axes): after AXES_FAILURE_LIMIT failures for one account, or from
# one address, logins are refused for AXES_COOLOFF_TIME. A success does not wipe the count of
# failures (AXES_RESET_ON_SUCCESS False), so guessing cannot be interleaved with good logins.
AXES_FAILURE_LIMIT = int(os.environ.get("AQUIFER_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = dt.timedelta(
    minutes=float(os.environ.get("AQUIFER_LOGIN_LOCKOUT_MINUTES", "15"))
)
# Each item locks on its own: an account (whatever the address), an address (whatever the
# account). An office behind one NAT address may prefer "username" alone.
AXES_LOCKOUT_PARAMETERS = [
    p.strip()
    for p in os.environ.get("AQUIFER_LOGIN_LOCKOUT_BY", "username,ip_address").split(",")
    if p.strip()
]
AXES_LOCKOUT_TEMPLATE = "core/locked_out.html"
# The address a failure is counted by: the caller's, also behind AQUIFER_TRUSTED_PROXIES.
AXES_CLIENT_IP_CALLABLE = "aquifer.core.addresses.client_ip"
# Before the lockout, repeated failures are slowed down (core.security.login_wait): after
# AQUIFER_LOGIN_SLOWDOWN_AFTER failures within the cool-off window (per account, per address)
# the next attempt must wait AQUIFER_LOGIN_SLOWDOWN_SECONDS after the last failure, doubled
# with each further failure, at most AQUIFER_LOGIN_SLOWDOWN_MAX_SECONDS; an attempt made
# sooner gets 429 "try again in N s". These numbers are our own choice (unconfirmed: no
# standard or bureau rule gives them); 0 seconds turns the slowdown off.
AQUIFER_LOGIN_SLOWDOWN_AFTER = int(os.environ.get("AQUIFER_LOGIN_SLOWDOWN_AFTER", "2"))
AQUIFER_LOGIN_SLOWDOWN_SECONDS = float(os.environ.get("AQUIFER_LOGIN_SLOWDOWN_SECONDS", "5"))
AQUIFER_LOGIN_SLOWDOWN_MAX_SECONDS = float(
    os.environ.get("AQUIFER_LOGIN_SLOWDOWN_MAX_SECONDS", "300")
)
AXES_RESET_ON_SUCCESS = False
AXES_VERBOSE = False

# Content-Security-Policy (django-csp): scripts only from this site (no inline script, no
# eval); styles from this site plus inline styles, which Plotly needs (it injects <style>
# elements when it draws) and some templates' style attributes use. Map tiles may come from
# the configured tile server (AQUIFER_TILE_URL).


def _tile_source(url: str) -> list[str]:
    """The CSP source of a tile URL template: its scheme and host, ``{s}.tile.example.org``
    as ``*.tile.example.org``; only the scheme when a placeholder is deeper in the host."""
    from urllib.parse import urlsplit

    if not url:
        return []
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return []
    labels = parts.netloc.split(".")
    if "{" in labels[0]:
        labels[0] = "*"
    if any("{" in label for label in labels):
        return [f"{parts.scheme}:"]
    return [f"{parts.scheme}://{'.'.join(labels)}"]


LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# Static files (docs/operations.md, "Static files"): `aquifer serve` and `aquifer demo` collect
# them into STATIC_ROOT when they are missing or stale (aquifer.core.staticfiles), under hashed
# names with gzip and brotli copies, which whitenoise serves with a ten-year immutable
# Cache-Control. Before anything is collected (a checkout, the tests) whitenoise serves them
# straight from the packages (finders) under their plain names.
STATIC_ROOT = Path(os.environ.get("AQUIFER_STATIC_ROOT") or DATA_DIR / "static")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "aquifer.core.staticfiles.StaticStorage"},
}
# Leaflet ships inside the django-leaflet wheel. Its Django app is not installed (its admin
# widgets import GeoDjango, which needs GDAL); only its static files are served.
STATICFILES_DIRS = [
    Path(importlib.util.find_spec("leaflet").origin).parent / "static",  # type: ignore[union-attr,arg-type]
    PACKAGE_DIR / "static",
    # plotly.min.js ships in the plotly wheel: served as static/plotly/plotly.min.js.
    ("plotly", Path(importlib.util.find_spec("plotly").origin).parent / "package_data"),  # type: ignore[union-attr,arg-type]
]
WHITENOISE_USE_FINDERS = True
# Only the hashed copies are compressed and kept (the plain names come from the finders).
WHITENOISE_KEEP_ONLY_HASHED_FILES = True
WHITENOISE_AUTOREFRESH = DEBUG

# Uploads: an Excel import of a few thousand rows fits comfortably.
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024

# --- Aquifer's own settings ------------------------------------------------------------------
AQUIFER: dict[str, Any] = {
    # The county this installation serves (NBS division code) and its boundary file.
    "COUNTY_CODE": "140522",
    "COUNTY_NAME": "阳城县",
    # How far (metres) a zone polygon may stand outside the county boundary before it is refused.
    # The boundary we ship is a public web-map outline, not the surveyed one: see docs.
    "COUNTY_BOUNDARY_TOLERANCE_M": float(os.environ.get("AQUIFER_BOUNDARY_TOLERANCE_M", "300")),
    "TILE_URL": os.environ.get("AQUIFER_TILE_URL", ""),
    "TILE_ATTRIBUTION": os.environ.get("AQUIFER_TILE_ATTRIBUTION", ""),
    "PAGE_SIZE": 50,
    # The reverse proxies in front (addresses or networks, comma-separated): from them the
    # caller is read from X-Forwarded-For (core/addresses.py). Empty: REMOTE_ADDR only.
    "TRUSTED_PROXIES": os.environ.get("AQUIFER_TRUSTED_PROXIES", ""),
    # Notifications: links in e-mail and SMS are made absolute with this address.
    "NOTIFICATIONS": {"SITE_URL": os.environ.get("AQUIFER_SITE_URL", "")},
    # Telemetry: the rollups are merged after the readings' commit (telemetry.store): windows
    # of ROLLUP_CHUNK_ROWS readings, merged by the gateway's writer process (on a thread
    # beside its batches) in slices of ROLLUP_SLICE_ROWS, at the latest ROLLUP_MAX_LAG_S
    # after a reading was stored (docs/operations.md, "Gateway throughput").
    "TELEMETRY": {
        "ROLLUP_CHUNK_ROWS": 50_000,
        "ROLLUP_SLICE_ROWS": 5_000,
        "ROLLUP_MAX_LAG_S": 5.0,
        # The raw-frame archive's retention in days (telemetry/conf.py): a COUNTY setting,
        # UNCONFIRMED (no source sets it); evidence attached to a case keeps its own copy.
        "RAW_FRAME_RETENTION_DAYS": int(os.environ.get("AQUIFER_RAW_FRAME_DAYS", "400")),
    },
    # Closure (docs/closure.md): the recovery classes' bounds in metres of level rise against
    # the same period (上升 ≥ RISE_M > 弱上升 ≥ 0 > 弱下降 > -FALL_M ≥ 下降) — UNCONFIRMED: no
    # source we hold gives the bulletin's bounds; the bureau should set them.
    "CLOSURE": {"RECOVERY_RISE_M": 0.5, "RECOVERY_FALL_M": 0.5},
    # Forwarding upward (telemetry.forwarding): no source gives these values; they are ours,
    # UNCONFIRMED (docs/open-data.md). The national network's exchange-file layout is
    # "OPENDATA": {"EXCHANGE": …}, also unconfirmed, its default in opendata/conf.py.
    "FORWARDING": {
        "BACKOFF_BASE_S": float(os.environ.get("AQUIFER_FORWARD_BACKOFF_S", "2")),
        "BACKOFF_MAX_S": 300.0,
        "POLL_S": 1.0,
        "CONNECT_TIMEOUT_S": 5.0,
    },
    # Other apps' settings (PERMITS, ACCOUNTING, RIGHTS, MONITORING, MAINTENANCE,
    # OVEREXPLOITATION) have their defaults and sources in code (each app's conf or docs/);
    # a key set here overrides the default.
    # Among them, decisions the bureau may want to revisit:
    #   "ACCOUNTING": {"PUBLIC_MONTHLY": False}  the public sees township and county
    #       withdrawal as annual totals; True publishes them by month (docs/accounting.md).
    # ENFORCEMENT (enforcement/conf.py, docs/enforcement.md "Settings"): procedure deadlines,
    #   discretionary bands, the online-metering threshold, the 以电折水 bypass tolerance and
    #   the pollution-source radius — all unconfirmed by standards.md, set them here.
    #   "PORTAL": {"REPLY_DAYS": 15}  the reply deadline of a public complaint, UNCONFIRMED
    #       (no source sets it); other portal keys in portal/conf.py (docs/portal.md).
}

# E-mail (notifications): an SMTP relay chosen by the environment. With no host set, mail
# goes to localhost:25 as Django's default; the notifications app retries what fails.
EMAIL_HOST = os.environ.get("AQUIFER_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("AQUIFER_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("AQUIFER_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("AQUIFER_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("AQUIFER_EMAIL_TLS", "") == "1"
EMAIL_USE_SSL = os.environ.get("AQUIFER_EMAIL_SSL", "") == "1"
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = os.environ.get("AQUIFER_EMAIL_FROM", "aquifer@localhost")

# A 4xx (a refused or missing page) is one line on the console, not a traceback; a 5xx keeps
# its traceback (aquifer.core.logfilters). The filter sits on django.request, where Django
# creates these records, so every handler they reach sees them shortened.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"one_line_4xx": {"()": "aquifer.core.logfilters.OneLineClientErrors"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django.request": {"filters": ["one_line_4xx"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("AQUIFER_LOG_LEVEL", "WARNING")},
}

# The policy is set here, after AQUIFER, for the tile server's host (see _tile_source).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": [
            "'self'",
            "data:",
            "blob:",
            *_tile_source(AQUIFER["TILE_URL"]),
        ],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
