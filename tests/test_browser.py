"""In a real browser: a township officer sees only their township's wells, and opens one;
no page of any demo role's menu scrolls sideways at 390 x 844 in either language (issue 20),
at 1440 px the menu is one row of groups, and under 800 px the menu button folds it.

A real server (`aquifer serve`) runs on its own SQLite file built by `aquifer demo`;
Playwright drives Debian's chromium (never a browser of its own).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import require_or_skip

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("AQUIFER_CHROMIUM", "/usr/bin/chromium")
AQUIFER = str(Path(sys.executable).with_name("aquifer"))
PASSWORD = "Browser-officer-2026"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(env: dict[str, str], *args: str) -> str:
    out = subprocess.run([AQUIFER, *args], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


#: The environment of the server the ``server`` fixture started (for ``aquifer shell``).
SERVER_ENV: dict[str, str] = {}

SETUP = """
import json
from aquifer.core.models import User
from aquifer.registry.models import Township, Well
t = Township.objects.get(code="140522101")
u, _ = User.objects.update_or_create(
    username="browser_officer", defaults={"role": "township", "township": t})
u.set_password(PASSWORD)
u.save()
print(json.dumps({
    "mine": sorted(Well.objects.filter(township=t).values_list("code", flat=True)),
    "others": sorted(Well.objects.exclude(township=t).values_list("code", flat=True)),
}))
""".replace("PASSWORD", repr(PASSWORD))


@pytest.fixture(scope="module")
def server(tmp_path_factory: Any) -> Iterator[tuple[str, dict[str, list[str]]]]:
    require_or_skip(
        shutil.which(CHROMIUM) is not None or Path(CHROMIUM).exists(), f"chromium at {CHROMIUM}"
    )
    data = tmp_path_factory.mktemp("browser")
    env = {
        **os.environ,
        "AQUIFER_DATA_DIR": str(data),
        "DATABASE_URL": f"sqlite:///{data / 'aquifer.sqlite3'}",
        # `aquifer serve` refuses the published development key with DEBUG off.
        "AQUIFER_SECRET_KEY": "browser-test-" + "k3Jx9QvT2mLp7RzW4nYb8cHd1fGs6aEu0oIq5",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    run(env, "demo", "--no-serve", "--wells", "150")
    SERVER_ENV.clear()
    SERVER_ENV.update(env)
    wells = json.loads(run(env, "shell", "-c", SETUP).strip().splitlines()[-1])
    port = free_port()
    proc = subprocess.Popen(
        [AQUIFER, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.2)
        yield url, wells
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_township_officer_sees_only_own_wells(server: tuple[str, dict[str, list[str]]]) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, wells = server
    assert wells["mine"] and wells["others"]
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page()
        # Anything the Content-Security-Policy blocks, and any script error, fails the test.
        blocked: list[str] = []
        page.on(
            "console",
            lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None,
        )
        page.on("pageerror", lambda e: blocked.append(str(e)))
        external: list[str] = []
        page.on(
            "request",
            lambda r: (
                external.append(r.url) if not r.url.startswith((url, "data:", "blob:")) else None
            ),
        )

        page.goto(f"{url}/login/")
        page.fill("input[name=username]", "browser_officer")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit], input[type=submit]")
        page.wait_for_load_state("networkidle")

        # The map: only this township's wells are drawn.
        page.goto(f"{url}/map/")
        # Waiting with locators, not wait_for_function: the pages' CSP forbids eval.
        expect(page.locator("#well-count")).to_have_text(re.compile(r"\S"))
        assert int(page.inner_text("#well-count")) == len(wells["mine"])
        markers = page.locator("#map .leaflet-interactive").count()
        assert markers >= len(wells["mine"])  # wells, plus zone and township outlines

        # The list: the same wells, none of another township's.
        page.goto(f"{url}/wells/?limit=500")
        codes = set()
        while True:
            codes |= {
                c.strip()
                for c in page.locator("#well-list tbody tr td:first-child").all_inner_texts()
            }
            nxt = page.locator("a[rel=next]")
            if nxt.count() == 0:
                break
            nxt.first.click()
            page.wait_for_load_state("networkidle")
        assert codes == set(wells["mine"])

        # Another township's well is not found, and a well page opens.
        other = wells["others"][0]
        page.goto(f"{url}/wells/?q={other}")
        assert page.locator("#well-list tbody tr td:first-child").all_inner_texts() in ([], [""])
        page.goto(f"{url}/wells/?q={wells['mine'][0]}")
        page.locator("#well-list tbody tr a").first.click()
        page.wait_for_load_state("networkidle")
        assert wells["mine"][0] in page.content()
        assert "/wells/" in page.url

        # Pages whose scripts (Leaflet, Plotly) moved out of the page for the policy.
        for path, drawn in [
            ("/health/map/", "#health-map .leaflet-pane"),
            ("/health/", "#health-chart .main-svg"),
            ("/analysis/", "#status-map .leaflet-pane"),
            ("/accounting/", "#withdrawal-chart .main-svg"),
        ]:
            page.goto(f"{url}{path}")
            page.wait_for_load_state("networkidle")
            assert page.locator(drawn).count() > 0, path

        browser.close()
    assert blocked == [], blocked
    assert external == [], f"pages fetched from outside the machine: {external[:5]}"


def shell(code: str) -> str:
    """Runs ``code`` in ``aquifer shell`` on the server's database; its last line of output."""
    return run(SERVER_ENV, "shell", "-c", code).strip().splitlines()[-1]


