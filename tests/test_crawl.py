"""Crawl the whole web UI and the API as every demo account: no 5xx, no traceback, no leak.

One small demo county is built once for the module (inside a transaction rolled back at the
end). For each demo account and the anonymous visitor the crawler starts at "/" and follows
every same-site link (``href``, ``hx-get``) breadth-first; URLs are reduced to a pattern (ids
replaced, query keys sorted) and at most two URLs of a pattern are fetched. Every GET path of
the OpenAPI schema without path parameters is called as each account as well.

Scope: the water user never sees a well code of another water user, a township officer never
one of another township, and the public / anonymous visitor no well code but those of the
government's monitoring wells, which the portal publishes (issue 18; docs/permits.md: no
permits).
"""

from __future__ import annotations

import io
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import unescape
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client, override_settings

from aquifer.registry.demo import ACCOUNTS

ROLES = ("bureau", "beiliu", "wateruser", "inspector", "public", None)
MAX_PATTERNS = 400  # distinct URL patterns per account
PER_PATTERN = 2  # URLs fetched per pattern
LINK = re.compile(r"""(href|hx-get|data-url|data-href)\s*=\s*["']([^"'#]+)["']""", re.I)
# URLs in the JSON configuration of maps and charts (json_script): fetched by JavaScript.
SCRIPT_URL = re.compile(r'"(/(?:[\w.~%-]+/)*[\w.~%-]*(?:\?[^"\s<>]*)?)"')
JSON_SCRIPT = re.compile(r'<script[^>]*type="application/json"[^>]*>(.*?)</script>', re.S)
# Never followed: logging out ends the crawl; the admin and language switch are Django's own.
SKIP = ("/logout/", "/admin/", "/i18n/", "/static/", "/media/")
# A link a page shows must work for whoever sees it (house rule: links only to roles that may
# use them). 422 is not here: a chart's data URL gets its parameters from JavaScript.
BROKEN = (403, 404, 405, 410)
TEMPLATE_ERRORS = (
    "Traceback (most recent call last)",
    "TemplateSyntaxError",
    "VariableDoesNotExist",
)
ID_SEGMENT = re.compile(r"^(\d+|[0-9a-f]{8}-[0-9a-f-]{27}|\d{4}-\d{2}(-\d{2})?)$")


# A demo county and a crawl of every page for every account: minutes, not seconds.
pytestmark = pytest.mark.slow


@dataclass
class Demo:
    wells: dict[str, tuple[int, int | None]]  # code → (township id, owner id)
    users: dict[str, Any] = field(default_factory=dict)  # username → User


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Iterator[Demo]:
    from aquifer.core.models import User
    from aquifer.registry.models import Well

    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    fast.append("django.contrib.auth.hashers.PBKDF2PasswordHasher")
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=fast):
        atomic = transaction.atomic()
        atomic._from_testcase = True  # as TestCase does: durable blocks inside stay allowed
        atomic.__enter__()
        try:
            call_command(
                "demo",
                "--no-serve",
                "--wells",
                "40",
                "--history-days",
                "3",
                "--live-devices",
                "0",
                stdout=io.StringIO(),
            )
            wells = {
                code: (town, owner)
                for code, town, owner in Well.objects.values_list("code", "township_id", "owner_id")
            }
            users = {
                u.username: u
                for u in User.objects.filter(username__in=[a.username for a in ACCOUNTS])
            }
            yield Demo(wells=wells, users=users)
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def pattern(url: str) -> str:
    parts = urlsplit(url)
    path = "/".join("<id>" if ID_SEGMENT.match(s) else s for s in parts.path.split("/"))
    keys = sorted({k for k, _v in parse_qsl(parts.query, keep_blank_values=True)})
    return path + ("?" + "&".join(keys) if keys else "")


def links(base: str, text: str) -> Iterator[tuple[str, bool]]:
    """Same-site links in ``text``: (url, fetched by htmx)."""
    found = LINK.findall(text)
    for script in JSON_SCRIPT.findall(text):
        found += [("script", u.replace("\\u0026", "&")) for u in SCRIPT_URL.findall(script)]
    for attr, raw in found:
        url = urljoin(base, unescape(raw).strip())
        parts = urlsplit(url)
        if parts.scheme not in ("", "http", "https") or parts.netloc not in ("", "testserver"):
            continue
        if not parts.path.startswith("/") or parts.path.startswith(SKIP):
            continue
        yield parts.path + ("?" + parts.query if parts.query else ""), attr.lower() == "hx-get"


def body_text(response: Any) -> str:
    """The response as text; Excel workbooks as their cell values."""
    ctype = response.get("Content-Type", "")
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if "spreadsheetml" in ctype:
        import openpyxl

        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
        return "\n".join(
            " ".join(str(v) for v in row if v is not None)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
        )
    if ctype.startswith(("image/", "application/pdf", "application/zip", "application/octet")):
        return ""
    return content.decode("utf-8", "replace")


def client_for(demo: Demo, username: str | None) -> Client:
    client = Client(raise_request_exception=False)  # collect every 500, not just the first
    if username is not None:
        client.force_login(demo.users[username])
    return client


