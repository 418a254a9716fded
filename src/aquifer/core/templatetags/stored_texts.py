"""``{% load stored_texts %}``: ``{{ value|stored_text }}`` shows a text stored with a record
in the page's language (``aquifer.core.texts``): a stored form rendered, a plain string
translated when it is one the system was loaded with (its message id), else as written."""

from __future__ import annotations

from typing import Any

from django import template

from aquifer.core.texts import loaded_text

register = template.Library()


@register.filter(name="stored_text")
def stored_text(value: Any) -> str:
    return loaded_text(value)
