"""Helpers for the list tests of every app (tests/*/test_lists.py): the rows a list page, an
API list and a CSV export hold, and the check that each sortable column of a Table sorts the
page both ways."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet

ROW = r'<tr data-id="(\d+)">'


def page_ids(response: Any, row: str = ROW) -> list[int]:
    """The record ids of the rows a list page shows, in order."""
    assert response.status_code == 200
    return [int(pk) for pk in re.findall(row, response.content.decode())]


def api_ids(response: Any, key: str = "id") -> list[int]:
    """The ids of an API list page's items, in order."""
    assert response.status_code == 200, response.content
    return [item[key] for item in json.loads(response.content)["items"]]


def csv_rows(response: Any) -> list[list[str]]:
    """The rows of a CSV export (with its byte-order mark for Excel)."""
    assert response.status_code == 200, response.content
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def assert_every_column_sorts(
    client: Any,
    url: str,
    table: Any,
    queryset: QuerySet[Any],
    ids: Callable[[Any], list[int]] = page_ids,
) -> list[str]:
    """Each sortable column of ``table`` orders ``url`` (which ends where ``sort=`` goes) as
    the queryset ordered by the column's accessors, ascending and descending (ties by pk), and
    the header links to the other direction. Returns the columns checked."""
    columns = [(col.name, tuple(col.order_by)) for col in table([]).columns if col.orderable]
    for name, accessors in columns:
        for sign in ("", "-"):
            expected = list(
                queryset.order_by(*(sign + a for a in accessors), "pk").values_list("pk", flat=True)
            )
            r = client.get(f"{url}sort={sign}{name}")
            assert ids(r) == expected, f"{sign}{name}"
            assert f"sort={name if sign else '-' + name}" in r.content.decode()
    return [name for name, _ in columns]