def launch(p: Any) -> Any:
    return p.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    )


def login(page: Any, url: str, username: str) -> None:
    page.goto(f"{url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_load_state("networkidle")


@pytest.fixture(scope="module")
def bureau(server: tuple[str, Any]) -> str:
    """A bureau account on the server; its username."""
    shell(
        "from aquifer.core.models import User\n"
        "u, _ = User.objects.update_or_create(username='browser_bureau', "
        "defaults={'role': 'bureau'})\n"
        f"u.set_password({PASSWORD!r})\n"
        "u.save()\n"
        "print(u.pk)"
    )
    return "browser_bureau"


# --- Stored XSS: names from the data are text in every map popup, tooltip and page ----------------

PAYLOAD = '<img src=x onerror="window.__xss=1">'

XSS_SETUP = """
import json
from aquifer.registry.models import Township, WaterUser, Well, Zone
from aquifer.telemetry.models import Reading
P = PAYLOAD
ids = list(Reading.objects.values_list("device__well_id", flat=True).distinct()[:50])
well = Well.objects.exclude(township__code="140522101").filter(pk__in=ids).first()
zone = Zone.objects.filter(kind="prohibited").first() or Zone.objects.first()
Zone.objects.filter(pk=zone.pk).update(name="ZONE" + P)
Township.objects.filter(pk=well.township_id).update(name="TOWN" + P)
WaterUser.objects.filter(pk=well.owner_id).update(name="USER" + P)
Well.objects.filter(pk=well.pk).update(name="WELL" + P, code=P[:40])
print(json.dumps({
    "well": well.get_absolute_url(),
    "zone": zone.get_absolute_url(),
    "user": WaterUser.objects.get(pk=well.owner_id).get_absolute_url(),
}))
""".replace("PAYLOAD", repr(PAYLOAD))

#: Opens the popup of every vector layer of every Leaflet map on the page, one after another
#: (a click on each), and returns the text of each popup opened.
OPEN_POPUPS = """() => {
  const seen = [];
  document.querySelectorAll('.leaflet-container path.leaflet-interactive').forEach(el => {
    el.dispatchEvent(new MouseEvent('click', {bubbles: true, cancelable: true, view: window}));
    document.querySelectorAll('.leaflet-popup-content').forEach(p => seen.push(p.textContent));
  });
  return seen;
}"""


def test_names_with_markup_never_run_as_script(server: tuple[str, Any], bureau: str) -> None:
    from playwright.sync_api import sync_playwright

    url, _wells = server
    targets = json.loads(shell(XSS_SETUP))
    with sync_playwright() as p:
        browser = launch(p)
        for who in (bureau, None):  # the bureau, and an anonymous visitor
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            dialogs: list[str] = []
            page.on("dialog", lambda d, seen=dialogs: (seen.append(d.message), d.dismiss()))
            if who:
                login(page, url, who)
                pages = [
                    ("/map/", "#map[data-wells-loaded=true]"),
                    ("/analysis/", "#status-map[data-loaded]"),
                    ("/health/map/", "#health-map[data-loaded]"),
                    (targets["zone"], ".mini-map .leaflet-interactive"),
                    (targets["well"], ".mini-map .leaflet-interactive"),
                    (targets["user"], None),
                    ("/wells/", None),
                    ("/analysis/balance/", None),
                    ("/accounting/?level=user", None),
                    ("/audit/", None),
                ]
            else:
                pages = [("/analysis/", "#status-map[data-loaded]"), ("/zones/", None)]
            popups: list[str] = []
            for path, ready in pages:
                page.goto(url + path)
                page.wait_for_load_state("networkidle")
                if ready:
                    page.wait_for_selector(ready, state="attached", timeout=20000)
                    page.wait_for_timeout(300)
                    popups += page.evaluate(OPEN_POPUPS)
                assert page.evaluate("window.__xss") is None, f"script ran on {path} ({who})"
                assert page.locator("img[src=x]").count() == 0, f"markup injected on {path}"
            assert dialogs == [], dialogs
            joined = "\n".join(popups)
            # The popups did open, and showed the names as text.
            assert "ZONE" + PAYLOAD in joined, "no zone popup opened"
            if who:
                assert "WELL" + PAYLOAD in joined and "TOWN" + PAYLOAD in joined
                assert PAYLOAD[:40] in joined  # the device map's popup (the well's code)
            context.close()
        browser.close()


# --- A well's reading chart draws in both languages -----------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_well_chart_draws_in_both_languages(
    server: tuple[str, Any], bureau: str, language: str
) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, _wells = server
    well = shell(
        "from aquifer.telemetry.models import Reading\n"
        "from aquifer.registry.models import Well\n"
        "w = Reading.objects.filter(device__well__isnull=False, element='depth_to_water')"
        ".values_list('device__well_id', flat=True).first()\n"
        "print(Well.objects.get(pk=w).get_absolute_url())"
    )
    with sync_playwright() as p:
        browser = launch(p)
        context = browser.new_context()
        context.add_cookies([{"name": "django_language", "value": language, "url": url}])
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        login(page, url, bureau)
        page.goto(url + well)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("document.documentElement.lang") == language
        chart = page.locator(".series-chart")
        drawn = chart.locator(".series-status")
        expect(drawn).to_have_text(re.compile(r"\S"), timeout=20000)
        expect(drawn).not_to_have_text(chart.get_attribute("data-msg-loading") or "", timeout=20000)
        status = chart.locator(".series-status").inner_text().strip()
        assert status != chart.get_attribute("data-msg-error"), status
        assert status != chart.get_attribute("data-msg-empty"), status
        assert page.locator(".series-plot .plot-container svg.main-svg").count() > 0
        assert page.locator(".series-plot .scatterlayer .trace").count() > 0
        assert errors == [], errors
        browser.close()


