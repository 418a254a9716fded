"""Forms of the permit pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from aquifer.core.roles import Action
from aquifer.core.scoping import visible_to
from aquifer.core.widgets import PlainSelect, PlainSelectMultiple
from aquifer.permits.models import ApplicationKind, WaterSource
from aquifer.permits.rules import Flag
from aquifer.registry.choices import UseType
from aquifer.registry.models import WaterUser, Well

FLAG_LABELS = {
    Flag.DOMESTIC: _("生活用水"),
    Flag.EMERGENCY_SAFETY: _("地下工程施工或安全生产临时应急取（排）水"),
    Flag.PUBLIC_SAFETY: _("消除公共安全隐患临时应急取水"),
    Flag.MONITORING_TEST: _("监测、勘探、试验少量取水"),
    Flag.WATER_RIGHTS_TRADE: _("水量经水权交易取得"),
    Flag.POVERTY_ALLEVIATION: _("脱贫攻坚项目"),
}


class ApplyForm(forms.Form):
    # The county's water users and wells: thousands of options, written out plainly.
    holder: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("持证人"), queryset=None, widget=PlainSelect
    )
    wells: forms.ModelMultipleChoiceField[Any] = forms.ModelMultipleChoiceField(
        label=_("取水井"), queryset=None, required=False, widget=PlainSelectMultiple
    )
    source = forms.ChoiceField(label=_("水源类型"), choices=WaterSource.choices)
    use_type = forms.ChoiceField(label=_("用水类型"), choices=UseType.choices)
    annual_quota_m3 = forms.IntegerField(label=_("申请年水量 (m³)"), min_value=1)
    term_years = forms.IntegerField(label=_("有效期 (年)"), min_value=1, max_value=10, initial=5)
    flags = forms.MultipleChoiceField(
        label=_("申报情形"),
        required=False,
        choices=[(k.value, v) for k, v in FLAG_LABELS.items()],
        widget=forms.CheckboxSelectMultiple,
    )
    purpose = forms.CharField(label=_("取水用途说明"), max_length=200, required=False)
    statement = forms.CharField(label=_("申请说明"), required=False, widget=forms.Textarea)

    def __init__(self, data: Any, user: Any) -> None:
        super().__init__(data)

        # A township officer sees (and applies for) the water users of their township only.
        holders = visible_to(user, Action.VIEW, WaterUser)
        self.fields["holder"].queryset = holders  # type: ignore[attr-defined]
        self.fields["wells"].queryset = visible_to(  # type: ignore[attr-defined]
            user, Action.VIEW, Well
        ).filter(owner__isnull=False)


class ReviewForm(forms.Form):
    recommends = forms.TypedChoiceField(
        label=_("初审结论"),
        choices=[("1", _("建议准予")), ("0", _("建议不予"))],
        coerce=lambda v: v == "1",
    )
    opinion = forms.CharField(label=_("初审意见"), widget=forms.Textarea)
    reclaimed_land = forms.TypedChoiceField(
        label=_("是否用于非法开垦土地灌溉（地下水管理条例第二十五条）"),
        choices=[
            ("", _("未核实（按申报）")),
            ("1", _("经核实：是")),
            ("0", _("经核实：否")),
        ],
        coerce=lambda v: v == "1",
        empty_value=None,
        required=False,
    )


class DecideForm(forms.Form):
    approve = forms.TypedChoiceField(
        label=_("决定"),
        choices=[("1", _("准予许可")), ("0", _("不予许可"))],
        coerce=lambda v: v == "1",
    )
    note = forms.CharField(label=_("说明（不予许可时必填）"), required=False, widget=forms.Textarea)


class RequestForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("申请类型"),
        choices=[c for c in ApplicationKind.choices if c[0] != ApplicationKind.NEW],
    )
    requested_quota_m3 = forms.IntegerField(label=_("申请年水量 (m³)"), min_value=1, required=False)
    requested_term_years = forms.IntegerField(
        label=_("申请有效期 (年)"), min_value=1, max_value=10, required=False
    )
    statement = forms.CharField(label=_("申请说明"), required=False, widget=forms.Textarea)


class QuotaForm(forms.Form):
    new_quota_m3 = forms.IntegerField(label=_("新的年许可水量 (m³)"), min_value=1)
    reason = forms.CharField(label=_("事由"), max_length=200)


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("注销理由"), max_length=200)


class SettingsForm(forms.Form):
    overloaded_townships = forms.CharField(
        label=_("超载地区（乡镇编码，逗号分隔）"), required=False
    )
    overloaded_zones = forms.CharField(label=_("超载地区（分区编号，逗号分隔）"), required=False)
    overloaded_sources = forms.MultipleChoiceField(
        label=_("超载水源"),
        required=False,
        choices=WaterSource.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    county_cap_m3 = forms.IntegerField(
        label=_("全县地下水许可总量指标 (m³/年)"), min_value=0, required=False
    )
    document = forms.CharField(label=_("依据文件"), max_length=200)
    note = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea)


class WindowForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=100)
    start = forms.DateField(label=_("开始日期"))
    end = forms.DateField(label=_("结束日期"), required=False)
    document = forms.CharField(label=_("宣布文件"), max_length=200)
    reason = forms.CharField(label=_("事由"), required=False, widget=forms.Textarea)


class EndWindowForm(forms.Form):
    end = forms.DateField(label=_("结束日期"))
