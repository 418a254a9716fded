"""The permit rules read the registry's coverage areas and zones (issue 16, point 5)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aquifer.core.audit import audit_context
from aquifer.permits.models import Permit
from aquifer.permits.services.activation import check_well_activation
from tests.closure.helpers import supply

SEAT = (112.417, 35.486)


def _permit(world: Any) -> Permit:
    with audit_context(source="test"):
        p = Permit.objects.create(
            holder=world.user_a,
            source="shallow",
            use_type="domestic",
            annual_quota_m3=5000,
            status="active",
            township=world.township_a,
        )
        p.wells.add(world.well_a)
    return p


def test_activation_refused_where_the_network_is_served(world: Any) -> None:
    _permit(world)
    on = dt.date(2026, 6, 1)
    assert check_well_activation(world.well_a, on).allowed
    supply(*SEAT, served_on=dt.date(2026, 7, 1))  # served later: not yet
    assert check_well_activation(world.well_a, on).allowed
    d = check_well_activation(world.well_a, dt.date(2026, 7, 2))
    assert not d.allowed
    (reason,) = d.reasons
    assert (
        reason.rule_id == "public_supply"
        and dict(reason.params)["fact"] == "public_supply_available"
    )
    assert any(s.article == "第二十条第五项" for s in reason.sources)


def test_hard_to_renew_zone_refuses_activation(world: Any) -> None:
    from aquifer.registry.models import Zone
    from tests.conftest import square

    with audit_context(source="test"):
        Zone.objects.create(
            code="NR-1",
            name="难更新区",
            kind="not_overexploited",
            layer="shallow",
            geometry=square(*SEAT, 0.01),
            allowable_extraction_m3=0,
            designation_document="test",
            hard_to_renew=True,
        )
    world.well_a.refresh_from_db()
    _permit(world)
    d = check_well_activation(world.well_a, dt.date(2026, 6, 1))
    assert [r.rule_id for r in d.reasons] == ["hard_to_renew"]
