"""What the enforcement lists show and export: cases, the metering compliance list, credit."""

from __future__ import annotations

from typing import Any

from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aquifer.core.tables import Field, Moment, Table, moment

__all__ = ["CaseTable", "CreditTable", "MeteringTable"]


class CaseTable(Table):
    empty_hint = _("没有执法案件：告警、巡查或举报需要立案时，用“登记案件”开始。")
    number = Field(
        accessor="pk", verbose_name=_("案号"), linkify=True, order_by=("opened_at", "pk")
    )
    title = Field(verbose_name=_("案件名称"))
    kind = Field(verbose_name=_("案由"))
    source = Field(verbose_name=_("案件来源"))
    state = Field(verbose_name=_("状态"))
    party = Field(verbose_name=_("当事人"))
    township = Field(accessor="township__name", verbose_name=_("乡镇"), order_by="township__name")
    opened_at = Moment(verbose_name=_("登记时间"))
    due_at = Moment(verbose_name=_("当前期限"))
    decided_amount = Field(verbose_name=_("决定罚款 (元)"))
    facts = Field(verbose_name=_("违法事实"), visible=False, orderable=False)

    def render_number(self, record: Any) -> str:
        return str(record.number)

    value_number = render_number

    def render_due_at(self, value: Any, record: Any) -> Any:
        when = moment(value)
        if record.overdue:
            return format_html('{} <span class="badge overdue">{}</span>', when, gettext("已超期"))
        return when

    def value_due_at(self, value: Any) -> str:
        return moment(value)


class MeteringTable(Table):
    """Rows: :class:`aquifer.enforcement.compliance.MeteringRow`."""

    township = Field(verbose_name=_("乡镇"))
    code = Field(verbose_name=_("井编号"))
    owner = Field(verbose_name=_("取用水户"))
    permitted_m3 = Field(verbose_name=_("许可水量 (m³/年)"))
    metered = Field(verbose_name=_("有计量设施"))
    online_required = Field(verbose_name=_("应在线计量"))
    online = Field(verbose_name=_("在线"))
    problem_label = Field(verbose_name=_("问题"), orderable=False)


class CreditTable(Table):
    water_user = Field(verbose_name=_("取用水户"), order_by="water_user__name")
    kind = Field(verbose_name=_("违法行为"))
    basis = Field(verbose_name=_("处罚依据"), orderable=False)
    amount = Field(verbose_name=_("罚款 (元)"))
    decided_on = Field(verbose_name=_("决定日期"))
    final_on = Field(verbose_name=_("生效日期"))

    def render_water_user(self, value: Any) -> str:
        return str(value)
