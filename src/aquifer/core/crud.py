"""One generic, scope-aware CRUD resource, written once and used by every registry entity.

For a model it adds to a router: list (filters, paging), read, create, update (PATCH),
delete, the record's audit history, and exports of the filtered list (xlsx, csv, geojson).
What a list is filtered by is the model's FilterSet (:mod:`aquifer.core.filters`), the one its
list page uses: its form validates the query parameters (an invalid one is a 422 naming it) and
its filters are the parameters the OpenAPI document describes. What an export holds are the
columns of the model's Table (:mod:`aquifer.core.tables`), the list page's columns.
Every query goes through :func:`aquifer.core.scoping.visible_to`; out of scope is a 404,
visible but not allowed a 403. Validation is the model's own (``full_clean``), so the API,
the pages, the admin and the Excel import refuse the same things with the same messages.

This module must not use ``from __future__ import annotations``: django-ninja reads the
annotations of the functions built here, and they refer to schema classes given at run time.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import django_tables2
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import create_model

from aquifer.core.exports import export_response
from aquifer.core.filters import FilterSet, filter_errors, openapi_parameters
from aquifer.core.policies import HISTORY, routes
from aquifer.core.roles import Action
from aquifer.core.scoping import can, require, visible_to
from aquifer.core.tables import export_columns

__all__ = ["AuditOut", "Resource", "page", "register"]


def page(
    qs: Any, limit: int, offset: int, to_out: Callable[[Any], Any] = lambda o: o
) -> dict[str, Any]:
    """One page of a queryset in the API's paging shape: count, limit, offset, items."""
    items = [to_out(o) for o in qs[offset : offset + limit]]
    return {"count": qs.count(), "limit": limit, "offset": offset, "items": items}


class AuditOut(Schema):
    id: int
    time: str
    username: str
    source: str
    action: str
    request_id: str
    object_type: str
    object_id: str
    object_repr: str
    reason: str
    changes: dict[str, list[Any]]

    @staticmethod
    def of(entry: Any) -> dict[str, Any]:
        return {
            "id": entry.pk,
            "time": entry.time.isoformat(),
            "username": entry.username,
            "source": entry.source,
            "action": entry.action,
            "request_id": entry.request_id,
            "object_type": entry.object_type,
            "object_id": entry.object_id,
            "object_repr": entry.object_repr,
            "reason": entry.reason,
            "changes": {k: [old, new] for k, (old, new) in entry.changes.items()},
        }


class Message(Schema):
    detail: str


def default_apply(instance: models.Model, data: dict[str, Any], user: Any) -> None:
    for key, value in data.items():
        setattr(instance, key, value)


@dataclass
class Resource:
    """How one model is exposed. ``path`` is the URL segment (``"wells"``); ``filterset``
    what its list is filtered by, ``table`` what its exports hold (both shared with its list
    page)."""

    model: type[models.Model]
    path: str
    out: type[Schema]
    create: type[Schema]
    update: type[Schema]
    filterset: type[FilterSet]
    table: type[django_tables2.Table]
    to_out: Callable[[Any], dict[str, Any]]
    apply: Callable[[models.Model, dict[str, Any], Any], None] = default_apply
    select_related: tuple[str, ...] = ()
    geojson: Callable[[Any], dict[str, Any] | None] | None = None
    tag: str = ""


def _check_references(user: Any, instance: models.Model, data: dict[str, Any]) -> None:
    """A foreign key may only point at a record the user can see (else: no such record)."""
    errors: dict[str, str] = {}
    for f in instance._meta.concrete_fields:
        if f.is_relation and f.attname in data and data[f.attname] is not None:
            target: Any = f.related_model
            if not visible_to(user, Action.VIEW, target).filter(pk=data[f.attname]).exists():
                errors[f.name] = _("不存在编号为 %(id)s 的%(model)s。") % {
                    "id": data[f.attname],
                    "model": target._meta.verbose_name,
                }
    if errors:
        raise ValidationError(errors)


def _save(
    res: Resource, request: HttpRequest, instance: models.Model, data: dict[str, Any], action: str
) -> models.Model:
    user = request.user
    _check_references(user, instance, data)
    res.apply(instance, data, user)
    instance.full_clean()
    if not can(user, action, instance):
        raise PermissionDenied(_("该记录不在您的管辖范围内，不能保存。"))
    with transaction.atomic():
        instance.save()
    return instance


