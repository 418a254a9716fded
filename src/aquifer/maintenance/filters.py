"""What the ticket list can be filtered by: one FilterSet, for the page and the API.

:class:`TicketFilterSet` filters the ticket list and board (its form is their filter bar) and
the API's ticket list and export (``/api/maintenance/tickets/?state=all&township_id=3``),
whose documented query parameters are its filters. ``state`` is ``open`` (new, assigned or in
progress) unless given. Related records are given by id and must be ones the user can see.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aquifer.core.filters import CheckboxFilter, ChoiceFilter, FilterSet, RecordFilter, SearchFilter
from aquifer.core.scoping import allowed
from aquifer.maintenance import workflow
from aquifer.maintenance.models import Priority, Ticket, TicketSource, TicketState
from aquifer.registry.models import Device, Township

__all__ = ["ALL", "OPEN", "TicketFilterSet"]

#: ``state``: the tickets not done (the default), and all of them.
OPEN = "open"
ALL = "all"


def _mine(qs: Any, request: Any) -> Any:
    return qs.filter(assignee_id=request.user.pk if request is not None else None)


def _overdue(qs: Any, request: Any) -> Any:
    return qs.filter(state__in=workflow.OPEN_STATES, due_at__lt=timezone.now())


class TicketFilterSet(FilterSet):
    state = ChoiceFilter(
        label=_("状态"),
        choices=[(OPEN, _("未完成")), (ALL, _("全部")), *TicketState.choices],
        empty_label=None,
        method="filter_state",
    )
    township_id = RecordFilter(
        Township, lambda qs: qs.order_by("code"), field_name="township", label=_("乡镇")
    )
    source = ChoiceFilter(label=_("来源"), choices=TicketSource.choices)
    priority = ChoiceFilter(label=_("优先级"), choices=Priority.choices)
    mine = CheckboxFilter(_mine, label=_("派给我的"))
    overdue = CheckboxFilter(_overdue, label=_("已超时"))
    device_id = RecordFilter(Device, field_name="device", label=_("设备"), hidden=True)
    assignee_id = django_filters.NumberFilter(
        field_name="assignee_id", label=_("处理人"), widget=forms.HiddenInput
    )
    q = SearchFilter(
        ("title__icontains", "description__icontains", "device__station_address__icontains")
    )

    class Meta:
        model = Ticket
        fields: list[str] = []

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        if data is not None and not data.get("state"):
            data = data.copy()
            data["state"] = OPEN
        super().__init__(data, *args, **kwargs)
        user = getattr(self.request, "user", None)
        # The filter bar offers what the user can use: a township only to who sees several;
        # "assigned to me" not to who only reports faults. (The filters still apply.)
        fields = self.form.fields
        if not allowed(user, "maintenance.all_townships"):
            fields["township_id"].widget = forms.HiddenInput()
        if allowed(user, "maintenance.fault_report"):
            fields["mine"].widget = forms.HiddenInput()

    def filter_state(self, qs: models.QuerySet[Ticket], name: str, value: str) -> Any:
        if value == OPEN:
            return qs.filter(state__in=workflow.OPEN_STATES)
        if value == ALL:
            return qs
        return qs.filter(state=value)
