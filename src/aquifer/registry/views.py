"""Pages of the registry: the county map, and the list, detail, create and edit pages of
townships, zones, water users, wells, monitoring wells and devices.

Each entity is described once (:class:`Entity`) and served by the same three views, NetBox's
way. Access is decided by :mod:`aquifer.core.scoping` only: every queryset comes from
``visible_to``; a record out of the user's sight is a 404, one visible but not changeable a 403;
a page of records the visitor may not see at all sends an anonymous visitor to the login page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import django_tables2 as tables
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import models, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy
from shapely.geometry import shape as shapely_shape

from aquifer.core.filters import FilterSet
from aquifer.core.roles import Action
from aquifer.core.scoping import can, can_see_history, require, visible_to
from aquifer.core.tables import sort
from aquifer.core.views import field_label, history_of
from aquifer.registry.choices import (
    WELL_STATUS_COLOURS,
    ZONE_COLOURS,
    WellStatus,
    ZoneKind,
)
from aquifer.registry.filters import (
    DeviceFilterSet,
    MonitoringWellFilterSet,
    TownshipFilterSet,
    WaterUserFilterSet,
    WellFilterSet,
    ZoneFilterSet,
)
from aquifer.registry.forms import (
    DeviceForm,
    MonitoringWellForm,
    RegistryModelForm,
    WaterUserForm,
    WellForm,
    ZoneForm,
    crs_label,
)
from aquifer.registry.models import Device, MonitoringWell, Township, WaterUser, Well, Zone
from aquifer.registry.tables import (
    DeviceTable,
    MonitoringWellTable,
    TownshipTable,
    WaterUserTable,
    WellTable,
    ZoneTable,
)

__all__ = [
    "ENTITIES",
    "Entity",
    "county_map",
    "map_context",
    "object_detail",
    "object_edit",
    "object_list",
]

EXPORT_FORMATS = (("xlsx", "Excel"), ("csv", "CSV"), ("geojson", "GeoJSON"))
TOWNSHIP_STYLE = {"color": "#555555", "weight": 1.5, "fill": False, "dashArray": "4 3"}


# --- How each entity is shown ---------------------------------------------------------------------


@dataclass(frozen=True)
class Entity:
    """One registry model as the pages show it.

    ``slug`` is its URL segment, the same as the API's (``/water-users/``,
    ``/api/water-users/``); ``plural`` its name in the plural (the models' verbose names are
    the same in the singular and the plural, which English cannot follow); ``filterset`` and
    ``table`` are what its list is filtered by and shows (the API's list and exports use the
    same, ``registry/filters.py`` and ``registry/tables.py``); ``hidden`` are
    fields the detail page leaves out (geometry is on the map); ``derived`` are fields the
    system sets (a well's township and zone); ``extra`` adds to a detail page's context.
    """

    model: type[models.Model]
    slug: str
    plural: Any
    filterset: type[FilterSet]
    table: type[tables.Table]
    form: type[RegistryModelForm] | None = None
    select_related: tuple[str, ...] = ()
    hidden: tuple[str, ...] = ()
    derived: tuple[str, ...] = ()
    extra: Callable[[HttpRequest, Any], dict[str, Any]] | None = None
    form_note: Any = None
    geojson: bool = True

    @property
    def name(self) -> str:
        return self.model._meta.model_name or ""

    def url(self, kind: str, *args: Any) -> str:
        return reverse(f"registry:{self.name}_{kind}", args=args)


def _field(model: type[models.Model], path: str) -> models.Field[Any, Any]:
    *hops, last = path.split("__")
    for hop in hops:
        model = model._meta.get_field(hop).related_model  # type: ignore[assignment]
    return model._meta.get_field(last)  # type: ignore[return-value]


def _owner_of(obj: Any, path: str) -> Any:
    for hop in path.split("__")[:-1]:
        obj = getattr(obj, hop) if obj is not None else None
    return obj


def display(obj: Any, path: str, user: Any = None) -> tuple[Any, str]:
    """The value of ``obj``'s field at ``path`` as a page shows it, and a link if it has one."""
    owner = _owner_of(obj, path)
    name = path.split("__")[-1]
    if owner is None:
        return "—", ""
    f = _field(type(obj), path)
    value = getattr(owner, name)
    if value is None or value == "":
        return "—", ""
    if name == "input_crs":
        return crs_label(value), ""
    if f.choices:
        return getattr(owner, f"get_{name}_display")(), ""
    if isinstance(value, bool):
        return (_("是") if value else _("否")), ""
    if isinstance(value, models.Model):
        url = ""
        if (
            user is not None
            and hasattr(value, "get_absolute_url")
            and can(user, Action.VIEW, value)
        ):
            url = value.get_absolute_url()
        return str(value), url
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip("."), ""
    return value, ""


def detail_fields(entity: Entity, obj: Any, user: Any) -> list[dict[str, Any]]:
    rows = []
    for f in obj._meta.concrete_fields:
        if f.primary_key or f.name in entity.hidden or isinstance(f, models.JSONField):
            continue
        value, url = display(obj, f.name, user)
        note = _("由位置自动确定") if f.name in entity.derived else ""
        rows.append(
            {"name": f.name, "label": field_label(f), "value": value, "url": url, "note": note}
        )
    return rows


def detail_url(entity: Entity, obj: Any) -> str:
    return entity.url("detail", obj.pk)


def _map_features(*features: dict[str, Any] | None) -> dict[str, Any]:
    return {"features": [f for f in features if f and f.get("geometry")]}


def _township_feature(t: Township | None) -> dict[str, Any] | None:
    if t is None or not t.boundary:
        return None
    return {"geometry": t.boundary, "style": TOWNSHIP_STYLE, "label": t.name}


def _zone_feature(z: Zone | None) -> dict[str, Any] | None:
    if z is None:
        return None
    colour = ZONE_COLOURS.get(z.kind, "#888888")
    return {
        "geometry": z.geometry,
        "style": {"color": colour, "weight": 2, "fillColor": colour, "fillOpacity": 0.25},
        "label": str(z),
    }


def _well_extra(request: HttpRequest, well: Well) -> dict[str, Any]:
    user = request.user
    point = {
        "geometry": {"type": "Point", "coordinates": [well.lon, well.lat]},
        "style": {"fillColor": WELL_STATUS_COLOURS.get(well.status, "#333333")},
        "label": well.code,
    }
    monitoring = visible_to(user, Action.VIEW, MonitoringWell).filter(well=well).first()
    return {
        "devices": visible_to(user, Action.VIEW, Device).filter(well=well),
        "monitoring": monitoring,
        "can_add_device": can(user, Action.ADD, Device(well=well)),
        "can_add_monitoring": monitoring is None
        and can(user, Action.ADD, MonitoringWell(well=well)),
        "mini_map": _map_features(
            _township_feature(well.township), _zone_feature(well.zone), point
        ),
    }


def _water_user_extra(request: HttpRequest, user_: WaterUser) -> dict[str, Any]:
    wells = (
        visible_to(request.user, Action.VIEW, Well)
        .filter(owner=user_)
        .select_related("township", "zone")
    )
    return {
        "wells": wells,
        "wells_url": reverse("registry:well_list") + f"?owner_id={user_.pk}",
        "can_add_well": can(request.user, Action.ADD, Well),
    }


def _zone_extra(request: HttpRequest, zone: Zone) -> dict[str, Any]:
    wells = visible_to(request.user, Action.VIEW, Well).filter(zone=zone)
    return {
        "well_count": wells.count(),
        "wells_url": reverse("registry:well_list") + f"?zone_id={zone.pk}",
        "can_list_wells": can(request.user, Action.VIEW, Well),
        "mini_map": _map_features(_zone_feature(zone)),
    }


def _township_extra(request: HttpRequest, township: Township) -> dict[str, Any]:
    user = request.user
    resolved = Township.resolve_code(township.code)
    return {
        "resolved": resolved if resolved and resolved.pk != township.pk else None,
        "predecessors": visible_to(user, Action.VIEW, Township).filter(successor=township),
        "well_count": visible_to(user, Action.VIEW, Well).filter(township=township).count(),
        "wells_url": reverse("registry:well_list") + f"?township_id={township.pk}",
        "can_list_wells": can(user, Action.VIEW, Well),
        "mini_map": _map_features(_township_feature(township)),
    }


def _device_extra(request: HttpRequest, device: Device) -> dict[str, Any]:
    return {"has_secret": bool(device.secret_hash)}


ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in (
        Entity(
            model=Township,
            slug="townships",
            plural=pgettext_lazy("plural", "乡镇"),
            filterset=TownshipFilterSet,
            table=TownshipTable,
            select_related=("successor",),
            hidden=("boundary",),
            extra=_township_extra,
        ),
        Entity(
            model=Zone,
            slug="zones",
            plural=pgettext_lazy("plural", "分区"),
            filterset=ZoneFilterSet,
            table=ZoneTable,
            form=ZoneForm,
            select_related=("supervising_township",),
            extra=_zone_extra,
        ),
        Entity(
            model=WaterUser,
            slug="water-users",
            plural=pgettext_lazy("plural", "取用水户"),
            filterset=WaterUserFilterSet,
            table=WaterUserTable,
            form=WaterUserForm,
            select_related=("township",),
            extra=_water_user_extra,
            geojson=False,
        ),
        Entity(
            model=Well,
            slug="wells",
            plural=pgettext_lazy("plural", "取水井"),
            filterset=WellFilterSet,
            table=WellTable,
            form=WellForm,
            select_related=("township", "zone", "owner"),
            derived=("township", "zone"),
            extra=_well_extra,
            form_note=gettext_lazy("乡镇和分区由井的位置自动确定，不需填写；位置须在县域内。"),
        ),
        Entity(
            model=MonitoringWell,
            slug="monitoring-wells",
            plural=pgettext_lazy("plural", "监测井"),
            filterset=MonitoringWellFilterSet,
            table=MonitoringWellTable,
            form=MonitoringWellForm,
            select_related=("well", "well__township"),
        ),
        Entity(
            model=Device,
            slug="devices",
            plural=pgettext_lazy("plural", "监测设备"),
            filterset=DeviceFilterSet,
            table=DeviceTable,
            form=DeviceForm,
            select_related=("well", "well__township"),
            hidden=("secret_hash",),
            extra=_device_extra,
        ),
    )
}


