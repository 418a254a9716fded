"""Property: through the services (the wiring), no sequence of quota changes, decisions and
applications raises a balanced zone's permitted total or activates anything in a
prohibited zone."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aquifer.core.audit import audit_context
from aquifer.permits import services
from aquifer.permits.models import Permit, PermitStatus
from tests.conftest import square
from tests.permits.test_services import ON, well_in_zone

pytestmark = pytest.mark.django_db

STEP = st.tuples(
    st.sampled_from(["quota", "new", "change"]),
    st.integers(0, 2),  # which permit / well
    st.integers(1, 60_000),  # volume
)


def _balanced_county(world: Any) -> tuple[list[Permit], list[Any]]:
    """Three wells of user A in a balanced zone, two of them under existing permits."""
    from aquifer.registry.models import Well, Zone

    with audit_context(source="test"):
        Zone.objects.create(
            code="BAL-P",
            name="平衡区",
            kind="balanced",
            layer="shallow",
            geometry=square(112.417, 35.486, 0.02),
            allowable_extraction_m3=500_000,
            designation_document="x",
        )
        wells = [world.well_a]
        for i in (1, 2):
            w = Well(
                code=f"W-A-B{i}",
                depth_m=90,
                layer="shallow",
                purpose="domestic",
                owner=world.user_a,
            )
            w.set_location(112.417 + 0.002 * i, 35.486)
            w.save()
            wells.append(w)
    permits = []
    for w, q in zip(wells[:2], (30_000, 20_000), strict=True):
        # The existing register: written directly, as the demo does (it predates the rules).
        p = Permit.objects.create(
            number=f"P-{w.code}",
            holder=world.user_a,
            source="shallow",
            use_type="domestic",
            annual_quota_m3=q,
            valid_from=ON,
            valid_until=ON.replace(year=2031),
            status=PermitStatus.ACTIVE,
            township=world.township_a,
        )
        p.wells.set([w])
        permits.append(p)
    return permits, wells


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(STEP, min_size=1, max_size=6))
def test_balanced_total_never_rises_and_prohibited_stays_empty(
    world: Any, steps: list[tuple[str, int, int]]
) -> None:
    if not Permit.objects.filter(number__startswith="P-").exists():
        _balanced_county(world)
    permits = list(Permit.objects.filter(number__startswith="P-").order_by("pk"))
    wells = [w for p in permits for w in p.wells.all()]
    from aquifer.registry.models import Well

    wells += list(Well.objects.filter(code="W-A-B2"))
    hc = Well.objects.filter(code="W-B-HC").first() or well_in_zone(world)
    bureau = world.accounts["bureau"]
    start = services.county_state().zone_totals.get("BAL-P", 0)
    for kind, i, vol in steps:
        if kind == "quota":
            p = permits[i % len(permits)]
            p.refresh_from_db()
            if p.status == PermitStatus.ACTIVE:
                services.change_quota(p, vol, reason="prop", by=bureau, source="web")
        elif kind == "new":
            w = hc if i == 0 else wells[i % len(wells)]
            app = services.apply_for_permit(
                holder=w.owner,
                wells=[w],
                source="shallow",
                use_type=w.owner.use_type,
                annual_quota_m3=vol,
                received_on=ON,
            )
            services.decide(app, approve=True, by=bureau, on=ON)
        else:
            p = permits[i % len(permits)]
            p.refresh_from_db()
            if (
                p.status == PermitStatus.ACTIVE
                and not p.applications.filter(status__in=["submitted", "reviewed"]).exists()
            ):
                app = services.apply_for(p, "change", requested_quota_m3=vol, received_on=ON)
                services.decide(app, approve=True, by=bureau, on=ON)
        state = services.county_state()
        assert state.zone_totals.get("BAL-P", 0) <= start
        assert state.zone_totals.get(world.zone.code, 0) == 0
        assert not Permit.objects.filter(wells=hc, status=PermitStatus.ACTIVE).exists()
