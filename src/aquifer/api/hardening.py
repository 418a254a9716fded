"""What every route of the API refuses before its code runs, so that no input is a 500.

Two mechanisms, both applied once to the assembled API (see ``aquifer.api.api``):

- :class:`HardenedParser` parses JSON bodies with :func:`aquifer.core.jsoninput.load_json`
  (depth limit, no NaN, no integers beyond 64 bits, no NUL) and refuses the NUL character in
  query strings and form fields, naming the parameter;
- :func:`tighten` walks the parameter and body models of every operation and, on each field:
  an integer must lie in the signed 64-bit range the databases store (query, path and body
  alike: a larger one makes the SQLite driver overflow), a number must be finite, and in a
  JSON body integers and numbers are strict (``true`` is not the id 1); a date or date-time
  must lie in the years :data:`YEARS`. The number bounds show in the OpenAPI document;
  tighter bounds a field already has are kept.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from typing import Any

import annotated_types as at
from django.http import HttpRequest
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import ValidationError as NinjaValidationError
from ninja.params.models import BodyModel
from ninja.parser import Parser
from pydantic import AfterValidator, AllowInfNan, BaseModel, Strict

from aquifer.core.jsoninput import INT64_MAX, INT64_MIN, load_json, text_problem

__all__ = ["HardenedParser", "tighten"]


class HardenedParser(Parser):
    def parse_body(self, request: HttpRequest) -> Any:
        return load_json(request.body)

    def parse_querydict(
        self, data: MultiValueDict[str, Any], list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        errors = []
        for key, values in data.lists():
            for value in [key, *values]:
                problem = text_problem(value) if isinstance(value, str) else None
                if problem:
                    errors.append({"loc": ("query", key.replace("\x00", "")), "msg": problem})
                    break
        if errors:
            raise NinjaValidationError(errors)
        return super().parse_querydict(data, list_fields, request)


def _scalar(annotation: Any) -> type | None:
    """``int`` or ``float`` if the annotation is one of them (or it or ``None``)."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        kinds = {a for a in args if a is not type(None)}
        return _scalar(next(iter(kinds))) if len(kinds) == 1 else None
    if typing.get_origin(annotation) is typing.Annotated:
        return _scalar(args[0])
    return annotation if annotation in (int, float, dt.date, dt.datetime) else None


#: The years a date given to the API may have: beyond them, date arithmetic and time zone
#: conversion overflow (year 1 or 9999), and no groundwater record lies there.
YEARS = (1900, 2999)


def _plausible_year(value: Any) -> Any:
    if isinstance(value, dt.date) and not YEARS[0] <= value.year <= YEARS[1]:
        raise ValueError(
            _("日期应在 %(first)d 年至 %(last)d 年之间。") % {"first": YEARS[0], "last": YEARS[1]}
        )
    return value


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for a in typing.get_args(annotation) for m in _models_in(a)]


def _tighten_model(model: type[BaseModel], strict: bool, done: set[type[BaseModel]]) -> None:
    if model in done:
        return
    done.add(model)
    for field in model.model_fields.values():
        for inner in _models_in(field.annotation):
            _tighten_model(inner, strict, done)
        kind = _scalar(field.annotation)
        if kind is None:
            continue
        meta = field.metadata
        if kind in (dt.date, dt.datetime):
            meta.append(AfterValidator(_plausible_year))
            continue
        if strict and not any(isinstance(m, Strict) for m in meta):
            meta.append(Strict())
        if kind is float:
            meta.append(AllowInfNan(False))
            continue
        if not any(isinstance(m, at.Ge | at.Gt) for m in meta):
            meta.append(at.Ge(INT64_MIN))
        if not any(isinstance(m, at.Le | at.Lt) for m in meta):
            meta.append(at.Le(INT64_MAX))
    model.model_rebuild(force=True)


def tighten(api: NinjaAPI) -> None:
    """Bound and, in bodies, make strict every integer and number field of every operation."""
    done: dict[bool, set[type[BaseModel]]] = {True: set(), False: set()}
    for _prefix, router in api._routers:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                for model in operation.models:
                    strict = issubclass(model, BodyModel)
                    _tighten_model(model, strict, done[strict])
