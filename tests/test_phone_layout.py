"""In a real browser at 390 x 844: no page of any demo role's menu scrolls sideways, in
either language (issue 20); at 1440 px the menu is one row of groups, and under 800 px the
menu button folds it. Reuses tests/test_browser.py's server (a demo county, `aquifer serve`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.test_browser import launch, server  # noqa: F401  (server: the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

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


def test_no_page_scrolls_sideways_on_a_phone(server: tuple[str, Any]) -> None:  # noqa: F811
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


def test_menu_is_one_row_wide_and_a_button_on_a_phone(server: tuple[str, Any]) -> None:  # noqa: F811
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
            # Chinese: brand, groups, search box and session on one row; English: the groups
            # on one row, the session may take a second.
            header = page.evaluate("() => document.querySelector('.topbar').offsetHeight")
            assert header < (60 if language == "zh-hans" else 100), (language, header)
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


def test_search_box_finds_a_well(server: tuple[str, Any]) -> None:  # noqa: F811
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
