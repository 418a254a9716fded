"""Documents as PDF: a Django template rendered by WeasyPrint with Chinese fonts.

Apps call :func:`render_pdf` with a template that extends ``core/pdf_base.html`` (A4, the
bureau's header, page numbers, CJK fonts). WeasyPrint fetches nothing from the network: the
URL fetcher answers ``data:`` URLs and files under our static directories, and refuses the
rest, so a name typed by a user (an ``<img src=http://…>``) cannot make the server call out.

The fonts come from the system (fontconfig): Noto CJK (Debian: fonts-noto-cjk) or WenQuanYi
(fonts-wqy-microhei). Without one, Chinese prints as empty boxes; ``aquifer check --deploy``
warns (core/checks.py).
"""

from __future__ import annotations

import shutil
import subprocess
from functools import cache
from typing import Any

from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.http import content_disposition_header

__all__ = ["cjk_fonts", "pdf_response", "render_pdf"]

#: The families the stylesheet asks for, in order (core/pdf_base.html).
FAMILIES = ("Noto Sans CJK SC", "Noto Serif CJK SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei")


class FetchRefused(ValueError):
    pass


def _fetcher() -> Any:
    """A WeasyPrint URL fetcher that reads ``data:`` URLs and our static files, nothing else."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticOnly(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            if url.startswith("data:"):
                return super().fetch(url, headers)
            marker = "/static/"
            if not url.startswith("http://aquifer.invalid/") or marker not in url:
                raise FetchRefused(url)
            found = finders.find(url.split(marker, 1)[1].split("?")[0])
            if not found or isinstance(found, list):
                raise FetchRefused(url)
            with open(found, "rb") as f:
                return URLFetcherResponse(url, f.read(), status=200)

    return StaticOnly(allowed_protocols=("data", "http"))


def render_pdf(
    template_name: str, context: dict[str, Any], request: HttpRequest | None = None
) -> bytes:
    """The template rendered to PDF bytes."""
    from weasyprint import HTML

    html = render_to_string(template_name, context, request=request)
    document = HTML(string=html, base_url="http://aquifer.invalid/", url_fetcher=_fetcher())
    return bytes(document.write_pdf())


def pdf_response(data: bytes, filename: str, inline: bool = True) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(not inline, filename) or ""
    response["X-Content-Type-Options"] = "nosniff"
    return response


@cache
def cjk_fonts() -> tuple[str, ...]:
    """The CJK families fontconfig knows among :data:`FAMILIES` (empty: Chinese prints as
    boxes). Without fontconfig's ``fc-list`` the answer is empty too."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return ()
    try:
        out = subprocess.run(
            [fc_list, ":lang=zh", "family"], capture_output=True, text=True, timeout=10
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    known = {name.strip() for line in out.splitlines() for name in line.split(",")}
    return tuple(f for f in FAMILIES if f in known)
