"""What the programme list shows and exports: :class:`ClosureTable`.

Its columns are the list page's (sortable) and the Excel export's (``/closure/export`` and
``/api/closure/entries/export``), under the same headers; ``visible=False`` columns are
exported only.
"""

from __future__ import annotations

from typing import Any

from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from aquifer.closure.models import STATUS_COLOURS
from aquifer.core.tables import Field, Moment, Table

__all__ = ["ClosureTable"]


class ClosureTable(Table):
    well = Field(
        accessor="well__code", verbose_name=_("井编号"), linkify=True, order_by="well__code"
    )
    township = Field(
        accessor="township__name", verbose_name=_("责任乡镇"), order_by="township__code"
    )
    reasons = Field(verbose_name=_("关停理由"), orderable=False)
    status = Field(verbose_name=_("状态"))
    method = Field(verbose_name=_("关停方式"))
    deadline = Field(verbose_name=_("关停期限"))
    replacement = Field(
        accessor="replacement_work__name",
        verbose_name=_("替代水源"),
        order_by="replacement_work__code",
    )
    connection = Field(verbose_name=_("接水方式"), visible=False, orderable=False)
    baseline_m3 = Field(verbose_name=_("关停前年取水量 (m³)"))
    baseline_basis = Field(verbose_name=_("取水量依据"), visible=False)
    closed_at = Moment(verbose_name=_("关停时间"))
    verified_on = Field(verbose_name=_("核验日期"), visible=False)

    def render_well(self, record: Any) -> str:
        return str(record.well.code)

    value_well = render_well

    def render_reasons(self, record: Any) -> str:
        return "、".join(record.reason_labels())

    value_reasons = render_reasons

    def render_status(self, value: Any, record: Any) -> Any:
        return format_html(
            '<span class="badge" style="background:{}">{}</span>',
            STATUS_COLOURS.get(record.status, "#999"),
            value,
        )

    def value_status(self, value: Any) -> str:
        return str(value)

    def render_baseline_m3(self, value: Any) -> str:
        return f"{float(value):,.0f}"

    def value_baseline_m3(self, value: Any) -> Any:
        return round(float(value), 1)
