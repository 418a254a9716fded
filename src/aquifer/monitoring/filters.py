"""What the alarm board can be filtered by: one FilterSet, for the page and the API.

:class:`AlarmFilterSet` filters the alarm board (its form is the board's filter bar) and the
API's alarm list (``/api/alarms/?township_id=3&state=active``), whose documented query
parameters are its filters. A township is one the user may choose (a township officer: their
own); a device (``device_id``, the API's and links' only) one the user can see. ``overdue``
(a tick box; ``true`` in the API) keeps the open alarms past their due time.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aquifer.core.filters import CheckboxFilter, ChoiceFilter, FilterSet, RecordFilter
from aquifer.monitoring.models import Alarm, AlarmKind, AlarmSeverity, AlarmState
from aquifer.registry.models import Device, Township

__all__ = ["ACTIVE", "AlarmFilterSet"]

#: The ``state`` of the alarms not closed yet (open or acknowledged): the board's default.
ACTIVE = "active"


class AlarmFilterSet(FilterSet):
    township_id = RecordFilter(
        Township,
        lambda qs: qs.filter(is_current=True).order_by("code").only("id", "name"),
        action="choose",
        field_name="township",
        label=_("乡镇"),
    )
    kind = ChoiceFilter(label=_("告警类型"), choices=AlarmKind.choices)
    state = ChoiceFilter(
        label=_("状态"),
        choices=[(ACTIVE, _("未关闭")), *AlarmState.choices],
        method="filter_state",
    )
    severity = ChoiceFilter(label=_("级别"), choices=AlarmSeverity.choices)
    overdue = CheckboxFilter(
        lambda qs, request: qs.filter(closed_at__isnull=True, due_at__lt=timezone.now()),
        label=_("已逾期"),
    )
    device_id = RecordFilter(Device, field_name="device", label=_("设备"), hidden=True)

    class Meta:
        model = Alarm
        fields: list[str] = []

    def filter_state(self, qs: Any, name: str, value: str) -> Any:
        if value == ACTIVE:
            return qs.filter(closed_at__isnull=True)  # open or acknowledged
        return qs.filter(state=value)
