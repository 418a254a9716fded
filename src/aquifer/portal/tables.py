"""What the complaint list shows and exports: :class:`ComplaintTable` (the filer's identity is
not a column: the bureau sees it on the complaint's page only)."""

from __future__ import annotations

from typing import Any

from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aquifer.core.tables import Field, Moment, Table, moment

__all__ = ["ComplaintTable"]


class ComplaintTable(Table):
    number = Field(verbose_name=_("受理编号"), linkify=True, order_by=("filed_at", "pk"))
    category = Field(verbose_name=_("类别"))
    state = Field(verbose_name=_("状态"))
    handler = Field(
        accessor="township__name",
        verbose_name=_("承办单位"),
        order_by="township__name",
        empty_values=(),
    )
    place = Field(verbose_name=_("地点说明"), orderable=False)
    filed_at = Moment(verbose_name=_("提交时间"))
    due_at = Moment(verbose_name=_("答复期限"))
    replied_at = Moment(verbose_name=_("答复时间"), visible=False)
    closed_at = Moment(verbose_name=_("办结时间"), visible=False)
    lon = Field(verbose_name=_("经度"), visible=False)
    lat = Field(verbose_name=_("纬度"), visible=False)
    description = Field(verbose_name=_("问题描述"), visible=False, orderable=False)
    reply = Field(verbose_name=_("答复意见"), visible=False, orderable=False)

    def render_handler(self, value: Any, record: Any) -> str:
        return str(record.handler)

    def value_handler(self, value: Any, record: Any) -> str:
        return str(record.handler)

    def render_due_at(self, value: Any, record: Any) -> Any:
        when = moment(value)
        if record.overdue:
            return format_html('{} <span class="badge overdue">{}</span>', when, gettext("已超期"))
        return when

    def value_due_at(self, value: Any) -> str:
        return moment(value)
