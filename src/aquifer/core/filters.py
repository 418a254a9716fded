"""What a list can be filtered by, declared once per model as a django-filter ``FilterSet``.

The same FilterSet filters a list page (its form is the page's filter bar) and the list and
export endpoints of the API (:mod:`aquifer.core.crud`): the query parameters are validated by
the FilterSet's form, and the OpenAPI document describes them from the FilterSet's filters
(:func:`openapi_parameters`), so a filter is written in one place only.

The querysets handed to a FilterSet are already the user's (``visible_to``); the choices of a
related record are the records the user can see (:func:`visible_choices`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest, QueryDict
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from aquifer.core.roles import Action
from aquifer.core.scoping import visible_to

__all__ = [
    "ALL",
    "CheckboxFilter",
    "ChoiceFilter",
    "FilterSet",
    "RecordFilter",
    "SearchFilter",
    "YesNoFilter",
    "filter_errors",
    "filterset_of_list",
    "openapi_parameters",
    "savable_list",
    "visible_choices",
]

#: The empty choice of a filter: no filtering.
ALL = _("全部")


class FilterSet(django_filters.FilterSet):  # type: ignore[misc]
    """A FilterSet whose invalid values are left out of the filtering (and reported by its
    form), which is django-filter's behaviour; the API refuses them instead (422)."""


class SearchFilter(django_filters.CharFilter):  # type: ignore[misc]
    """``q``: the records that match any of ``lookups`` (``name__icontains``, …)."""

    def __init__(self, lookups: tuple[str, ...], **kwargs: Any) -> None:
        kwargs.setdefault("label", _("搜索"))
        super().__init__(**kwargs)
        self.lookups = lookups

    def filter(self, qs: Any, value: Any) -> Any:
        if value in django_filters.constants.EMPTY_VALUES:
            return qs
        match = models.Q()
        for lookup in self.lookups:
            match |= models.Q(**{lookup: value})
        return qs.filter(match)


