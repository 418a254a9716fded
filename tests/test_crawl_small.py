"""The crawl of tests/test_crawl.py over the nearly empty ``world`` (two wells, no readings,
no permits, no trades): pages must cope with missing data as well as with the demo's."""

from __future__ import annotations

from typing import Any

import pytest

from tests.test_crawl import crawl


@pytest.mark.parametrize(
    "role", ["bureau", "township", "water_user", "inspector", "public", "anonymous"]
)
def test_every_reachable_page_renders_without_data(world: Any, role: str) -> None:
    client = world.client(role)
    client.raise_request_exception = False  # collect every 500, not just the first
    pages, failures = crawl(client)
    assert not failures, "\n".join(failures)
    assert len(pages) > 3
    if role in ("township", "water_user"):
        # Scope: the other township's / other user's well never shows.
        assert not any(world.well_b.code in text for text in pages.values())
