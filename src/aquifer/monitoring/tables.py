"""What the alarm board shows and exports: :class:`AlarmTable`.

Its columns are the board's (sortable: ``?sort=opened_at``, ``?sort=-severity``; the board
adds the row actions, page only) and the columns of the alarm export
(``/api/alarms/export``), under the same headers. ``visible=False`` columns are exported only.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from aquifer.core.tables import Field, Moment, Table

__all__ = ["AlarmTable"]


class AlarmTable(Table):
    """Over alarms annotated with ``township_name`` (the board joins no township)."""

    empty_hint = _("没有告警：设备都在正常上报。")

    severity = Field(verbose_name=_("级别"))
    kind = Field(verbose_name=_("告警类型"))
    title = Field(accessor="display_title", verbose_name=_("标题"), orderable=False)
    township = Field(accessor="township_name", verbose_name=_("乡镇"), order_by="township__name")
    opened_at = Moment(verbose_name=_("发生时间"))
    count = Field(verbose_name=_("次数"))
    due_at = Moment(verbose_name=_("处理时限"))
    state = Field(verbose_name=_("状态"))
    closed_at = Moment(verbose_name=_("关闭时间"), visible=False)
    note = Field(verbose_name=_("处理说明"), visible=False, orderable=False)
