"""The tax tables' reference texts in the reader's language (issue 14 point 13).

- A rate's category (``TaxRate.category``) is a code (:class:`TaxCategory`), shown by its label.
- A rate's or multiplier's ``source`` is a code of :data:`SOURCES` for the references the
  system was loaded with: its official Chinese title, and on an English page an English gloss
  beside it (the Chinese stays: it is the title to cite). A source the bureau typed itself is
  shown as typed.
- ``notes`` the system was loaded with are message ids (their Chinese text) translated at
  display time; a note the bureau wrote itself is shown as written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

__all__ = ["SOURCES", "Source", "note_text", "source_html"]


@dataclass(frozen=True)
class Source:
    title: str  # the official (Chinese) title; "" when the source is a description
    gloss: str  # its English gloss
    detail: Any  # a translatable detail (date, reporter, reliability); may be ""
    ref: str  # where standards.md discusses it


SOURCES: dict[str, Source] = {
    "shanxi_2024_notice": Source(
        "山西省财政厅、国家税务总局山西省税务局、山西省水利厅联合通知",
        "joint notice of the Shanxi Department of Finance, the Shanxi Provincial Tax Service "
        "and the Shanxi Department of Water Resources",
        gettext_lazy("新华社 2024-12-03 报道"),
        "standards.md §5.2 [C][S16]",
    ),
    "shanxi_2017_pilot": Source(
        "山西省水资源税改革试点",
        "Shanxi water resource tax reform pilot",
        gettext_lazy("2017-12-01 起"),
        "standards.md §5.3 [C][S17]",
    ),
    "over_plan_multipliers": Source(
        "",
        "",
        gettext_lazy("超计划取水加征倍数（AI 摘要，低可信度）"),
        "standards.md §5.2 [S20][U]",
    ),
}


def source_html(value: str) -> SafeString:
    """A rate's source for a page (see the module docstring)."""
    source = SOURCES.get(value)
    if source is None:
        return escape(value)
    english = (get_language() or "").startswith("en")
    parts: list[str] = []
    if source.title:
        title = format_html('<span lang="zh-hans">{}</span>', source.title)
        parts.append(f"{title} ({escape(source.gloss)})" if english and source.gloss else title)
    if source.detail:
        detail = escape(str(source.detail))
        parts.append(f"({detail})" if source.title else str(detail))
    text = " ".join(parts)
    return mark_safe(f"{text}{escape(_('；'))}{escape(source.ref)}")  # every part escaped above


def note_text(value: str) -> str:
    """A note: translated when it is one the system was loaded with, else as written."""
    return _(value) if value else ""
