"""What the permit lists can be filtered by: one FilterSet, for the page and the API.

:class:`PermitFilterSet` filters the permit list page (its form is the page's filter bar), the
quota-use page (its active permits), and the API's permit list, quota-use list and exports
(``/api/permits/?township_id=3&status=active``), whose documented query parameters are its
filters. A related record is given by its id and must be one the user can see.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from aquifer.core.filters import ChoiceFilter, FilterSet, RecordFilter, SearchFilter
from aquifer.permits.models import Permit, PermitStatus, WaterSource
from aquifer.registry.choices import UseType
from aquifer.registry.models import Township, WaterUser

__all__ = ["PermitFilterSet"]


class PermitFilterSet(FilterSet):
    q = SearchFilter(("number__icontains", "holder__name__icontains"), label=_("编号或持证人"))
    status = ChoiceFilter(label=_("状态"), choices=PermitStatus.choices)
    source = ChoiceFilter(label=_("水源类型"), choices=WaterSource.choices)
    use_type = ChoiceFilter(label=_("用水类型"), choices=UseType.choices)
    township_id = RecordFilter(
        Township, lambda qs: qs.filter(is_current=True), field_name="township", label=_("乡镇")
    )
    holder_id = RecordFilter(WaterUser, field_name="holder", label=_("持证人"), hidden=True)

    class Meta:
        model = Permit
        fields: list[str] = []
