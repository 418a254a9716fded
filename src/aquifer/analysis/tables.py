"""What the analysis lists show and export: one Table per list.

:class:`WellTrendTable` is over computed rows (a monitoring well and its newest trend, or
none); :class:`QualitySampleTable` over the samples. Each gives its page the columns (sortable)
and its export (``?format=xlsx``) the same columns under the same headers; ``visible=False``
columns are exported only. The exports keep the trend and status codes (``increasing``,
``rising``), the pages show their labels.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aquifer.analysis.models import STATUS_COLOURS, trend_label
from aquifer.core.tables import Field, Moment, Table

__all__ = ["NO_DATA", "QualitySampleTable", "WellTrendTable"]

#: The status of a well without a trend.
NO_DATA = "not enough data"


class Number(Field):
    """A float to ``places`` decimals on the page, as computed in the exports."""

    def __init__(self, *args: Any, places: int = 3, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.places = places

    def render(self, value: Any, table: Any = None) -> Any:
        return f"{value:.{self.places}f}"

    def value(self, value: Any) -> Any:
        return value


class WellTrendTable(Table):
    """Rows: ``{"id": the monitoring well's id, "mw": MonitoringWell, "trend": WellTrend or
    None}``."""

    well = Field(accessor="mw__well__code", verbose_name=_("井编号"))
    township = Field(accessor="mw__well__township__name", verbose_name=_("乡镇"))
    zone = Field(accessor="mw__well__zone__name", verbose_name=_("分区"))
    computed_on = Field(accessor="trend__computed_on", verbose_name=_("计算日期"), visible=False)
    element = Field(accessor="trend__element", verbose_name=_("监测要素"), visible=False)
    months = Field(accessor="trend__months", verbose_name=_("月数"), default=0)
    trend = Field(accessor="trend__trend", verbose_name=_("趋势"))
    p = Number(accessor="trend__p", verbose_name="p", visible=False, places=4)
    slope = Number(
        accessor="trend__slope_per_year", verbose_name=_("Sen 斜率 (m/年)"), visible=False
    )
    level_slope = Number(accessor="trend__level_slope_per_year", verbose_name=_("水位变化 (m/年)"))
    change = Number(accessor="trend__same_month_change", verbose_name=_("同期变幅 (m)"), places=2)
    status = Field(accessor="trend__status", verbose_name=_("恢复状态"), empty_values=())

    def render_well(self, value: Any, record: Any) -> Any:
        url = reverse("analysis:well_detail", args=[record["mw"].pk])
        return format_html('<a href="{}">{}</a>', url, value)

    def value_well(self, value: Any) -> Any:
        return value

    def render_trend(self, value: str) -> str:
        return trend_label(value)

    def value_trend(self, value: Any) -> Any:
        return value

    def render_status(self, value: Any) -> Any:
        code = value or NO_DATA
        return format_html(
            '<span class="swatch dot" style="background: {}"></span> {}',
            STATUS_COLOURS.get(code, ""),
            trend_label(code),
        )

    def value_status(self, value: Any) -> str:
        return str(value or NO_DATA)


class QualitySampleTable(Table):
    sample_id = Field(verbose_name=_("样品编号"), linkify=True)
    well = Field(accessor="well__code", verbose_name=_("井编号"))
    township = Field(accessor="well__township__name", verbose_name=_("乡镇"))
    sampled_at = Moment(verbose_name=_("采样时间"))
    lab = Field(verbose_name=_("检测单位"))
    klass = Field(accessor="label", verbose_name=_("水质类别"), order_by="klass")
    deciding = Field(verbose_name=_("决定类别的指标"), orderable=False, empty_values=())
    illustrative = Field(verbose_name=_("示例数据"), visible=False)

    def render_sample_id(self, value: Any, record: Any) -> Any:
        if record.illustrative:
            return format_html('{} <small class="note">{}</small>', value, gettext("示例"))
        return value

    def value_sample_id(self, value: Any) -> Any:
        return value

    def render_deciding(self, value: Any) -> str:
        return "、".join(value or [])

    value_deciding = render_deciding

    def value_illustrative(self, value: Any) -> str:
        return gettext("是") if value else ""
