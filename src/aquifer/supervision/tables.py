"""What the supervision lists show and export: the ranking (:class:`ScoreTable`), the
rectification orders (:class:`OrderTable`).

Each table gives its page its columns and the Excel/CSV export the same columns under the
same headers (``core.tables.export_columns``).
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aquifer.core.tables import Field, Moment, Table

__all__ = ["OrderTable", "ScoreTable"]


class ScoreTable(Table):
    rank = Field(verbose_name=_("排名"))
    township = Field(accessor="township__name", verbose_name=_("乡镇"), order_by="township__code")
    points = Field(verbose_name=_("指标得分"))
    deductions = Field(verbose_name=_("扣分"))
    adjustment = Field(verbose_name=_("调整分"))
    total = Field(verbose_name=_("总分"))
    computed_at = Moment(verbose_name=_("计算时间"), visible=False)

    def render_township(self, value: Any, record: Any) -> Any:
        url = reverse(
            "supervision:assessment_township",
            args=[record.assessment.year, record.township_id],
        )
        return format_html('<a href="{}">{}</a>', url, value)

    def value_township(self, value: Any) -> str:
        return str(value)


class OrderTable(Table):
    number = Field(
        accessor="pk", verbose_name=_("编号"), linkify=True, order_by=("issued_at", "pk")
    )
    township = Field(accessor="township__name", verbose_name=_("乡镇"), order_by="township__name")
    owner = Field(verbose_name=_("取用水户"), order_by="owner__name")
    requirement = Field(verbose_name=_("整改要求"), orderable=False)
    responsible = Field(verbose_name=_("责任单位"))
    deadline = Field(verbose_name=_("整改期限"))
    state = Field(verbose_name=_("状态"))
    closed_at = Moment(verbose_name=_("销号时间"), visible=False)

    def render_number(self, record: Any) -> str:
        return str(record.number)

    value_number = render_number

    def render_owner(self, value: Any) -> str:
        return str(value)

    value_owner = render_owner

    def render_deadline(self, value: Any, record: Any) -> Any:
        if record.overdue:
            return format_html('{} <span class="badge overdue">{}</span>', value, gettext("已逾期"))
        return str(value)

    def value_deadline(self, value: Any) -> str:
        return str(value)
