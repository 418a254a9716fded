"""Forms of the rights pages (validation of shape; the rules are in services)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aquifer.registry.choices import UseType, ZoneKind
from aquifer.registry.models import Township, WaterUser, Zone
from aquifer.rights import conf
from aquifer.rights.models import Source


def _year() -> int:
    return timezone.localdate().year


def _zones() -> Any:
    return Zone.objects.order_by("layer", "kind", "code")


class _YearsMixin(forms.Form):
    start_year = forms.IntegerField(label=_("起始年度"), min_value=2000, max_value=2100)
    end_year = forms.IntegerField(label=_("终止年度"), min_value=2000, max_value=2100)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        a, b = data.get("start_year"), data.get("end_year")
        if a is not None and b is not None and b < a:
            self.add_error("end_year", _("终止年度不能早于起始年度。"))
        return data


class GrantForm(_YearsMixin):
    holder_kind = forms.ChoiceField(
        label=_("持有人类型"), choices=[("water_user", _("取用水户")), ("township", _("乡镇"))]
    )
    water_user = forms.ModelChoiceField(
        label=_("取用水户"), queryset=WaterUser.objects.order_by("name"), required=False
    )
    township = forms.ModelChoiceField(
        label=_("乡镇"), queryset=Township.objects.filter(is_current=True), required=False
    )
    use_type = forms.ChoiceField(label=_("用水类型"), choices=UseType.choices)
    source = forms.ChoiceField(label=_("水源"), choices=Source.choices)
    zone = forms.ModelChoiceField(label=_("分区"), queryset=_zones(), required=False)
    volume_m3 = forms.IntegerField(label=_("年水量 (m³)"), min_value=1, max_value=10**12)
    document = forms.CharField(label=_("确权依据"), max_length=200, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("holder_kind") == "water_user" and not data.get("water_user"):
            self.add_error("water_user", _("请选择取用水户。"))
        if data.get("holder_kind") == "township" and not data.get("township"):
            self.add_error("township", _("请选择乡镇。"))
        zone, source = data.get("zone"), data.get("source")
        if zone is not None and source and zone.layer != source:
            self.add_error("zone", _("分区的含水层与水源不符。"))
        return data


class TradeForm(_YearsMixin):
    """A negotiated transfer proposed by the seller."""

    buyer_kind = forms.ChoiceField(
        label=_("受让方类型"), choices=[("water_user", _("取用水户")), ("township", _("乡镇"))]
    )
    # Not a list of every water user: a holder may not see the county's register. The seller
    # names the buyer by its unified social credit code or its registry number.
    buyer_code = forms.CharField(
        label=_("受让方统一社会信用代码或登记号"), max_length=18, required=False
    )
    buyer_township = forms.ModelChoiceField(
        label=_("受让乡镇"), queryset=Township.objects.filter(is_current=True), required=False
    )
    buyer_zone = forms.ModelChoiceField(label=_("受让方分区"), queryset=_zones(), required=False)
    account = forms.CharField(label=_("出让水权"), widget=forms.Select)
    volume_m3 = forms.IntegerField(label=_("年水量 (m³)"), min_value=1, max_value=10**12)
    price = forms.DecimalField(
        label=_("单价 (元/m³)"), min_value=0, max_digits=10, decimal_places=2
    )
    is_lease = forms.BooleanField(label=_("租赁（期满收回）"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("buyer_kind") == "water_user":
            code = (data.get("buyer_code") or "").strip().upper()
            found = None
            if code.isdigit() and len(code) < 18:
                found = WaterUser.objects.filter(pk=int(code)).first()
            elif code:
                found = WaterUser.objects.filter(uscc=code).first()
            if found is None:
                self.add_error("buyer_code", _("没有该取用水户。"))
            data["buyer_user"] = found
        if data.get("buyer_kind") == "township" and not data.get("buyer_township"):
            self.add_error("buyer_township", _("请选择受让方。"))
        return data


class ListingForm(_YearsMixin):
    account = forms.CharField(label=_("出让水权"), widget=forms.Select)
    volume_m3 = forms.IntegerField(label=_("年水量 (m³)"), min_value=1, max_value=10**12)
    min_price = forms.DecimalField(
        label=_("挂牌底价 (元/m³)"), min_value=0, max_digits=10, decimal_places=2
    )
    days = forms.IntegerField(label=_("挂牌天数"), min_value=1, max_value=90, required=False)
    is_lease = forms.BooleanField(label=_("租赁（期满收回）"), required=False)


class BidForm(forms.Form):
    zone = forms.ModelChoiceField(label=_("用水分区"), queryset=_zones(), required=False)
    volume_m3 = forms.IntegerField(label=_("年水量 (m³)"), min_value=1, max_value=10**12)
    price = forms.DecimalField(
        label=_("报价 (元/m³)"), min_value=0, max_digits=10, decimal_places=2
    )


class RoundForm(forms.Form):
    source = forms.ChoiceField(label=_("水源"), choices=Source.choices)
    zone = forms.ModelChoiceField(label=_("分区（空 = 全县）"), queryset=_zones(), required=False)
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100, initial=_year)
    days = forms.IntegerField(label=_("报价天数"), min_value=1, max_value=60, initial=7)


class OrderForm(forms.Form):
    side = forms.ChoiceField(label=_("方向"), choices=[("buy", _("买入")), ("sell", _("卖出"))])
    use_type = forms.ChoiceField(label=_("用水类型"), choices=UseType.choices)
    zone = forms.ModelChoiceField(label=_("分区"), queryset=_zones(), required=False)
    volume_m3 = forms.IntegerField(label=_("水量 (m³)"), min_value=1, max_value=10**12)
    price = forms.DecimalField(
        label=_("限价 (元/m³)"), min_value=0, max_digits=10, decimal_places=2
    )


class DecisionForm(forms.Form):
    note = forms.CharField(label=_("意见"), max_length=300, required=False)


class ObjectionForm(forms.Form):
    name = forms.CharField(label=_("异议人"), max_length=100)
    contact = forms.CharField(label=_("联系方式"), max_length=100, required=False)
    text = forms.CharField(label=_("异议内容"), max_length=2000, widget=forms.Textarea)


class SettingsForm(forms.Form):
    """The bureau's settings (every key of rights.conf)."""

    county_total_m3 = forms.IntegerField(
        label=_("全县初始水权总量 (m³/年，空 = 不设)"), min_value=0, required=False
    )
    township_totals_m3 = forms.JSONField(label=_("乡镇水权总量 {乡镇编码: m³/年}"), required=False)
    announcement_days = forms.IntegerField(label=_("公示天数"), min_value=0, max_value=90)
    listing_days = forms.IntegerField(label=_("默认挂牌天数"), min_value=1, max_value=90)
    max_term_years = forms.IntegerField(label=_("交易期限上限（年）"), min_value=1, max_value=30)
    irrigation_no_approval_years = forms.IntegerField(
        label=_("免审批的灌溉用水户交易期限（年，0 = 均须审批）"), min_value=0, max_value=30
    )
    prohibited_zone_kinds = forms.MultipleChoiceField(
        label=_("不得转入的分区类型"), choices=[], required=False,
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    no_increase_zone_kinds = forms.MultipleChoiceField(
        label=_("开采量不得增加的分区类型（只能区内交易）"), choices=[], required=False,
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    saved_water_only = forms.BooleanField(label=_("只能转让节余水量"), required=False)
    change_permits = forms.BooleanField(label=_("成交后调整双方取水许可水量"), required=False)
    disclose_parties = forms.ChoiceField(
        label=_("公开交易当事方"),
        choices=[("none", _("不公开")), ("masked", _("部分遮蔽")), ("full", _("全称"))],
    )
    document = forms.CharField(label=_("依据文件"), max_length=200, required=False)
    note = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)

        for name in ("prohibited_zone_kinds", "no_increase_zone_kinds"):
            self.fields[name].choices = ZoneKind.choices  # type: ignore[attr-defined]

    @classmethod
    def initial_from_conf(cls) -> dict[str, Any]:
        return {k.lower(): v for k, v in conf.current().items()}

    def clean_township_totals_m3(self) -> dict[str, int]:
        value = self.cleaned_data.get("township_totals_m3") or {}
        if not isinstance(value, dict) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value.values()
        ):
            raise forms.ValidationError(_("应为 {乡镇编码: 非负整数 m³} 。"))
        known = set(Township.objects.filter(code__in=list(value)).values_list("code", flat=True))
        unknown = [c for c in value if c not in known]
        if unknown:
            raise forms.ValidationError(
                _("没有这些编码：%(codes)s") % {"codes": ", ".join(unknown)}
            )
        return value

    def values(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {k: d.get(k.lower()) for k in conf.KEYS}
