"""What a list shows, declared once per model as a django-tables2 ``Table``.

A Table gives a list page its columns, their headers and their sorting (``?sort=code``,
``?sort=-code``; an unknown or unsortable column is ignored), and gives the exports of the list
(:mod:`aquifer.core.exports`: xlsx, csv and the properties of geojson) their columns, under the
same headers (:func:`export_columns`). A column hidden on the page (``visible=False``) is still
exported; a column with ``exclude_from_export=True`` is only on the page.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import django_tables2 as tables
from django.db import models
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django_tables2.rows import BoundRow

from aquifer.core.roles import Action
from aquifer.core.scoping import can
from aquifer.core.texts import loaded_text

__all__ = ["Field", "LoadedText", "Moment", "Table", "export_columns", "moment", "sort"]

#: The query parameter that sorts a list page.
SORT = "sort"


class Field(tables.Column):  # type: ignore[misc]
    """A model field's value as the pages show it and as the exports hold it.

    On the page: yes/no as 是/否, a related record as a link to it if the user can see it,
    a float without trailing zeros. In an export: the same text, numbers as numbers.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("default", "—")
        super().__init__(*args, **kwargs)

    def render(self, value: Any, table: Any = None) -> Any:
        if isinstance(value, bool):
            return _("是") if value else _("否")
        if isinstance(value, models.Model):
            request = getattr(table, "request", None)
            user = getattr(request, "user", None)
            if (
                self.link is None
                and user is not None
                and hasattr(value, "get_absolute_url")
                and can(user, Action.VIEW, value)
            ):
                return format_html('<a href="{}">{}</a>', value.get_absolute_url(), value)
            return str(value)
        if isinstance(value, float):
            return f"{value:.6f}".rstrip("0").rstrip(".")
        return value

    def value(self, value: Any) -> Any:
        if isinstance(value, bool):
            return _("是") if value else _("否")
        if isinstance(value, models.Model):
            return str(value)
        if isinstance(value, Decimal):
            return float(value)
        return value


def moment(value: Any) -> str:
    """A time as the lists show it: local time, to the minute."""
    return str(timezone.localtime(value).strftime("%Y-%m-%d %H:%M"))


class Moment(Field):
    """A time as the lists show it (:func:`moment`), on the page and in exports."""

    def render(self, value: Any, table: Any = None) -> Any:
        return moment(value)

    def value(self, value: Any) -> Any:
        return self.render(value)


class LoadedText(Field):
    """A text the system loaded and people may edit (``core.texts.loaded_text``): in the
    reader's language when the catalogue knows it, else as written."""

    def render(self, value: Any, table: Any = None) -> Any:
        return loaded_text(value)

    def value(self, value: Any) -> Any:
        return loaded_text(value)


class Table(tables.Table):  # type: ignore[misc]
    """The base of every list's Table: sorted by ``?sort=``, rendered like the other lists.

    ``empty_hint``: what an empty list (no filter set) tells the reader to do, shown by
    includes/table.html (a filtered empty list offers to clear the filter)."""

    empty_hint: Any = ""

    class Meta:
        order_by_field = SORT
        template_name = "includes/table.html"
        attrs = {"class": "list"}


def sort(table: tables.Table, aliases: Sequence[str]) -> None:
    """Sort ``table`` by the columns named in ``aliases`` (``-`` for descending).

    Unknown and unsortable columns are ignored. Rows that tie are ordered by id, so that the
    pages of a sorted list neither repeat nor skip a row.
    """
    table.order_by = aliases
    data = table.data.data
    if table.order_by and isinstance(data, models.QuerySet):
        table.data.data = data.order_by(*data.query.order_by, "pk")


def _getter(table: tables.Table, name: str) -> Callable[[Any], Any]:
    def get(obj: Any) -> Any:
        return BoundRow(obj, table=table).get_cell_value(name)

    return get


def export_columns(
    table_class: type[tables.Table], model: type[models.Model] | None = None
) -> list[tuple[str, str, Callable[[Any], Any]]]:
    """The exported columns of ``table_class``: its columns but those only on the page, as
    (key, header, value of a record) in the shape :mod:`aquifer.core.exports` takes.

    ``model`` is the model of a Table over a queryset; a Table over computed rows (a list of
    dicts or objects) has none."""
    table = table_class(model._default_manager.none() if model is not None else [])
    return [
        (c.name, str(c.header), _getter(table, c.name))
        for c in table.columns.iterall()
        if not c.column.exclude_from_export
    ]
