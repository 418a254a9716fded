"""Texts stored with a record, rendered in the reader's language (issue 14 point 13).

A record that keeps a sentence (a notice's title, a note) stores it as a message id and its
params, not as the sentence: :func:`text` makes the stored form, :func:`render` turns it into
the sentence in the language active when it is shown. The message id is the gettext source
string (Chinese, as in ``_()``), so the English comes from django.po like every other string;
mark it with ``gettext_noop`` where it is written so that it stays in the catalogue.

Stored forms (JSON):

- ``{"msgid": "…%(n)s…", "params": {"n": …}}``: the message, translated, filled with its
  params; a param may itself be a stored form (a label that has a translation);
- ``{"zh": "…", "en": "…"}``: a text known in both languages (as monitoring's alarm params);
- a list of stored forms: one line each;
- a plain string: shown as it is (a proper name, a number, or a row written before codes).

A message whose id has since left the catalogue still renders (in Chinese, as written), so
old rows stay readable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils import translation
from django.utils.translation import get_language
from django.utils.translation import gettext as _

__all__ = ["choice_label", "is_stored_text", "label", "loaded_text", "render", "text"]


def text(msgid: str, /, **params: Any) -> dict[str, Any]:
    """The stored form of message ``msgid`` with ``params`` (JSON-able values or stored
    forms). Pass a lazy label (a field's ``get_FOO_display``) as ``text(str_msgid)``."""
    return {"msgid": str(msgid), "params": params}


def label(lazy: Any) -> dict[str, Any]:
    """The stored form of a translatable label (``gettext_lazy``, a choice's label): its
    message id, whatever language is active."""
    with translation.override(None):
        return {"msgid": str(lazy), "params": {}}


def choice_label(choices: Any, value: Any) -> str:
    """The label of ``value`` among ``choices`` (a ``TextChoices`` class) in the current
    language, or the value itself when it is none of them: what ``get_FOO_display()`` says,
    without it rebuilding and hashing every lazy label of the field on each call (a name read
    for thousands of rows — a form's device list — spent most of its time there)."""
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def is_stored_text(value: Any) -> bool:
    if isinstance(value, list):
        return any(is_stored_text(v) for v in value)
    return isinstance(value, Mapping) and ("msgid" in value or "zh" in value)


def render(value: Any) -> str:
    """A stored text as a sentence in the current language."""
    if isinstance(value, list):
        return "\n".join(render(v) for v in value)
    if isinstance(value, Mapping) and "msgid" in value:
        template = _(str(value["msgid"])) if value["msgid"] else ""
        params = value.get("params") or {}
        if not params:
            return template
        try:
            return template % {k: _param(v) for k, v in params.items()}
        except (KeyError, TypeError, ValueError):
            return template
    if isinstance(value, Mapping) and "zh" in value:
        english = (get_language() or "").startswith("en")
        return str(value.get("en") or value["zh"]) if english else str(value["zh"])
    return "" if value is None else str(value)


def _param(value: Any) -> Any:
    return render(value) if is_stored_text(value) else value


def loaded_text(value: Any) -> str:
    """A text kept with a record that people may also edit (a checklist item, a note loaded
    by a migration): a stored form rendered; a plain string translated when the catalogue
    knows it (the system loaded it, its message id), else shown as written."""
    if is_stored_text(value) or isinstance(value, list):
        return render(value)
    text = "" if value is None else str(value)
    return _(text) if text.strip() else text
