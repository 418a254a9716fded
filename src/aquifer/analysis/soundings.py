"""Manual level soundings (人工测量) of monitoring wells: one validated write path.

Used by the API and the well page. A sounding is depth to water or water level in metres at a
time; the same well, element and time twice is refused (the stored one is never overwritten).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from aquifer.analysis.models import LevelElement, LevelMeasurement
from aquifer.core.roles import Action
from aquifer.core.scoping import can, visible_to
from aquifer.registry.models import MonitoringWell
from aquifer.telemetry.elements import ELEMENTS

__all__ = ["record"]


def record(
    user: Any,
    monitoring_well: int | None,
    element: str,
    measured_at: dt.datetime | None,
    value: float | None,
    note: str = "",
) -> LevelMeasurement:
    """Validate and store one sounding; ``ValidationError`` names every bad field."""
    errors: dict[str, list[str]] = {}
    mw = (
        visible_to(user, Action.VIEW, MonitoringWell).filter(pk=monitoring_well).first()
        if monitoring_well is not None
        else None
    )
    if mw is None:
        errors["monitoring_well"] = [_("没有这个监测井。")]
    elif not mw.monitors_level:
        errors["monitoring_well"] = [_("此监测井不监测水位。")]
    elif not can(user, Action.ADD, LevelMeasurement(monitoring_well=mw)):
        errors["monitoring_well"] = [_("您无权为此监测井录入人工测量。")]
    if element not in LevelElement.values:
        errors["element"] = [_("监测要素应为 depth_to_water 或 water_level。")]
    if measured_at is None:
        errors["measured_at"] = [_("请填写测量时间。")]
    else:
        if timezone.is_naive(measured_at):
            measured_at = timezone.make_aware(measured_at, timezone.get_current_timezone())
        if measured_at > timezone.now() + dt.timedelta(hours=1):
            errors["measured_at"] = [_("测量时间不能晚于现在。")]
    if value is None:
        errors["value"] = [_("请填写数值。")]
    elif element in LevelElement.values and not ELEMENTS[element].in_range(value):
        lo, hi = ELEMENTS[element].plausible
        errors["value"] = [_("数值应在 %(lo)s 到 %(hi)s 米之间。") % {"lo": lo, "hi": hi}]
    if len(note) > 200:
        errors["note"] = [_("备注不能超过200个字符。")]
    if errors:
        raise ValidationError(errors)
    assert mw is not None and measured_at is not None and value is not None
    if LevelMeasurement.objects.filter(
        monitoring_well=mw, element=element, measured_at=measured_at
    ).exists():
        raise ValidationError({"measured_at": [_("这一时间已有测量记录。")]})
    return LevelMeasurement.objects.create(
        monitoring_well=mw, element=element, measured_at=measured_at, value=value, note=note
    )
