"""``{% load permit_reasons %}``: a rule engine reason as a sentence in the page's language
(``{{ r|reason_text }}``) and a rule id as its title (``{{ r.rule|rule_title }}``)."""

from __future__ import annotations

from typing import Any

from django import template

from aquifer.permits import reasons

register = template.Library()


@register.filter(name="reason_text")
def reason_text(reason: Any) -> str:
    return reasons.reason_text(reason) if isinstance(reason, dict) else str(reason)


@register.filter(name="rule_title")
def rule_title(rule: Any) -> str:
    return reasons.rule_title(str(rule))
