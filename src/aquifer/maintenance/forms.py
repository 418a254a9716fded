"""Forms of the maintenance pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from aquifer.core.roles import Action
from aquifer.core.scoping import allowed, visible_to
from aquifer.core.widgets import LabelledModelChoiceField
from aquifer.maintenance.models import (
    ChecklistItem,
    CheckResult,
    Priority,
)
from aquifer.registry.models import Device


class DeviceChoiceField(LabelledModelChoiceField):
    """The county's devices (thousands of options), listed from the columns their labels read;
    the one chosen is loaded whole."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, label_fields=("kind", "station_address", "well__code"), **kwargs)

    def label_from_instance(self, obj: Any) -> str:
        well = obj.well
        return f"{obj} · {well.code}" if well is not None else str(obj)


def visible_devices(user: Any) -> Any:
    return visible_to(user, Action.VIEW, Device).select_related("well").order_by("station_address")


class TicketForm(forms.Form):
    device = DeviceChoiceField(label=_("故障设备"), queryset=Device.objects.none())
    title = forms.CharField(
        label=_("标题"), max_length=200, required=False, help_text=_("留空则以设备名称为标题")
    )
    description = forms.CharField(
        label=_("故障描述"), widget=forms.Textarea(attrs={"rows": 4}), max_length=4000
    )
    priority = forms.ChoiceField(
        label=_("优先级"), choices=Priority.choices, initial="normal", required=False
    )

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["device"].queryset = visible_devices(user)  # type: ignore[attr-defined]
        if allowed(user, "maintenance.fault_report"):
            del self.fields["priority"]


class ActionForm(forms.Form):
    action = forms.ChoiceField(
        choices=[(a, a) for a in ("assign", "start", "note", "close", "cancel", "reopen")]
    )
    assignee = forms.IntegerField(required=False)
    note = forms.CharField(required=False, max_length=4000)
    resolution = forms.CharField(required=False, max_length=4000)


class PatrolForm(forms.Form):
    device = DeviceChoiceField(label=_("监测设备"), queryset=Device.objects.none())
    visited_at = forms.DateTimeField(
        label=_("巡检时间"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    meter_reading = forms.FloatField(label=_("表底读数 (m³)"), required=False, min_value=0)
    findings = forms.CharField(
        label=_("发现问题"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    open_ticket = forms.BooleanField(label=_("有异常时创建运维工单"), required=False, initial=True)

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["device"].queryset = visible_devices(user)  # type: ignore[attr-defined]
        self.items = list(ChecklistItem.objects.filter(active=True))
        for item in self.items:
            self.fields[f"check_{item.code}"] = forms.ChoiceField(
                label=item.display_label,
                choices=CheckResult.choices,
                initial=CheckResult.OK,
                widget=forms.RadioSelect,
                help_text=item.display_help,
            )
            self.fields[f"note_{item.code}"] = forms.CharField(
                label=_("说明"), required=False, max_length=300
            )

    def check_rows(self) -> list[tuple[Any, Any]]:
        return [(self[f"check_{i.code}"], self[f"note_{i.code}"]) for i in self.items]


class ChecklistItemForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = ChecklistItem
        fields = ["code", "label", "help_text", "order", "active"]
