"""PDF documents: rendered with a Chinese font, and never fetching from the network."""

from __future__ import annotations

import re
import socket
import threading
import zlib
from typing import Any

import pytest
from django.template import engines

from aquifer.core import pdf


@pytest.fixture
def template(tmp_path: Any, settings: Any) -> str:
    (tmp_path / "doc.html").write_text(
        '{% extends "core/pdf_base.html" %}{% block body %}<h1>{{ title }}</h1>'
        '<img src="{{ image }}"><p>阳城县水务局</p>{% endblock %}',
        encoding="utf-8",
    )
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0].get("DIRS", [])]}
    ]
    engines._engines = {}  # type: ignore[attr-defined]  # the new DIRS take effect
    engines.__dict__.pop("templates", None)
    return "doc.html"


def test_chinese_is_set_in_a_cjk_font(template: str) -> None:
    assert pdf.cjk_fonts(), "no CJK font: install fonts-noto-cjk (.ci/run does)"
    data = pdf.render_pdf(template, {"title": "立案审批表", "image": ""})
    assert data.startswith(b"%PDF")
    names = b"".join(re.findall(rb"/BaseFont\s*/([A-Za-z0-9+_-]+)", _inflated(data)))
    assert b"CJK" in names or b"WenQuanYi" in names, names  # the embedded font's name


def _inflated(data: bytes) -> bytes:
    """The PDF with its compressed streams (object streams hold the font dictionaries)."""
    out = [data]
    for match in re.finditer(rb"stream\r?\n", data):
        try:
            out.append(zlib.decompressobj().decompress(data[match.end() :]))
        except zlib.error:
            continue
    return b"".join(out)


def test_no_url_in_a_document_is_fetched(template: str) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(2)
    port = server.getsockname()[1]
    hits: list[bool] = []

    def accept() -> None:
        try:
            conn, _ = server.accept()
            hits.append(True)
            conn.close()
        except OSError:
            pass

    thread = threading.Thread(target=accept)
    thread.start()
    for url in (f"http://127.0.0.1:{port}/x.png", "file:///etc/passwd"):
        data = pdf.render_pdf(template, {"title": "t", "image": url})
        assert data.startswith(b"%PDF")
    thread.join()
    server.close()
    assert hits == []


def test_the_response_names_the_file() -> None:
    response = pdf.pdf_response(b"%PDF-1.4", "决定书.pdf", inline=False)
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert "%E5%86%B3" in response["Content-Disposition"]  # the name, RFC 5987-encoded