# ----------------------------------------------------------------------------- phones

DEMO_PASSWORD = "aquifer-demo"  # aquifer.registry.demo.accounts.DEMO_PASSWORD
ROLES = ["admin", "beiliu", "wateruser", "inspector", "public", None]  # None: anonymous
#: List pages whose first record opens a record page of that kind.
RECORD_LISTS = [
    "/wells/",
    "/water-users/",
    "/devices/",
    "/permits/",
    "/enforcement/",
    "/maintenance/",
    "/complaints/",
    "/zones/",
    "/townships/",
]
OVERFLOW = "() => [document.documentElement.scrollWidth, window.innerWidth]"


def sign_in(page: Any, url: str, username: str) -> None:
    page.goto(f"{url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("main button[type=submit], main input[type=submit]")
    page.wait_for_load_state("load")


def first_record(page: Any) -> str | None:
    links = page.locator("table.list tbody tr a[href^='/']")
    if links.count() == 0:
        return None
    href = links.first.get_attribute("href")
    return str(href) if href and not href.endswith((".csv", ".pdf", ".xlsx")) else None


def test_no_page_scrolls_sideways_on_a_phone(server: tuple[str, Any]) -> None:
    from playwright.sync_api import sync_playwright

    url, _ = server
    host = urlsplit(url).hostname or "127.0.0.1"
    overflowed: list[str] = []
    seen = 0
    with sync_playwright() as p:
        browser = launch(p)
        for language in ("zh-hans", "en"):
            for username in ROLES:
                ctx = browser.new_context(viewport={"width": 390, "height": 844})
                ctx.add_cookies(
                    [{"name": "django_language", "value": language, "domain": host, "path": "/"}]
                )
                page = ctx.new_page()
                if username:
                    sign_in(page, url, username)
                page.goto(f"{url}/")
                menu = page.eval_on_selector_all(
                    "#main-nav a[href]", "els => els.map(e => e.getAttribute('href'))"
                )
                pages = ["/", "/portal/", "/search/?q=W&all=1", *menu]
                records: list[str] = []
                for path in dict.fromkeys(pages):
                    response = page.goto(f"{url}{path}")
                    if response is None or response.status >= 400 or "/login/" in page.url:
                        continue
                    seen += 1
                    width, inner = page.evaluate(OVERFLOW)
                    if width > inner:
                        overflowed.append(f"{username or 'anonymous'} {language} {path}: {width}")
                    if path in RECORD_LISTS:
                        record = first_record(page)
                        if record:
                            records.append(record)
                for path in records:
                    response = page.goto(f"{url}{path}")
                    if response is None or response.status >= 400:
                        continue
                    seen += 1
                    width, inner = page.evaluate(OVERFLOW)
                    if width > inner:
                        overflowed.append(f"{username or 'anonymous'} {language} {path}: {width}")
                ctx.close()
        browser.close()
    assert seen > 100
    assert overflowed == [], "\n".join(overflowed)


def test_menu_is_one_row_wide_and_a_button_on_a_phone(server: tuple[str, Any]) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, _ = server
    host = urlsplit(url).hostname or "127.0.0.1"
    with sync_playwright() as p:
        browser = launch(p)
        for language in ("zh-hans", "en"):
            ctx = browser.new_context(viewport={"width": 1440, "height": 900})
            ctx.add_cookies(
                [{"name": "django_language", "value": language, "domain": host, "path": "/"}]
            )
            page = ctx.new_page()
            sign_in(page, url, "admin")
            page.goto(f"{url}/wells/")
            tops = page.eval_on_selector_all(
                "#main-nav .nav-group > summary",
                "els => els.map(e => Math.round(e.getBoundingClientRect().top))",
            )
            assert len(tops) == 6 and len(set(tops)) == 1, (language, tops)
            # Brand, groups, search box and session on one row in either language.
            header = page.evaluate("() => document.querySelector('.topbar').offsetHeight")
            assert header < 60, (language, header)
            # The account menu says the role and logs out; it closes with Escape.
            page.click("#who")
            expect(page.locator("#account-menu form[action='/logout/'] button")).to_be_visible()
            page.keyboard.press("Escape")
            expect(page.locator("#account-menu form[action='/logout/'] button")).to_be_hidden()
            # A group opens with the keyboard and shows the current page marked.
            page.focus("#main-nav .nav-group.current > summary")
            page.keyboard.press("Enter")
            expect(page.locator("#main-nav a[aria-current=page]")).to_be_visible()
            page.keyboard.press("Escape")
            expect(page.locator("#main-nav a[aria-current=page]")).to_be_hidden()

            page.set_viewport_size({"width": 390, "height": 844})
            expect(page.locator("#main-nav")).to_be_hidden()
            button = page.locator(".menu-button")
            expect(button).to_have_attribute("aria-expanded", "false")
            button.click()
            expect(button).to_have_attribute("aria-expanded", "true")
            expect(page.locator("#main-nav")).to_be_visible()
            ctx.close()
        browser.close()


def test_search_box_finds_a_well(server: tuple[str, Any]) -> None:
    from playwright.sync_api import sync_playwright

    url, wells = server
    code = wells["mine"][0]
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page()
        sign_in(page, url, "admin")
        page.fill(".header-search input[name=q]", code)
        page.press(".header-search input[name=q]", "Enter")
        page.wait_for_load_state("load")
        assert "/wells/" in page.url and code in page.content()
        browser.close()
