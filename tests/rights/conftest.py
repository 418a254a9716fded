"""Fixtures of the rights tests: permits for the world's users, zones, a usage stub."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.conftest import square


@pytest.fixture
def used(monkeypatch: pytest.MonkeyPatch) -> dict[tuple[int | None, str, int], int]:
    """Metered use per (water user id, source, year); 0 where not set."""
    table: dict[tuple[int | None, str, int], int] = {}
    monkeypatch.setattr(
        "aquifer.rights.services.parties.used_m3",
        lambda holder, source, year: table.get((holder.water_user_id, source, year), 0),
    )
    return table


@pytest.fixture
def market(world: Any, used: Any) -> Any:
    """Both users hold an active shallow permit of 50,000 m³ and a right of 10,000 m³/a."""
    from aquifer.core.audit import audit_context
    from aquifer.permits.models import Permit
    from aquifer.rights import services
    from aquifer.rights.ledger import Holder

    year = dt.date.today().year
    with audit_context(source="test"):
        for i, (u, w) in enumerate(((world.user_a, world.well_a), (world.user_b, world.well_b))):
            p = Permit.objects.create(
                number=f"P-{i}", holder=u, source="shallow", use_type=u.use_type,
                annual_quota_m3=50_000, status="active",
                valid_from=dt.date(year - 1, 1, 1), valid_until=dt.date(year + 4, 12, 31),
            )  # fmt: skip
            p.wells.add(w)
        world.holder_a = Holder.of_user(world.user_a)
        world.holder_b = Holder.of_user(world.user_b)
        world.right_a = services.grant_right(
            holder=world.holder_a, use_type="domestic", source="shallow", zone=None,
            volume_m3=10_000, start_year=year, end_year=year + 2,
        )  # fmt: skip
        world.right_b = services.grant_right(
            holder=world.holder_b, use_type="agricultural", source="shallow", zone=None,
            volume_m3=10_000, start_year=year, end_year=year + 2,
        )  # fmt: skip
    world.year = year
    return world


def make_zone(code: str, kind: str, lon: float, lat: float) -> Any:
    from aquifer.registry.models import Zone

    return Zone.objects.create(
        code=code, name=code, kind=kind, layer="shallow", geometry=square(lon, lat, 0.005),
        allowable_extraction_m3=1_000_000, designation_document="test",
    )  # fmt: skip
