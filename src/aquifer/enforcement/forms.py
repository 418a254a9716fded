"""Forms of the enforcement pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from aquifer.core.roles import Action
from aquifer.core.scoping import visible_to
from aquifer.core.widgets import PlainSelect
from aquifer.enforcement.models import CaseKind, CaseSource, PollutionSource
from aquifer.registry.models import Well

__all__ = ["CaseForm", "SourceEditForm", "SourceForm"]


class CaseForm(forms.Form):
    kind = forms.ChoiceField(label=_("案由"), choices=CaseKind.choices)
    source = forms.ChoiceField(
        label=_("案件来源"), choices=[c for c in CaseSource.choices if c[0] != "alarm"]
    )
    title = forms.CharField(label=_("案件名称"), max_length=200, required=False)
    well = forms.ModelChoiceField(
        label=_("取水井"), queryset=Well.objects.none(), required=False, widget=PlainSelect
    )
    party = forms.CharField(label=_("当事人"), max_length=200, required=False)
    facts = forms.CharField(
        label=_("违法事实"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        well = self.fields["well"]
        assert isinstance(well, forms.ModelChoiceField)
        well.queryset = visible_to(user, Action.VIEW, Well).order_by("code")


class SourceForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = PollutionSource
        fields = [
            "name",
            "kind",
            "lon",
            "lat",
            "operator_name",
            "tank_type",
            "seepage_control",
            "monitoring_well",
            "notes",
        ]


class SourceEditForm(SourceForm):
    """Editing a registered source (the page); saved through
    :func:`aquifer.enforcement.pollution.update_source`. Also takes it out of use."""

    class Meta(SourceForm.Meta):
        fields = [*SourceForm.Meta.fields, "active"]
