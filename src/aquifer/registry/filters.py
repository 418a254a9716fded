"""What each registry list can be filtered by: one FilterSet per model.

Each FilterSet serves both the list page (its form is the page's filter bar) and the API's list
and export endpoints (``/api/wells/?township_id=3&status=active``), where its filters are also
the documented query parameters. A related record is given by its id (``township_id``) and must
be one the user can see.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from aquifer.core.filters import ChoiceFilter, FilterSet, RecordFilter, SearchFilter, YesNoFilter
from aquifer.registry.choices import (
    AquiferLayer,
    DeviceKind,
    MonitoringNetwork,
    Protocol,
    TownshipKind,
    UseType,
    WellPurpose,
    WellStatus,
    ZoneKind,
)
from aquifer.registry.models import Device, MonitoringWell, Township, WaterUser, Well, Zone

__all__ = [
    "DeviceFilterSet",
    "MonitoringWellFilterSet",
    "TownshipFilterSet",
    "WaterUserFilterSet",
    "WellFilterSet",
    "ZoneFilterSet",
]


def _township(field_name: str = "township") -> RecordFilter:
    return RecordFilter(
        Township, lambda qs: qs.filter(is_current=True), field_name=field_name, label=_("乡镇")
    )


class TownshipFilterSet(FilterSet):
    q = SearchFilter(("name__icontains", "code__startswith"))
    is_current = YesNoFilter(label=_("现行"))
    kind = ChoiceFilter(label=_("类型"), choices=TownshipKind.choices)

    class Meta:
        model = Township
        fields: list[str] = []


class ZoneFilterSet(FilterSet):
    q = SearchFilter(("name__icontains", "code__icontains"))
    kind = ChoiceFilter(label=_("分区类型"), choices=ZoneKind.choices)
    layer = ChoiceFilter(label=_("含水层"), choices=AquiferLayer.choices)

    class Meta:
        model = Zone
        fields: list[str] = []


class WaterUserFilterSet(FilterSet):
    q = SearchFilter(("name__icontains", "uscc__icontains"))
    township_id = _township()
    use_type = ChoiceFilter(label=_("用水类型"), choices=UseType.choices)

    class Meta:
        model = WaterUser
        fields: list[str] = []


class WellFilterSet(FilterSet):
    q = SearchFilter(("code__icontains", "name__icontains"))
    township_id = _township()
    zone_id = RecordFilter(Zone, lambda qs: qs.order_by("code"), field_name="zone", label=_("分区"))
    status = ChoiceFilter(label=_("状态"), choices=WellStatus.choices)
    layer = ChoiceFilter(label=_("含水层"), choices=AquiferLayer.choices)
    purpose = ChoiceFilter(label=_("用途"), choices=WellPurpose.choices)
    owner_id = RecordFilter(WaterUser, field_name="owner", label=_("权属人"), hidden=True)

    class Meta:
        model = Well
        fields: list[str] = []


class MonitoringWellFilterSet(FilterSet):
    township_id = _township("well__township")
    network = ChoiceFilter(label=_("监测网级别"), choices=MonitoringNetwork.choices)
    monitors_level = YesNoFilter(label=_("水位监测"))
    monitors_quality = YesNoFilter(label=_("水质监测"))

    class Meta:
        model = MonitoringWell
        fields: list[str] = []


class DeviceFilterSet(FilterSet):
    q = SearchFilter(("station_address__icontains", "serial_number__icontains"))
    township_id = _township("well__township")
    kind = ChoiceFilter(label=_("设备类型"), choices=DeviceKind.choices)
    protocol = ChoiceFilter(label=_("通信规约"), choices=Protocol.choices)
    active = YesNoFilter(label=_("启用"))
    well_id = RecordFilter(Well, field_name="well", label=_("安装井"), hidden=True)

    class Meta:
        model = Device
        fields: list[str] = []
