"""The portal's extension points for the governance apps below it (closure, enforcement,
supervision), which the portal may import but which are written elsewhere.

**Public panels.** Each is a section of the portal's "progress" page (``/portal/progress/``)
and of its API (``GET /api/portal/panels``): a title, a short explanation, column headers
and a function returning rows (lists of plain values, already public: nothing personal).
Register one with :func:`register_panel` — in ``PANEL_MODULES`` below, or from
``PortalConfig.ready()``::

    register_panel(Panel("closure", _("封井进度"), _("…"), [_("乡镇"), _("已封"), _("计划")],
                         closure.public.progress_rows))

The sections the issue asks for and their keys: ``closure`` (closure progress),
``assessment`` (published assessment results), ``enforcement`` (published enforcement
decisions), ``credit`` (credit records). Until an app registers, its section says
"not yet published".

**Case openers.** A complaint "can open an inspection or an enforcement case": each opener
(:class:`CaseOpener`) is a button on the complaint's staff page; its ``open`` function
creates the case in its app and returns (id, label, url); the portal then records the link
(``services.link_case``) that the filer sees. Register with :func:`register_opener`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

__all__ = [
    "EXPECTED",
    "CaseOpener",
    "Panel",
    "openers",
    "panels",
    "register_opener",
    "register_panel",
]


@dataclass(frozen=True)
class Panel:
    key: str
    title: Any
    explanation: Any
    headers: Sequence[Any]
    rows: Callable[[], list[list[Any]]]


@dataclass(frozen=True)
class CaseOpener:
    kind: str  # "inspection", "enforcement"
    label: Any  # the button: 立案检查 …
    open: Callable[[Any, Any], tuple[Any, str, str]]  # (complaint, user) -> (id, label, url)
    may: Callable[[Any], bool] = field(default=lambda user: True)


#: The sections the public expects, in order, with their titles (shown empty until filled).
EXPECTED: dict[str, Any] = {
    "closure": _("地下水取水井关停进度"),
    "assessment": _("考核结果公示"),
    "enforcement": _("行政处罚决定公示"),
    "credit": _("信用记录"),
}

_PANELS: dict[str, Panel] = {}
_OPENERS: dict[str, CaseOpener] = {}


def register_panel(panel: Panel) -> None:
    _PANELS[panel.key] = panel


def register_opener(opener: CaseOpener) -> None:
    _OPENERS[opener.kind] = opener


def panels() -> list[tuple[str, Any, Panel | None]]:
    """(key, title, panel or None) for the expected sections, then any others registered."""
    out: list[tuple[str, Any, Panel | None]] = [
        (key, _PANELS[key].title if key in _PANELS else title, _PANELS.get(key))
        for key, title in EXPECTED.items()
    ]
    out += [(k, p.title, p) for k, p in _PANELS.items() if k not in EXPECTED]
    return out


def openers(user: Any) -> list[CaseOpener]:
    return [o for o in _OPENERS.values() if o.may(user)]