# --- Access ---------------------------------------------------------------------------------------


def _denied_or_login(request: HttpRequest, message: str) -> HttpResponse:
    """Anonymous visitors are asked to log in; a signed-in user is refused (403)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    raise PermissionDenied(message)


def _plural(entity: Entity) -> str:
    return str(entity.plural)


def _singular(entity: Entity) -> str:
    return str(entity.model._meta.verbose_name)


# --- Views ----------------------------------------------------------------------------------------


def object_list(request: HttpRequest, entity: Entity) -> HttpResponse:
    """A filtered, paged list of the records the user may see."""
    user = request.user
    if not can(user, Action.VIEW, entity.model):
        return _denied_or_login(
            request, _("您的角色无权查看%(things)s。") % {"things": _plural(entity)}
        )
    qs = visible_to(user, Action.VIEW, entity.model)
    if entity.select_related:
        qs = qs.select_related(*entity.select_related)
    # An invalid filter value is left out of the filtering and shown as the form's error.
    filters = entity.filterset(request.GET, queryset=qs, request=request)
    table = entity.table(filters.qs, attrs={"id": f"{entity.name}-list", "class": "list"})
    table.request = request
    sort(table, request.GET.getlist(table.order_by_field))
    table.paginator = Paginator(table.rows, settings.AQUIFER["PAGE_SIZE"])
    table.page = table.paginator.get_page(request.GET.get("page"))
    query = urlencode(
        [
            (name, request.GET[name])
            for name in filters.filters
            if request.GET.get(name) and name not in filters.errors
        ]
    )
    api_root = reverse("api:api-root")
    formats = [f for f in EXPORT_FORMATS if entity.geojson or f[0] != "geojson"]
    exports = [
        (label, f"{api_root}{entity.slug}/export?format={fmt}" + (f"&{query}" if query else ""))
        for fmt, label in formats
    ]
    context = {
        "entity": entity,
        "title": _plural(entity),
        "table": table,
        "page_obj": table.page,
        "filter_form": filters.form,
        "exports": exports,
        "create_url": entity.url("create")
        if entity.form is not None and can(user, Action.ADD, entity.model)
        else "",
    }
    htmx = getattr(request, "htmx", None)
    if htmx and not htmx.history_restore_request:
        return render(request, "registry/_list_results.html", context)
    return render(request, "registry/list.html", context)


def object_detail(request: HttpRequest, entity: Entity, pk: int) -> HttpResponse:
    """One record: its fields, what belongs to it, and its audit history."""
    user = request.user
    if not can(user, Action.VIEW, entity.model) and not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    qs = visible_to(user, Action.VIEW, entity.model)
    if entity.select_related:
        qs = qs.select_related(*entity.select_related)
    obj = get_object_or_404(qs, pk=pk)
    context = {
        "entity": entity,
        "object": obj,
        "title": f"{_singular(entity)} {obj}",
        "fields": detail_fields(entity, obj, user),
        "history": history_of(obj) if can_see_history(request.user, obj) else None,
        "edit_url": entity.url("edit", obj.pk)
        if entity.form is not None and can(user, Action.CHANGE, obj)
        else "",
        "list_url": entity.url("list"),
    }
    if entity.extra is not None:
        context.update(entity.extra(request, obj))
    return render(request, [f"registry/{entity.name}_detail.html", "registry/detail.html"], context)


def object_edit(request: HttpRequest, entity: Entity, pk: int | None = None) -> HttpResponse:
    """Create (``pk`` None) or change a record; nothing is saved unless all of it is valid and
    the user may create or change the record as it would be saved."""
    user = request.user
    model = entity.model
    assert entity.form is not None
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if pk is None:
        if not can(user, Action.ADD, model):
            raise PermissionDenied(_("您的角色无权新增%(thing)s。") % {"thing": _singular(entity)})
        instance, action = model(), Action.ADD
    else:
        instance = get_object_or_404(visible_to(user, Action.VIEW, model), pk=pk)
        require(user, Action.CHANGE, instance)
        action = Action.CHANGE
    data = request.POST if request.method == "POST" else None
    # A create link may preset fields (``/devices/new/?well=3``); the form still checks them.
    initial = {k: v for k, v in request.GET.items() if k in entity.form.base_fields}
    form = entity.form(data, instance=instance, user=user, initial=initial if pk is None else {})
    if data is not None and form.is_valid():
        # The form has derived what the record's scope depends on (a well's township).
        if not can(user, action, form.instance):
            raise PermissionDenied(_("该记录不在您的管辖范围内，不能保存。"))
        with transaction.atomic():
            obj = form.save()
        messages.success(
            request, _("已保存%(thing)s“%(name)s”。") % {"thing": _singular(entity), "name": obj}
        )
        return redirect(detail_url(entity, obj))
    if pk is None:
        title = _("新增%(thing)s") % {"thing": _singular(entity)}
        cancel = entity.url("list")
    else:
        title = _("编辑%(thing)s %(name)s") % {"thing": _singular(entity), "name": instance}
        cancel = detail_url(entity, instance)
    return render(
        request,
        "registry/form.html",
        {
            "entity": entity,
            "form": form,
            "title": title,
            "cancel_url": cancel,
            "form_note": entity.form_note,
        },
    )


def map_context(user: Any, township: Township | None = None) -> dict[str, Any]:
    """The county map's configuration and legends for ``user``: the whole county, or fitted
    to ``township``'s boundary (the township officer's morning view)."""
    from aquifer.registry.spatial import county_geometry

    show_wells = can(user, Action.VIEW, Well)
    minx, miny, maxx, maxy = county_geometry().bounds
    if township is not None and township.boundary:
        minx, miny, maxx, maxy = shapely_shape(township.boundary).bounds
    urls = {"townships": reverse("api:map_townships"), "zones": reverse("api:map_zones")}
    if show_wells:  # the layer's address only for those who may read it
        urls["wells"] = reverse("api:map_wells")
    config = {
        "bounds": [[miny, minx], [maxy, maxx]],
        "tileUrl": settings.AQUIFER.get("TILE_URL", ""),
        "tileAttribution": settings.AQUIFER.get("TILE_ATTRIBUTION", ""),
        "urls": urls,
        "showWells": show_wells,
        "zoneColours": {str(k): v for k, v in ZONE_COLOURS.items()},
        "statusColours": {str(k): v for k, v in WELL_STATUS_COLOURS.items()},
        "statusLabels": {str(k): str(k.label) for k in WellStatus},
        "text": {
            "townships": pgettext("plural", "乡镇"),
            "zones": pgettext("plural", "分区"),
            "wells": pgettext("plural", "取水井"),
            "code": _("编号"),
            "status": _("状态"),
            "township": _("乡镇"),
            "zone": _("分区"),
            "details": _("详情"),
            "approximate": _("边界为示意"),
            "loadError": _("地图数据加载失败，请刷新页面重试。"),
        },
    }
    return {
        "map_config": config,
        "zone_legend": [(ZoneKind(k).label, c) for k, c in ZONE_COLOURS.items()],
        "well_legend": [(WellStatus(k).label, c) for k, c in WELL_STATUS_COLOURS.items()],
        "show_wells": config["showWells"],
    }


def county_map(request: HttpRequest) -> HttpResponse:
    """The county map (/map/): townships, zones and (as the user may see them) wells."""
    return render(request, "core/home.html", map_context(request.user))
