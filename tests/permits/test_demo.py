"""The permits demo: realistic permits, pending applications, one refusal in the prohibited
zone; idempotent."""

from __future__ import annotations

import pytest

from aquifer.permits.models import ApplicationStatus, Permit, PermitApplication, PermitStatus

pytestmark = pytest.mark.django_db


@pytest.mark.slow
def test_demo_builds_and_is_idempotent() -> None:
    from aquifer.permits import demo
    from aquifer.registry.demo import build_demo

    build_demo(wells=120)
    lines: list[str] = []
    demo.build(log=lines.append)
    permits = Permit.objects.filter(notes=demo.MARK)
    assert permits.count() >= 20
    active = permits.filter(status=PermitStatus.ACTIVE)
    for p in active[:50]:
        wells = list(p.wells.all())
        assert wells and all(w.owner_id == p.holder_id and w.layer == p.source for w in wells)
        assert all(not (w.zone and w.zone.kind == "prohibited") for w in wells)
        assert 500 <= p.annual_quota_m3 <= 5_000_000
    assert not permits.filter(source="deep").exclude(use_type="domestic").exists()
    refused = PermitApplication.objects.filter(status=ApplicationStatus.REFUSED).get()
    assert refused.decision["reasons"][0]["rule"] == "prohibited_zone"
    assert PermitApplication.objects.filter(status__in=["submitted", "reviewed"]).count() >= 2
    n_permits, n_apps = Permit.objects.count(), PermitApplication.objects.count()
    demo.build(log=lines.append)
    assert (Permit.objects.count(), PermitApplication.objects.count()) == (n_permits, n_apps)
    # The rule engine's state of the demo county is consistent.
    from aquifer.permits import services

    state = services.county_state()
    assert state.county_total == sum(
        p.annual_quota_m3 for p in Permit.objects.filter(status="active")
    )
