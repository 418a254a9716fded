"""What the ticket list shows and exports: :class:`TicketTable`.

Its columns are the ticket list's (sortable: ``?sort=-opened_at``) and the columns of the
ticket export (``/api/maintenance/tickets/export``), under the same headers.
``visible=False`` columns are exported only.
"""

from __future__ import annotations

from typing import Any

from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aquifer.core.tables import Field, Moment, Table, moment

__all__ = ["TicketTable"]


class TicketTable(Table):
    empty_hint = _("没有运维工单：设备都在正常上报。")
    number = Field(
        accessor="pk", verbose_name=_("编号"), linkify=True, order_by=("opened_at", "pk")
    )
    title = Field(verbose_name=_("标题"))
    state = Field(verbose_name=_("状态"))
    priority = Field(verbose_name=_("优先级"))
    source = Field(verbose_name=_("来源"))
    device = Field(verbose_name=_("设备"), order_by="device__station_address")
    township = Field(accessor="township__name", verbose_name=_("乡镇"), order_by="township__name")
    assignee = Field(verbose_name=_("处理人"), order_by="assignee__username")
    opened_at = Moment(verbose_name=_("创建时间"))
    due_at = Moment(verbose_name=_("处理时限"))
    closed_at = Moment(verbose_name=_("完成时间"), visible=False)
    resolution = Field(verbose_name=_("处理结果"), visible=False, orderable=False)

    def render_number(self, record: Any) -> str:
        return str(record.number)

    value_number = render_number

    def render_priority(self, value: Any, record: Any) -> Any:
        return format_html('<span class="badge {}">{}</span>', record.priority, value)

    def value_priority(self, value: Any) -> str:
        return str(value)

    def render_device(self, value: Any) -> str:
        return str(value)

    def render_assignee(self, value: Any) -> str:
        return str(value.get_username())

    value_assignee = render_assignee

    def render_due_at(self, value: Any, record: Any) -> Any:
        when = moment(value)
        if record.overdue:
            return format_html('{} <span class="badge overdue">{}</span>', when, gettext("已超时"))
        return when

    def value_due_at(self, value: Any) -> str:
        return moment(value)
