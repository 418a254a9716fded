"""What the global search finds in the registry (core/search.py): wells by code or name,
water users by name or USCC, devices by station address, zones and townships."""

from typing import Any

from django.db.models import Q
from django.utils.translation import pgettext_lazy

from aquifer.core.scoping import visible_to
from aquifer.core.search import Hit, register
from aquifer.registry.models import Device, MonitoringWell, Township, WaterUser, Well, Zone


def wells(user: Any, q: str, limit: int) -> list[Hit]:
    rows = (
        visible_to(user, "view", Well)
        .filter(Q(code__istartswith=q) | Q(name__icontains=q))
        .select_related("township")
        .order_by("code")[:limit]
    )
    return [
        Hit(
            w.code,
            " · ".join(x for x in (w.name, str(w.township)) if x),
            w.get_absolute_url(),
            w.code.lower() == q.lower(),
        )
        for w in rows
    ]


def monitoring_wells(user: Any, q: str, limit: int) -> list[Hit]:
    rows = (
        visible_to(user, "view", MonitoringWell)
        .filter(Q(well__code__istartswith=q) | Q(well__name__icontains=q))
        .select_related("well")
        .order_by("well__code")[:limit]
    )
    return [
        Hit(m.well.code, m.well.name, m.get_absolute_url(), m.well.code.lower() == q.lower())
        for m in rows
    ]


def water_users(user: Any, q: str, limit: int) -> list[Hit]:
    rows = (
        visible_to(user, "view", WaterUser)
        .filter(Q(name__icontains=q) | Q(uscc__istartswith=q))
        .order_by("name")[:limit]
    )
    return [
        Hit(
            u.name,
            u.uscc,
            u.get_absolute_url(),
            (bool(u.uscc) and u.uscc.upper() == q.upper()) or u.name == q,
        )
        for u in rows
    ]


def devices(user: Any, q: str, limit: int) -> list[Hit]:
    compact = q.replace(" ", "")
    rows = (
        visible_to(user, "view", Device)
        .filter(station_address__icontains=compact)
        .order_by("station_address")[:limit]
    )
    return [
        Hit(
            d.station_address,
            d.get_kind_display(),
            d.get_absolute_url(),
            d.station_address.upper() == compact.upper(),
        )
        for d in rows
    ]


def zones(user: Any, q: str, limit: int) -> list[Hit]:
    rows = (
        visible_to(user, "view", Zone)
        .filter(Q(code__iexact=q) | Q(name__icontains=q))
        .order_by("code")[:limit]
    )
    return [Hit(z.name, z.code, z.get_absolute_url(), z.code.lower() == q.lower()) for z in rows]


def townships(user: Any, q: str, limit: int) -> list[Hit]:
    rows = (
        visible_to(user, "view", Township)
        .filter(Q(code=q) | Q(name__icontains=q))
        .order_by("code")[:limit]
    )
    return [Hit(t.name, t.code, t.get_absolute_url(), t.code == q or t.name == q) for t in rows]


register("wells", pgettext_lazy("plural", "取水井"), wells, order=10)
register("monitoring_wells", pgettext_lazy("plural", "监测井"), monitoring_wells, order=15)
register("water_users", pgettext_lazy("plural", "取用水户"), water_users, order=20)
register("devices", pgettext_lazy("plural", "监测设备"), devices, order=25)
register("zones", pgettext_lazy("plural", "分区"), zones, order=80)
register("townships", pgettext_lazy("plural", "乡镇"), townships, order=90)
