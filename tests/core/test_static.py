"""Static files through the whole stack (whitenoise in the application): collected, plotly's 4.8 MB
bundle goes out under a hashed name, precompressed, cached for good; /api/docs needs no CDN."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.test import Client, override_settings

from aquifer.core.staticfiles import IGNORE, StaticStorage


@pytest.mark.slow
def test_plotly_is_served_hashed_compressed_and_cached_for_good(world: Any, tmp_path: Path) -> None:
    with override_settings(STATIC_ROOT=tmp_path / "static"):
        call_command("collectstatic", interactive=False, verbosity=0, ignore_patterns=IGNORE)
        client = Client()  # a new handler: whitenoise reads the collected files
        client.force_login(world.accounts["bureau"])
        html = client.get("/closure/progress/").content.decode()
        urls = re.findall(r'src="(/static/plotly/plotly\.min\.[0-9a-f]{12}\.js)"', html)
        assert urls, "plotly is referenced under its hashed name"
        for encoding in ("br", "gzip"):
            r = client.get(urls[0], HTTP_ACCEPT_ENCODING=f"{encoding}, identity")
            assert r.status_code == 200
            assert r["Content-Encoding"] == encoding
            assert int(r["Content-Length"]) < 1_600_000  # of 4.8 MB
            assert "max-age=315360000" in r["Cache-Control"]
            assert "immutable" in r["Cache-Control"]
        plain = client.get(urls[0])
        assert "Content-Encoding" not in plain and int(plain["Content-Length"]) > 4_000_000


def test_before_collecting_the_plain_names_are_served(world: Any) -> None:
    storage = StaticStorage(location="/nonexistent-static-root")
    assert storage.url("plotly/plotly.min.js") == "/static/plotly/plotly.min.js"
    client = world.client("bureau")
    html = client.get("/closure/progress/").content.decode()
    assert 'src="/static/plotly/plotly.min.js"' in html
    assert client.get("/static/plotly/plotly.min.js").status_code == 200


def test_api_docs_work_offline(world: Any) -> None:
    client = world.client("bureau")
    r = client.get("/api/docs")
    assert r.status_code == 200
    html = r.content.decode()
    refs = re.findall(r'<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"', html)
    assert any(ref.endswith(".js") for ref in refs), refs
    for ref in refs:
        parts = urlsplit(ref)
        assert not parts.scheme and not parts.netloc, f"{ref} is on another host"
        assert client.get(ref).status_code == 200, ref
    assert not re.search(r"https?://(?!127\.0\.0\.1|localhost|testserver)", html)
    csp = r.get("Content-Security-Policy", "")
    assert "cdn" not in csp


def test_a_file_the_manifest_does_not_know_keeps_its_plain_name(tmp_path: Path) -> None:
    (tmp_path / "staticfiles.json").write_text(
        '{"paths": {"aquifer/app.js": "aquifer/app.0123456789ab.js"}, "version": "1.1"}'
    )
    storage = StaticStorage(location=str(tmp_path))
    assert storage.url("aquifer/app.js") == "/static/aquifer/app.0123456789ab.js"
    assert storage.url("aquifer/new.js") == "/static/aquifer/new.js"
