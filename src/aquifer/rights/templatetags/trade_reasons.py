"""``{% load trade_reasons %}``: a trade's stored reason in the page's language
(``{{ r|trade_reason }}``).

A reason is ``{"code", "zh", "en"}`` and, when it comes from the permits' rule engine,
``params``: then the permits' message for the code is rendered with them
(``permits.reasons``); otherwise the ready text of the reader's language is shown.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import get_language

from aquifer.permits import reasons

register = template.Library()


@register.filter(name="trade_reason")
def trade_reason(reason: Any) -> str:
    if not isinstance(reason, dict):
        return str(reason)
    if "params" in reason and reason.get("code") in reasons.MESSAGES:
        return reasons.reason_text(reason)
    english = (get_language() or "").startswith("en")
    return str((reason.get("en") if english else None) or reason.get("zh") or "")
