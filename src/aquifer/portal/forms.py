"""Forms of the portal: filing and following a complaint, the staff's actions, news."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from aquifer.portal.models import ComplaintCategory, NewsItem

__all__ = ["ActionForm", "ComplaintForm", "FollowForm", "NewsForm"]


class ComplaintForm(forms.Form):
    """A complaint as the public files it. ``website`` is a honeypot: hidden from people by the
    page's style, a robot fills it and its filing is refused."""

    category = forms.ChoiceField(label=_("问题类别"), choices=ComplaintCategory.choices)
    description = forms.CharField(
        label=_("问题描述"), max_length=4000, widget=forms.Textarea(attrs={"rows": 5})
    )
    lon = forms.FloatField(label=_("经度"), min_value=-180, max_value=180)
    lat = forms.FloatField(label=_("纬度"), min_value=-90, max_value=90)
    place = forms.CharField(label=_("地点说明（村、路口等）"), max_length=200, required=False)
    name = forms.CharField(label=_("姓名（可不填）"), max_length=60, required=False)
    phone = forms.CharField(label=_("联系电话（可不填）"), max_length=30, required=False)
    website = forms.CharField(
        label=_("请勿填写此项"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def clean_website(self) -> str:
        value: str = self.cleaned_data.get("website") or ""
        if value.strip():
            raise forms.ValidationError(_("提交未被接受。"))
        return value


class FollowForm(forms.Form):
    number = forms.CharField(label=_("受理编号"), max_length=20)
    secret = forms.CharField(label=_("查询密码"), max_length=64, widget=forms.PasswordInput)


class ActionForm(forms.Form):
    action = forms.ChoiceField(
        choices=[(a, a) for a in ("accept", "reply", "close", "reject", "note")]
    )
    text = forms.CharField(label=_("内容"), max_length=4000, required=False, widget=forms.Textarea)


class NewsForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = NewsItem
        fields = ["kind", "title", "title_en", "body", "body_en", "published", "published_at"]
        widgets: dict[str, Any] = {
            "body": forms.Textarea(attrs={"rows": 10}),
            "body_en": forms.Textarea(attrs={"rows": 6}),
        }
