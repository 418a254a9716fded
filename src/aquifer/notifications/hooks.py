"""Hooks of the notifications app (core/hooks.py; docs/architecture.md, "Hooks").

``notice_text``: a notice stored with an app's message code (``Notice.message``) is rendered
by the app that sent it: ``fn(code, params) -> (title, body)`` in the active language (a part
it cannot render None: the notice shows that part as sent), or None for a code that is not
the function's. Monitoring answers for ``alarm:…`` codes.
"""

from __future__ import annotations

from aquifer.core.hooks import Hook

__all__ = ["notice_text"]

notice_text: Hook[tuple[str | None, str | None] | None] = Hook(
    "notice_text", "(code, params) -> (title, body) in the active language, or None"
)
