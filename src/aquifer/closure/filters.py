"""What the programme list can be filtered by: one FilterSet, for the page, API and export."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from aquifer.closure.models import ClosureEntry, Method, Reason, Status
from aquifer.core.filters import ChoiceFilter, FilterSet, RecordFilter, SearchFilter
from aquifer.registry.models import Township

__all__ = ["ClosureFilterSet"]


class ClosureFilterSet(FilterSet):
    status = ChoiceFilter(label=_("状态"), choices=Status.choices)
    township_id = RecordFilter(
        Township, lambda qs: qs.order_by("code"), field_name="township", label=_("责任乡镇")
    )
    method = ChoiceFilter(label=_("关停方式"), choices=Method.choices)
    reason = ChoiceFilter(label=_("关停理由"), choices=Reason.choices, method="filter_reason")
    q = SearchFilter(("well__code__icontains", "well__name__icontains", "connection__icontains"))

    class Meta:
        model = ClosureEntry
        fields: list[str] = []

    def filter_reason(self, qs, name, value):  # type: ignore[no-untyped-def]
        # JSON "contains" is not on SQLite: the few programme wells are filtered in Python.
        ids = [pk for pk, reasons in qs.values_list("pk", "reasons") if value in (reasons or [])]
        return qs.filter(pk__in=ids)