class YesNoField(forms.TypedChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.update(
            choices=[("", ALL), ("true", _("是")), ("false", _("否"))],
            coerce=lambda v: v == "true",
            empty_value=None,
        )
        super().__init__(**kwargs)


class YesNoFilter(django_filters.Filter):  # type: ignore[misc]
    """A yes/no filter given as ``true`` or ``false``; anything else is an error, not ignored."""

    field_class = YesNoField


class CheckboxFilter(django_filters.Filter):  # type: ignore[misc]
    """A tick box (``on``, or ``true`` in the API): ticked, it narrows the records with
    ``narrow(queryset, request)``; unticked (absent, ``false``), it does not filter."""

    field_class = forms.BooleanField

    def __init__(self, narrow: Callable[[Any, HttpRequest | None], Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.narrow = narrow

    def filter(self, qs: Any, value: Any) -> Any:
        return self.narrow(qs, self.parent.request) if value else qs


class WithinFilter(django_filters.NumberFilter):  # type: ignore[misc]
    """ "Within the next N (days, working days…)": a whole number 0…``max_value`` given by a
    link (the home page's figures), not shown in the filter bar; ``method`` does the filtering."""

    def __init__(self, *, method: str, label: Any, max_value: int) -> None:
        super().__init__(
            method=method, label=label, min_value=0, max_value=max_value, widget=forms.HiddenInput
        )


class ChoiceFilter(django_filters.ChoiceFilter):  # type: ignore[misc]
    """A choice among a model field's choices, "全部" for no filtering."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("empty_label", ALL)
        super().__init__(**kwargs)


def visible_choices(
    model: type[models.Model],
    narrow: Callable[[models.QuerySet[Any]], models.QuerySet[Any]],
    action: str = Action.VIEW,
) -> Callable[[HttpRequest | None], models.QuerySet[Any]]:
    """The records of ``model`` the request's user can see (or take ``action`` on: ``choose``),
    as a filter's choices."""

    def choices(request: HttpRequest | None) -> models.QuerySet[Any]:
        if request is None:
            return model._default_manager.none()
        return narrow(visible_to(request.user, action, model))

    return choices


class RecordFilter(django_filters.ModelChoiceFilter):  # type: ignore[misc]
    """A related record given by its id (``township_id``), among the records the user can see.

    ``hidden`` filters are not in the filter bar (they come from links: a water user's wells).
    ``action``: the records the user may take it on rather than see (``choose``).
    """

    def __init__(
        self,
        model: type[models.Model],
        narrow: Callable[[models.QuerySet[Any]], models.QuerySet[Any]] = lambda qs: qs,
        hidden: bool = False,
        action: str = Action.VIEW,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("empty_label", ALL)
        if hidden:
            kwargs["widget"] = forms.HiddenInput
        super().__init__(queryset=visible_choices(model, narrow, action), **kwargs)


def filter_errors(filterset: django_filters.FilterSet) -> ValidationError:
    """The FilterSet's form errors, each under its query parameter's name."""
    return ValidationError(
        {name: [str(m) for m in messages] for name, messages in filterset.errors.items()}
    )


def _schema(f: django_filters.Filter) -> dict[str, Any]:
    if isinstance(f, YesNoFilter | CheckboxFilter):
        return {"type": "boolean"}
    if isinstance(f, django_filters.ModelChoiceFilter):
        return {"type": "integer"}
    if isinstance(f, django_filters.ChoiceFilter):
        choices = f.extra.get("choices", [])
        return {"type": "string", "enum": [str(value) for value, _label in choices]}
    if isinstance(f, django_filters.NumberFilter):
        return {"type": "number"}
    if isinstance(f, django_filters.DateFilter):
        return {"type": "string", "format": "date"}
    return {"type": "string"}


def openapi_parameters(filterset: type[django_filters.FilterSet]) -> list[dict[str, Any]]:
    """The FilterSet's filters as OpenAPI query parameters (all optional)."""
    params = []
    for name, f in filterset.base_filters.items():
        description: Any = f.label or name
        if isinstance(f, SearchFilter):
            description = format_lazy("{} ({})", description, ", ".join(f.lookups))
        params.append(
            {
                "in": "query",
                "name": name,
                "required": False,
                "schema": _schema(f),
                "description": description,
            }
        )
    return params


# ----------------------------------------------------------------------------- saved filters

#: The list pages whose filters can be saved (core.SavedFilter): URL name → FilterSet.
_SAVABLE: dict[str, type[FilterSet]] = {}
#: Query keys a list knows besides its filters and the common ones (e.g. a board's view).
_EXTRA_KEYS: dict[str, tuple[str, ...]] = {}
#: Query keys every list knows besides its filters: the sort order and the page size.
LIST_KEYS = ("sort", "limit")


def savable_list(
    url_name: str, filterset: type[FilterSet], extra_keys: tuple[str, ...] = ()
) -> None:
    """Let the list at ``url_name`` (filtered by ``filterset``) keep named filters; its
    template includes ``includes/saved_filters.html``. ``extra_keys``: query keys of the
    list's own that a saved filter may keep too (the alarm board's ``group``). An app calls
    this in navigation.py."""
    _SAVABLE[url_name] = filterset
    _EXTRA_KEYS[url_name] = tuple(extra_keys)


def filterset_of_list(url_name: str) -> type[FilterSet] | None:
    return _SAVABLE.get(url_name)


def savable_lists() -> list[str]:
    return sorted(_SAVABLE)


def saved_query_errors(url_name: str, query: str) -> dict[str, str]:
    """What is wrong with a saved filter for ``url_name``: the list unknown, or a key of the
    query string its FilterSet does not know (``{field: message}``; empty when all is well)."""
    filterset = _SAVABLE.get(url_name)
    if filterset is None:
        return {"url_name": str(_("该列表不能保存筛选。"))}
    known = set(filterset.base_filters) | set(LIST_KEYS) | set(_EXTRA_KEYS.get(url_name, ()))
    unknown = sorted(k for k in QueryDict(query) if k not in known)
    if unknown:
        return {"query": str(format_lazy(_("该列表没有筛选项“{}”。"), ", ".join(unknown)))}
    return {}
