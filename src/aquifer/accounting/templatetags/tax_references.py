"""``{% load tax_references %}``: a tax table's source and notes in the page's language."""

from __future__ import annotations

from typing import Any

from django import template

from aquifer.accounting import references

register = template.Library()


@register.filter(name="tax_source")
def tax_source(value: Any) -> str:
    return references.source_html(str(value or ""))


@register.filter(name="tax_note")
def tax_note(value: Any) -> str:
    return references.note_text(str(value or ""))
