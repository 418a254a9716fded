"""Fixtures of the portal tests: attachments stored under a temporary directory, and one
complaint in each test township."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _attachments(settings: Any, tmp_path: Any) -> None:
    settings.AQUIFER = {**settings.AQUIFER, "ATTACHMENTS": {"ROOT": str(tmp_path / "files")}}


@pytest.fixture
def complaints(world: Any) -> Any:
    """A complaint by well A (township A, named) and one by well B (township B, anonymous)."""
    from aquifer.portal import services

    a = services.file_complaint(
        category="illegal_well",
        description="村东有人私自打井取水。",
        lon=world.well_a.lon,
        lat=world.well_a.lat,
        name="张三",
        phone="13900000000",
        address="10.0.0.1",
    )
    b = services.file_complaint(
        category="pollution",
        description="河边渗坑排放污水。",
        lon=world.well_b.lon,
        lat=world.well_b.lat,
        address="10.0.0.2",
    )
    return a, b
