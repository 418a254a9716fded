"""The tax and withdrawal tables are paged (?page=); totals still cover every row."""

from __future__ import annotations

import re
from typing import Any

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def one_per_page(settings: Any) -> None:
    settings.AQUIFER = {**settings.AQUIFER, "PAGE_SIZE": 1}


def test_tax_table_is_paged(world: Any, one_per_page: None) -> None:
    c = world.client("bureau")
    first = c.get("/accounting/tax/?year=2025").content.decode()
    second = c.get("/accounting/tax/?year=2025&page=2").content.decode()
    rows = [re.findall(r'<tr data-user="(\d+)"', page) for page in (first, second)]
    assert len(rows[0]) == 1 and len(rows[1]) == 1 and rows[0] != rows[1]
    assert 'rel="next"' in first and "page=2" in first and "year=2025" in first
    total = re.search(r'id="tax-total">([^<]*)<', first)
    assert total and total.group(1) == re.search(r'id="tax-total">([^<]*)<', second).group(1)


def test_withdrawal_table_is_paged(world: Any, one_per_page: None) -> None:
    c = world.client("bureau")
    first = c.get("/accounting/?level=user&year=2025").content.decode()
    second = c.get("/accounting/?level=user&year=2025&page=2").content.decode()
    keys = [re.findall(r'<tr data-key="([^"]*)"', page) for page in (first, second)]
    assert len(keys[0]) == 1 and len(keys[1]) == 1 and keys[0] != keys[1]
    assert 'rel="next"' in first and "level=user" in first
    assert 'class="table-wrap"' in first  # a wide table scrolls in its card
