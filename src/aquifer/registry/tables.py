"""What each registry list shows and exports: one Table per model.

A Table's columns are the list page's columns (sortable: ``?sort=code``, ``?sort=-code``) and
the columns of the list's exports (xlsx, csv, and the properties of geojson), under the same
headers. ``visible=False`` columns are exported but not shown on the page.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django_tables2 import A

from aquifer.core.tables import Field, LoadedText, Table

__all__ = [
    "DeviceTable",
    "MonitoringWellTable",
    "TownshipTable",
    "WaterUserTable",
    "WellTable",
    "ZoneTable",
]


def _detail(name: str) -> tuple[str, list[A]]:
    """A link to the record's own page (``registry:well_detail``)."""
    return (f"registry:{name}_detail", [A("pk")])


class TownshipTable(Table):
    code = Field(linkify=_detail("township"))
    name = Field(linkify=_detail("township"))
    name_en = Field()
    kind = Field()
    is_current = Field()
    successor = Field()
    change_note = LoadedText()


class ZoneTable(Table):
    code = Field(linkify=_detail("zone"))
    name = Field(linkify=_detail("zone"))
    kind = Field()
    layer = Field()
    area_km2 = Field()
    allowable_extraction_m3 = Field()
    supervising_township = Field()
    designation_document = Field(visible=False)


class WaterUserTable(Table):
    empty_hint = _("还没有登记取用水户：用“新增”登记，或用“导入”批量导入。")
    name = Field(linkify=_detail("wateruser"))
    uscc = Field()
    use_type = Field()
    township = Field()
    contact_person = Field()
    phone = Field()
    address = Field(visible=False)


class WellTable(Table):
    """Its export is also a sheet the Excel import reads back (registry/imports.py): the
    coordinates come right after the name, under the import's headers."""

    empty_hint = _("还没有登记取水井：用“新增”逐个登记，或用“导入”批量导入。")

    code = Field(linkify=_detail("well"))
    name = Field()
    lon = Field(verbose_name=_("经度"), visible=False)
    lat = Field(verbose_name=_("纬度"), visible=False)
    township = Field()
    zone = Field()
    status = Field()
    layer = Field()
    purpose = Field()
    depth_m = Field()
    owner = Field()


class MonitoringWellTable(Table):
    well = Field(linkify=_detail("monitoringwell"))
    township = Field(accessor="well__township")
    monitors_level = Field()
    monitors_quality = Field()
    network = Field()
    warning_depth_m = Field()


class DeviceTable(Table):
    empty_hint = _("还没有登记监测设备：在取水井上安装计量设施后在此登记。")
    station_address = Field(linkify=_detail("device"))
    kind = Field()
    protocol = Field()
    well = Field()
    township = Field(accessor="well__township")
    reporting_interval_min = Field()
    active = Field()
    manufacturer = Field(visible=False)
    serial_number = Field(visible=False)
