"""Which tests the PostgreSQL pass keeps (``--database-tests-only``, tests/conftest.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import reaches_database


class Item:
    def __init__(self, fixtures: tuple[str, ...] = (), markers: tuple[str, ...] = ()) -> None:
        self.fixturenames = fixtures
        self.markers = markers

    def get_closest_marker(self, name: str) -> Any:
        return name if name in self.markers else None


@pytest.mark.parametrize(
    ("item", "kept"),
    [
        (Item(("world", "db", "settings")), True),
        (Item(("transactional_db",)), True),
        (Item(("live_server",)), True),
        (Item(markers=("django_db",)), True),
        (Item(("tmp_path",), markers=("database", "slow")), True),
        (Item(markers=("postgres",)), True),
        (Item(("settings", "tmp_path"), markers=("slow",)), False),
        (Item(()), False),
    ],
)
def test_the_postgresql_pass_keeps_what_reaches_the_database(item: Item, kept: bool) -> None:
    assert reaches_database(item) is kept


def test_a_test_using_the_world_reaches_the_database(request: Any, world: Any) -> None:
    """The real closure of fixtures: ``world`` needs ``db``, so its tests stay in the pass."""
    assert reaches_database(request.node)
