"""The documents a case needs, generated from the case: 立案审批表 (filing approval form),
行政处罚事先告知书 (advance notice), 行政处罚决定书 (decision). Rendered to PDF by
``core.pdf.render_pdf`` (WeasyPrint, Chinese fonts).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aquifer.core.pdf import pdf_response, render_pdf
from aquifer.enforcement import articles, conf
from aquifer.enforcement.models import Case

__all__ = ["DOCUMENTS", "available", "context", "response"]

#: document code → (title, the state from which it can be generated)
DOCUMENTS: dict[str, tuple[Any, set[str]]] = {
    "filing": (
        _("立案审批表"),
        {"open", "filed", "investigated", "noticed", "decided", "executed", "closed"},
    ),
    "notice": (_("行政处罚事先告知书"), {"noticed", "decided", "executed", "closed"}),
    "decision": (_("行政处罚决定书"), {"decided", "executed", "closed"}),
}


def available(case: Case) -> list[tuple[str, Any]]:
    return [(code, title) for code, (title, states) in DOCUMENTS.items() if case.state in states]


def context(case: Case, code: str) -> dict[str, Any]:
    step = {s.step: s for s in case.steps.all()}
    return {
        "case": case,
        "code": code,
        "title": DOCUMENTS[code][0],
        "article": articles.ARTICLES[case.kind],
        "steps": step,
        "evidence": list(case.evidence.all()),
        "statement_days": conf.get("STATEMENT_DAYS"),
        "payment_days": conf.get("PAYMENT_DAYS"),
        "today": timezone.localdate(),
        "county": "阳城县水务局",
    }


def response(case: Case, code: str) -> HttpResponse:
    ctx = context(case, code)
    name = f"{case.number}-{code}"
    return pdf_response(render_pdf("enforcement/document.html", ctx), f"{name}.pdf")


def html(case: Case, code: str) -> str:
    """The document as HTML (what the PDF is rendered from)."""
    return render_to_string("enforcement/document.html", context(case, code))
