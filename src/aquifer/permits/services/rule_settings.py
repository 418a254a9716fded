"""The bureau's settings of the rules: new versions of the rule settings and the
deep-groundwater emergency windows (audited).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aquifer.permits.models import EmergencyWindow, RuleSettings
from aquifer.permits.services.common import PermitError, _ctx, _username
from aquifer.permits.services.state import current_settings

__all__ = ["declare_window", "end_window", "save_settings"]


def save_settings(*, by: Any, document: str, **fields: Any) -> RuleSettings:
    """A new version of the rule settings (validated; the newest is in force; audited).

    Fields not given are carried over from the version in force.
    """
    prev = current_settings()
    carry = (
        "overloaded_townships",
        "overloaded_zones",
        "overloaded_sources",
        "county_cap_m3",
        "township_caps",
        "small_withdrawal_max_m3",
        "disabled_rules",
    )
    values = {k: getattr(prev, k) for k in carry} if prev is not None else {}
    unknown = set(fields) - set(carry) - {"note"}
    if unknown:
        raise PermitError(sorted(unknown)[0], _("未知设置项"))
    values.update(fields)
    if not document.strip():
        raise PermitError("document", _("请填写依据文件"))
    conf = RuleSettings(document=document.strip(), created_by=_username(by), **values)
    conf.full_clean()
    with transaction.atomic(), _ctx(by, "web", f"rule settings: {document}"):
        conf.save()
    return conf


def declare_window(
    *, name: str, start: date, end: date | None, document: str, reason: str, by: Any
) -> EmergencyWindow:
    """The bureau declares a deep-groundwater emergency window (audited)."""
    w = EmergencyWindow(
        name=name, start=start, end=end, document=document, reason=reason, declared_by=_username(by)
    )
    w.full_clean()
    with transaction.atomic(), _ctx(by, "web", f"emergency declared: {document}"):
        w.save()
    return w


def end_window(window: EmergencyWindow, *, end: date, by: Any) -> EmergencyWindow:
    """The bureau ends an emergency window (audited)."""
    if window.end is not None and window.end < timezone.localdate():
        raise PermitError("end", _("该应急期已结束"))
    window.end = end
    window.ended_by = _username(by)
    window.full_clean()
    with transaction.atomic(), _ctx(by, "web", f"emergency ended: {window.name}"):
        window.save()
    return window
