"""What the permit lists can be filtered by: one FilterSet, for the page and the API.

:class:`PermitFilterSet` filters the permit list page (its form is the page's filter bar), the
quota-use page (its active permits), and the API's permit list, quota-use list and exports
(``/api/permits/?township_id=3&status=active``), whose documented query parameters are its
filters. A related record is given by its id and must be one the user can see.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models import F, FloatField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aquifer.accounting import service as accounting
from aquifer.accounting.models import WithdrawalMonth
from aquifer.core.filters import (
    CheckboxFilter,
    ChoiceFilter,
    FilterSet,
    RecordFilter,
    SearchFilter,
    WithinFilter,
)
from aquifer.permits.models import (
    OPEN_APPLICATION,
    Permit,
    PermitApplication,
    PermitStatus,
    WaterSource,
)
from aquifer.permits.services.common import calendar
from aquifer.registry.choices import UseType
from aquifer.registry.models import Township, WaterUser

__all__ = ["PermitFilterSet", "over_quota", "used_this_year"]


def _year(request: Any) -> int:
    try:
        return int(request.GET.get("year")) if request is not None else timezone.localdate().year
    except (TypeError, ValueError):
        return timezone.localdate().year


def used_this_year(year: int) -> Subquery:
    """A permit's withdrawal in ``year`` from the stored monthly volumes of its wells (one
    correlated subquery, so a count of overruns is one SQL statement)."""
    used = (
        WithdrawalMonth.objects.filter(year=year, well__permits=OuterRef("pk"))
        .order_by()
        .values("well__permits")
        .annotate(total=Sum(F("metered_m3") + F("estimated_m3")))
        .values("total")
    )
    return Subquery(used, output_field=FloatField())


def over_quota(qs: Any, year: int) -> Any:
    """The active permits of ``qs`` whose withdrawal in ``year`` is above their annual quota.

    Read from the stored monthly figures, made fresh first as the quota-use rows make them
    (reports.quota_rows): the filtered list and the home page's count agree with the
    page's used / quota."""
    accounting.ensure_fresh(year)
    return (
        qs.filter(status=PermitStatus.ACTIVE)
        .annotate(used_m3=Coalesce(used_this_year(year), Value(0.0)))
        .filter(used_m3__gt=F("annual_quota_m3"))
    )


class PermitFilterSet(FilterSet):
    q = SearchFilter(("number__icontains", "holder__name__icontains"), label=_("编号或持证人"))
    status = ChoiceFilter(label=_("状态"), choices=PermitStatus.choices)
    source = ChoiceFilter(label=_("水源类型"), choices=WaterSource.choices)
    use_type = ChoiceFilter(label=_("用水类型"), choices=UseType.choices)
    township_id = RecordFilter(
        Township, lambda qs: qs.filter(is_current=True), field_name="township", label=_("乡镇")
    )
    holder_id = RecordFilter(WaterUser, field_name="holder", label=_("持证人"), hidden=True)
    # From the home page's figures (core/morning.py), hidden from the filter bar:
    over_quota = CheckboxFilter(
        lambda qs, request: over_quota(qs, _year(request)),
        label=_("超许可水量"),
        widget=forms.HiddenInput,
    )
    due_within = WithinFilter(
        method="filter_due_within", label=_("申请决定期限在 N 个工作日内"), max_value=250
    )
    expires_within = WithinFilter(
        method="filter_expires_within", label=_("有效期在 N 天内届满"), max_value=3660
    )

    class Meta:
        model = Permit
        fields: list[str] = []

    def filter_due_within(self, qs: Any, name: str, value: Any) -> Any:
        """Permits with an open application whose decision is due within ``value`` working
        days (or overdue)."""
        last = calendar().add_working_days(timezone.localdate(), int(value))
        due = PermitApplication.objects.filter(
            permit=OuterRef("pk"), status__in=OPEN_APPLICATION, deadline__lte=last
        )
        return qs.filter(pk__in=due.values("permit"))

    def filter_expires_within(self, qs: Any, name: str, value: Any) -> Any:
        """Active permits whose term ends within ``value`` days (or has ended)."""
        last = timezone.localdate() + dt.timedelta(days=int(value))
        return qs.filter(status=PermitStatus.ACTIVE, valid_until__lte=last)
