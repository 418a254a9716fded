"""``{% load permit_reasons %}``: a rule engine reason as a sentence in the page's language
(``{{ r|reason_text }}``) and a rule id as its title (``{{ r.rule|rule_title }}``)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import get_language

from aquifer.permits import reasons

register = template.Library()


@register.filter(name="reason_text")
def reason_text(reason: Any) -> str:
    return reasons.reason_text(reason) if isinstance(reason, dict) else str(reason)


@register.filter(name="rule_title")
def rule_title(rule: Any) -> str:
    return reasons.rule_title(str(rule))


@register.filter(name="legal_article")
def legal_article(article: Any) -> str:
    """An article reference as cited (第二十条第五项), in English as ``Art. 20(5)``."""
    text = str(article)
    return reasons.article_en(text) if (get_language() or "").startswith("en") else text


@register.filter(name="legal_source")
def legal_source(source: Any) -> str:
    """A rule's legal source: Chinese title, and on an English page its English gloss."""
    return reasons.source_html(source) if isinstance(source, dict) else str(source)


@register.filter(name="change_kinds")
def change_kinds(values: Any) -> str:
    return reasons.labels(values or (), reasons.CHANGE_KIND_LABELS)


@register.filter(name="water_sources")
def water_sources(values: Any) -> str:
    return reasons.labels(values or (), reasons.SOURCE_LABELS)


@register.filter(name="flag_name")
def flag_name(flag: Any) -> str:
    return str(reasons.FLAG_NAMES.get(str(flag), flag))
