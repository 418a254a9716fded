"""What every workflow of the permits app shares: the refusal (:class:`PermitError`), the
settings (``settings.AQUIFER["PERMITS"]``), the working-day calendar and the audit context.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import nullcontext
from datetime import date
from typing import Any

from django.conf import settings

from aquifer.core.audit import audit_context, current
from aquifer.permits.rules import Flag
from aquifer.permits.workdays import Calendar, default_calendar

__all__ = ["DEFAULTS", "PermitError", "calendar", "permit_setting"]


#: Defaults of ``settings.AQUIFER["PERMITS"]`` (each key may be overridden there).
DEFAULTS: dict[str, Any] = {
    # No national numbering rule is in standards.md: the format is the bureau's setting.
    # Fields: {year}, {seq} (per year), {county} (COUNTY_CODE), {source} (G shallow/deep, S).
    "NUMBER_FORMAT": "取水(晋阳)字[{year}]第{seq:04d}号",
    # 取水许可和水资源费征收管理条例 art. 19: decision within 45 working days of acceptance.
    "DECISION_WORKING_DAYS": 45,
    # Raise permit_deadline when an open application has at most this many working days left.
    "DEADLINE_WARNING_WORKING_DAYS": 10,
    # art. 25: apply for renewal 45 days before expiry; remind this many days before that.
    "RENEWAL_LEAD_DAYS": 45,
    "RENEWAL_WARNING_DAYS": 30,
    # art. 44: cancelled after 2 consecutive years without abstraction.
    "UNUSED_YEARS": 2,
    # Extra calendar data (ISO dates), e.g. the 2027 State Council notice when it appears.
    "HOLIDAYS": [],
    "EXTRA_WORKDAYS": [],
    "HOLIDAY_YEARS": [],
}


class PermitError(ValueError):
    """A workflow step that cannot be taken (field → message)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def permit_setting(key: str) -> Any:
    """A permits setting: ``settings.AQUIFER["PERMITS"][key]``, else the default."""
    conf = settings.AQUIFER.get("PERMITS", {}) or {}
    return conf.get(key, DEFAULTS[key])


def calendar() -> Calendar:
    """The working-day calendar with the settings' extra dates."""
    return default_calendar(
        [date.fromisoformat(d) for d in permit_setting("HOLIDAYS")],
        [date.fromisoformat(d) for d in permit_setting("EXTRA_WORKDAYS")],
        [int(y) for y in permit_setting("HOLIDAY_YEARS")],
    )


def _flags(values: Iterable[str]) -> frozenset[Flag]:
    return frozenset(Flag(v) for v in values)


def _username(by: Any) -> str:
    if by is not None and getattr(by, "is_authenticated", False):
        return str(by.get_username())
    return current().actor()[1]


def _ctx(by: Any, source: str, reason: str) -> Any:
    """An audit context naming ``by`` unless the request already does."""
    ctx = current()
    if ctx.request is not None or ctx.user is not None:
        return nullcontext()
    return audit_context(user=by, source=source or "system", reason=reason)