def register(router: Router, res: Resource) -> None:
    model, path = res.model, res.path
    name = model._meta.model_name
    Out, Create, Update = res.out, res.create, res.update
    page_schema = create_model(
        f"{Out.__name__}Page",
        __base__=Schema,
        count=(int, ...),
        limit=(int, ...),
        offset=(int, ...),
        items=(list[Out], ...),
    )
    tags = [res.tag or str(model._meta.verbose_name_plural)]
    label = model._meta.label_lower
    ops = {"list": "view", "export": "view", "read": "view", "history": "history"}
    ops.update({"create": "add", "update": "change", "delete": "delete"})
    routes({f"{name}_{op}": (label, action) for op, action in ops.items()})

    def queryset(request: HttpRequest) -> models.QuerySet[Any]:
        qs = visible_to(request.user, Action.VIEW, model)
        if res.select_related:
            qs = qs.select_related(*res.select_related)
        return qs

    def filtered(request: HttpRequest) -> models.QuerySet[Any]:
        """The visible records that pass the query's filters; an invalid filter is a 422."""
        filters = res.filterset(request.GET, queryset=queryset(request), request=request)
        if not filters.is_valid():
            raise filter_errors(filters)
        qs: models.QuerySet[Any] = filters.qs
        return qs

    filter_parameters = {"parameters": openapi_parameters(res.filterset)}

    def get_visible(request: HttpRequest, pk: int) -> models.Model:
        obj: models.Model | None = queryset(request).filter(pk=pk).first()
        if obj is None:
            raise Http404
        return obj

    @router.get(
        f"/{path}/",
        response=page_schema,
        tags=tags,
        operation_id=f"{name}_list",
        summary=f"List {model._meta.verbose_name_plural}",
        openapi_extra=filter_parameters,
    )
    def list_(
        request: HttpRequest,
        limit: int = Query(50, ge=1, le=500),
        offset: int = Query(0, ge=0),
    ) -> Any:
        return page(filtered(request), limit, offset, res.to_out)

    @router.get(
        f"/{path}/export",
        tags=tags,
        operation_id=f"{name}_export",
        summary="Export the filtered list as xlsx, csv or geojson",
        response={200: None, 422: Message},
        openapi_extra=filter_parameters,
    )
    def export(
        request: HttpRequest,
        format: str = Query("xlsx", pattern="^(xlsx|csv|geojson)$"),
    ) -> HttpResponse:
        return export_response(
            filtered(request),
            export_columns(res.table, model),
            format,
            filename=path,
            geojson=res.geojson,
        )

    @router.get(f"/{path}/{{int:pk}}", response=Out, tags=tags, operation_id=f"{name}_read")
    def read(request: HttpRequest, pk: int) -> Any:
        return res.to_out(get_visible(request, pk))

    @router.get(
        f"/{path}/{{int:pk}}/history",
        response=list[AuditOut],
        tags=tags,
        operation_id=f"{name}_history",
        summary="The record's audit trail",
    )
    def history(request: HttpRequest, pk: int) -> Any:
        from aquifer.core.models import AuditEntry

        obj = get_visible(request, pk)
        require(request.user, HISTORY, obj)
        entries = AuditEntry.objects.filter(
            object_type=model._meta.label_lower, object_id=str(obj.pk)
        )
        return [AuditOut.of(e) for e in entries]

    @router.post(f"/{path}/", response={201: Out}, tags=tags, operation_id=f"{name}_create")
    def create(request: HttpRequest, payload: Create) -> Any:
        if not can(request.user, Action.ADD, model):
            raise PermissionDenied(_("您的角色无权新增此类记录。"))
        instance = _save(res, request, model(), payload.dict(), Action.ADD)
        return Status(201, res.to_out(get_visible(request, instance.pk)))

    @router.patch(f"/{path}/{{int:pk}}", response=Out, tags=tags, operation_id=f"{name}_update")
    def update(request: HttpRequest, pk: int, payload: Update) -> Any:
        obj = get_visible(request, pk)
        require(request.user, Action.CHANGE, obj)
        data = payload.dict(exclude_unset=True)
        _save(res, request, obj, data, Action.CHANGE)
        return res.to_out(get_visible(request, pk))

    @router.delete(
        f"/{path}/{{int:pk}}", response={204: None}, tags=tags, operation_id=f"{name}_delete"
    )
    def delete(request: HttpRequest, pk: int) -> Any:
        obj = get_visible(request, pk)
        require(request.user, Action.DELETE, obj)
        with transaction.atomic():
            obj.delete()
        return Status(204, None)
