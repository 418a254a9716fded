"""What the complaint list can be filtered by: one FilterSet, for the page and the API.

``state`` is ``open`` (new or accepted: a reply still owed) unless given.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aquifer.core.filters import CheckboxFilter, ChoiceFilter, FilterSet, RecordFilter, SearchFilter
from aquifer.core.scoping import allowed
from aquifer.portal.models import OPEN_STATES, Complaint, ComplaintCategory, ComplaintState
from aquifer.registry.models import Township

__all__ = ["ALL", "OPEN", "ComplaintFilterSet"]

OPEN = "open"
ALL = "all"


def _overdue(qs: Any, request: Any) -> Any:
    return qs.filter(state__in=OPEN_STATES, due_at__lt=timezone.now())


def _bureau(qs: Any, request: Any) -> Any:
    return qs.filter(township__isnull=True)


class ComplaintFilterSet(FilterSet):
    state = ChoiceFilter(
        label=_("状态"),
        choices=[(OPEN, _("待答复")), (ALL, _("全部")), *ComplaintState.choices],
        empty_label=None,
        method="filter_state",
    )
    category = ChoiceFilter(label=_("类别"), choices=ComplaintCategory.choices)
    township_id = RecordFilter(
        Township, lambda qs: qs.order_by("code"), field_name="township", label=_("乡镇")
    )
    bureau = CheckboxFilter(_bureau, label=_("县水务局承办"))
    overdue = CheckboxFilter(_overdue, label=_("已超期"))
    q = SearchFilter(("number__icontains", "description__icontains", "place__icontains"))

    class Meta:
        model = Complaint
        fields: list[str] = []

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        if data is not None and not data.get("state"):
            data = data.copy()
            data["state"] = OPEN
        super().__init__(data, *args, **kwargs)
        if not allowed(getattr(self.request, "user", None), "portal.all_complaints"):
            self.form.fields["township_id"].widget = forms.HiddenInput()
            self.form.fields["bureau"].widget = forms.HiddenInput()

    def filter_state(self, qs: models.QuerySet[Complaint], name: str, value: str) -> Any:
        if value == OPEN:
            return qs.filter(state__in=OPEN_STATES)
        if value == ALL:
            return qs
        return qs.filter(state=value)