def crawl(client: Client) -> tuple[dict[str, str], list[str]]:
    """Every page reached from "/": {url: text}, and the failures found on the way."""
    seen_patterns: dict[str, int] = {}
    pages: dict[str, str] = {}
    failures: list[str] = []
    queue: deque[tuple[str, str, bool]] = deque([("/", "start", False)])
    queued = {"/"}
    while queue:
        url, source, hx = queue.popleft()
        pat = pattern(url)
        if seen_patterns.get(pat, 0) >= PER_PATTERN:
            continue
        if pat not in seen_patterns and len(seen_patterns) >= MAX_PATTERNS:
            continue
        seen_patterns[pat] = seen_patterns.get(pat, 0) + 1
        response = client.get(url, headers={"HX-Request": "true"} if hx else {})
        text = body_text(response)
        if response.status_code >= 500:
            failures.append(f"{response.status_code} {url} (linked from {source})")
            continue
        if response.status_code in BROKEN:
            failures.append(f"broken link: {response.status_code} {url} (linked from {source})")
        for marker in TEMPLATE_ERRORS:
            if marker in text:
                failures.append(f"{marker!r} in {url} (linked from {source})")
        pages[url] = text
        if response.status_code in (301, 302, 303, 307, 308):
            target = response["Location"]
            for nxt, _hx in links(url, f'href="{target}"'):
                if nxt not in queued:
                    queued.add(nxt)
                    queue.append((nxt, url, hx))
            continue
        if "html" not in response.get("Content-Type", ""):
            continue
        for nxt, nxt_hx in links(url, text):
            if nxt not in queued:
                queued.add(nxt)
                queue.append((nxt, url, nxt_hx))
    return pages, failures


_crawled: dict[str | None, dict[str, str]] = {}


def crawled(demo: Demo, username: str | None) -> dict[str, str]:
    if username not in _crawled:
        pages, failures = crawl(client_for(demo, username))
        assert not failures, f"{username or 'anonymous'}:\n" + "\n".join(failures)
        assert len(pages) > 3, pages.keys()
        _crawled[username] = pages
    return _crawled[username]


@pytest.mark.django_db
@pytest.mark.parametrize("username", ROLES)
def test_every_reachable_page_renders(demo: Demo, username: str | None) -> None:
    _crawled.pop(username, None)
    crawled(demo, username)


@pytest.mark.django_db
@pytest.mark.parametrize("username", ROLES)
def test_every_plain_api_get_answers(demo: Demo, username: str | None) -> None:
    client = client_for(demo, username)
    schema = client.get("/api/openapi.json")
    assert schema.status_code == 200
    failures = []
    for path, ops in schema.json()["paths"].items():
        if "get" not in ops or "{" in path:
            continue
        response = client.get(path)
        if response.status_code >= 500:
            failures.append(f"{response.status_code} GET {path}")
    assert not failures, "\n".join(failures)


def reachable(demo: Demo, username: str | None) -> dict[str, str]:
    """The role's own crawl, the plain API GETs, and every URL the bureau reached, as the role.

    Replaying the bureau's URLs probes the detail pages of records out of the role's scope
    (which must be a 404, or at least show nothing out of scope).
    """
    pages = dict(crawled(demo, username))
    client = client_for(demo, username)
    schema = client.get("/api/openapi.json").json()
    urls = [p for p, ops in schema["paths"].items() if "get" in ops and "{" not in p]
    urls += [u for u in crawled(demo, "bureau") if u not in pages]
    for url in urls:
        response = client.get(url)
        assert response.status_code < 500, url
        if response.status_code == 200:
            pages[url] = body_text(response)
    return pages


def published_codes() -> set[str]:
    """The codes the public portal shows to everyone: the government's monitoring wells."""
    from aquifer.registry.models import MonitoringWell

    rows = MonitoringWell.objects.filter(well__owner__isnull=True)
    return set(rows.values_list("well__code", flat=True))


def leaks(pages: dict[str, str], codes: set[str]) -> list[str]:
    found = []
    for url, text in pages.items():
        # A code in the URL itself is echoed back (a prefilled form), not disclosed.
        hits = {
            c
            for c in codes
            if c not in url and re.search(rf"(?<![\w-]){re.escape(c)}(?![\w-])", text)
        }
        if hits:
            found.append(f"{url}: {sorted(hits)[:5]}")
    return found


@pytest.mark.django_db
def test_water_user_sees_no_other_users_well(demo: Demo) -> None:
    mine = demo.users["wateruser"].water_user_id
    assert mine is not None
    others = {code for code, (_t, owner) in demo.wells.items() if owner != mine}
    assert others and len(others) < len(demo.wells)
    others -= published_codes()  # on the public portal
    pages = reachable(demo, "wateruser")
    assert leaks(pages, set(demo.wells) - others), "the crawl never saw the user's own wells"
    assert not leaks(pages, others)


@pytest.mark.django_db
def test_township_officer_sees_no_other_townships_well(demo: Demo) -> None:
    town = demo.users["beiliu"].township_id
    others = {code for code, (t, _owner) in demo.wells.items() if t != town}
    assert others and len(others) < len(demo.wells)
    others -= published_codes()  # on the public portal
    pages = reachable(demo, "beiliu")
    assert leaks(pages, set(demo.wells) - others), "the crawl never saw the township's wells"
    assert not leaks(pages, others)


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["public", None])
def test_public_sees_no_well_code(demo: Demo, username: str | None) -> None:
    # The portal publishes the government's monitoring wells (issue 18); no other well.
    assert not leaks(reachable(demo, username), set(demo.wells) - published_codes())
