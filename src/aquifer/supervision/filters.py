"""What the rectification order list can be filtered by: one FilterSet for the page and the
API (``/api/supervision/orders/?state=open&township_id=3``). ``state`` is ``open`` (issued,
answered or sent back) unless given."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aquifer.core.filters import CheckboxFilter, ChoiceFilter, FilterSet, RecordFilter
from aquifer.registry.models import Township
from aquifer.supervision.models import OPEN_ORDER_STATES, OrderState, Rectification

__all__ = ["OrderFilterSet"]

OPEN = "open"
ALL = "all"


def _overdue(qs: Any, request: Any) -> Any:
    return qs.filter(state__in=OPEN_ORDER_STATES, deadline__lt=timezone.localdate())


class OrderFilterSet(FilterSet):
    state = ChoiceFilter(
        label=_("状态"),
        choices=[(OPEN, _("未销号")), (ALL, _("全部")), *OrderState.choices],
        empty_label=None,
        method="filter_state",
    )
    township_id = RecordFilter(
        Township, lambda qs: qs.order_by("code"), field_name="township", label=_("乡镇")
    )
    overdue = CheckboxFilter(_overdue, label=_("已逾期"))

    class Meta:
        model = Rectification
        fields: list[str] = []

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        if data is not None and not data.get("state"):
            data = data.copy()
            data["state"] = OPEN
        super().__init__(data, *args, **kwargs)

    def filter_state(self, qs: models.QuerySet[Rectification], name: str, value: str) -> Any:
        if value == OPEN:
            return qs.filter(state__in=OPEN_ORDER_STATES)
        if value == ALL:
            return qs
        return qs.filter(state=value)
