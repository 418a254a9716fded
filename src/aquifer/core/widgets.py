"""Form widgets and fields of the whole project, for choices by the thousand.

:class:`PlainSelect` is Django's ``Select`` written out in Python: the same markup, without one
template rendering per option (a select of the county's 3,000 wells took ~1.5 s through the
template engine). :class:`LabelledModelChoiceField` loads only the columns its option labels
need to list the choices (the chosen object is still loaded whole when the form is bound).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django import forms
from django.forms.models import ModelChoiceIterator
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

__all__ = ["LabelledModelChoiceField", "PlainSelect", "PlainSelectMultiple"]


def _attrs(attrs: dict[str, Any]) -> str:
    """Attributes as Django's ``attrs.html`` writes them (True: the bare name; False, None:
    left out), escaped."""
    parts = []
    for k, v in attrs.items():
        if v is True:
            parts.append(f" {conditional_escape(k)}")
        elif v is not False and v is not None:
            parts.append(f' {conditional_escape(k)}="{conditional_escape(v)}"')
    return "".join(parts)


class PlainSelect(forms.Select):
    """A ``Select`` whose options are written directly (see the module docstring)."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        w = self.get_context(name, value, attrs)["widget"]

        def options(opts: list[dict[str, Any]]) -> str:
            return "".join(
                f'  <option value="{conditional_escape(o["value"])}"{_attrs(o["attrs"])}>'
                f"{conditional_escape(o['label'])}</option>\n"
                for o in opts
            )

        body = []
        for group, opts, _index in w["optgroups"]:
            if group:
                label = conditional_escape(group)
                body.append(f'  <optgroup label="{label}">\n{options(opts)}  </optgroup>\n')
            else:
                body.append(options(opts))
        return format_html(
            '<select name="{}"{}>\n{}</select>',
            w["name"],
            mark_safe(_attrs(w["attrs"])),  # escaped by _attrs
            mark_safe("".join(body)),  # escaped by options()
        )


class PlainSelectMultiple(PlainSelect, forms.SelectMultiple):
    """A ``SelectMultiple`` written out the same way."""


class _LabelIterator(ModelChoiceIterator):
    def __iter__(self) -> Iterator[Any]:
        field: LabelledModelChoiceField = self.field  # type: ignore[assignment]
        self.queryset = self.queryset.only(*field.label_fields)
        return super().__iter__()


class LabelledModelChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """A ``ModelChoiceField`` that lists its choices from ``label_fields`` only (the columns
    the model's ``__str__`` reads), drawn by :class:`PlainSelect`."""

    iterator = _LabelIterator
    widget = PlainSelect

    def __init__(self, *args: Any, label_fields: tuple[str, ...], **kwargs: Any) -> None:
        self.label_fields = label_fields
        super().__init__(*args, **kwargs)
