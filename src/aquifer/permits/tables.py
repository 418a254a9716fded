"""What the permit lists show and export: one Table per list.

:class:`PermitTable` is the permit list's (sortable columns; the exports' columns).
:class:`QuotaUseTable` and :class:`LedgerTable` are over computed rows (quota use: the
:class:`~aquifer.permits.reports.QuotaRow` of each active permit; ledger: the dicts of
:func:`~aquifer.permits.reports.ledger`), so that their pages and their exports have the same
columns under the same headers. ``visible=False`` columns are exported but not shown.
"""

from __future__ import annotations

from typing import Any

from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aquifer.core.tables import Field, Table

__all__ = ["LedgerTable", "PermitTable", "QuotaUseTable"]


class Volume(Field):
    """A volume in m³: whole on the page, to 0.1 m³ in the exports."""

    def render(self, value: Any, table: Any = None) -> Any:
        return f"{value:.0f}"

    def value(self, value: Any) -> Any:
        return round(value, 1) if isinstance(value, float) else super().value(value)


class PermitTable(Table):
    empty_hint = _("还没有取水许可：取用水户提交申请、审批通过后在此列出。")
    # A permit not yet numbered goes by its application (Permit.__str__): always rendered.
    number = Field(empty_values=())
    holder = Field()
    township = Field()
    source = Field()
    use_type = Field()
    annual_quota_m3 = Field()
    valid_from = Field(visible=False)
    valid_until = Field()
    status = Field()
    wells = Field(empty_values=(), orderable=False, visible=False)

    def render_number(self, record: Any) -> Any:
        return format_html('<a href="{}">{}</a>', record.get_absolute_url(), record)

    def value_number(self, record: Any) -> str:
        return record.number or ""

    def render_status(self, value: Any, record: Any) -> Any:
        if record.unused_since:
            return f"{value} · {gettext('连续两年未取水')}"
        return value

    def value_status(self, value: Any) -> str:
        return str(value)

    def value_wells(self, record: Any) -> str:
        return ", ".join(w.code for w in record.wells.all())

    render_wells = value_wells


class QuotaUseTable(Table):
    """Used / quota of each active permit in a year (reports.QuotaRow)."""

    number = Field(
        accessor="permit__number", verbose_name=_("许可证编号"), order_by="permit__number"
    )
    holder = Field(
        accessor="permit__holder", verbose_name=_("持证人"), order_by="permit__holder__name"
    )
    township = Field(
        accessor="permit__township", verbose_name=_("乡镇"), order_by="permit__township__code"
    )
    year = Field(verbose_name=_("年份"), visible=False)
    quota_m3 = Field(verbose_name=_("年许可水量 (m³)"))
    used_m3 = Volume(verbose_name=_("已取水量 (m³)"))
    estimated_m3 = Volume(verbose_name=_("其中估算 (m³)"))
    share = Field(verbose_name=_("使用率"))

    def render_number(self, record: Any) -> Any:
        url = f"{record.permit.get_absolute_url()}?year={record.year}"
        return format_html('<a href="{}">{}</a>', url, record.permit)

    def value_number(self, record: Any) -> str:
        return record.permit.number or ""

    def render_holder(self, value: Any) -> str:
        return str(value)

    render_township = render_holder

    def render_share(self, value: float) -> str:
        return f"{round(value * 100)} %"

    def value_share(self, value: float) -> float:
        return round(value, 4)


class LedgerTable(Table):
    """Allowable vs permitted vs metered: a row per zone, per township and the county's."""

    level = Field(verbose_name=_("层级"), visible=False)
    code = Field(verbose_name=_("编号"))
    name = Field(verbose_name=_("名称"))
    kind = Field(accessor="kind_label", verbose_name=_("分区类型"))
    layer = Field(accessor="layer_label", verbose_name=_("含水层"))
    allowable_m3 = Field(verbose_name=_("可开采量/指标 (m³/年)"))
    permitted_m3 = Field(verbose_name=_("许可水量 (m³/年)"))
    metered_m3 = Field(verbose_name=_("取水量 (m³)"))
    estimated_m3 = Field(verbose_name=_("其中估算 (m³)"))

    class Meta(Table.Meta):
        orderable = False
