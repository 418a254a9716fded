"""The permits services: workflow through the rule engine, interface 5, well activation."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from aquifer.core.audit import audit_context
from aquifer.core.models import AuditEntry
from aquifer.permits import services
from aquifer.permits.models import (
    ApplicationStatus,
    EmergencyWindow,
    Permit,
    PermitStatus,
    RuleDecision,
    RuleSettings,
)
from aquifer.permits.rules import CountyState

pytestmark = pytest.mark.django_db

ON = date(2026, 3, 2)


def grant(world: Any, well: Any = None, quota: int = 20_000, **kw: Any) -> Permit:
    """An active permit for world.user_a's well (approved by the bureau)."""
    well = well or world.well_a
    app = services.apply_for_permit(
        holder=well.owner,
        wells=[well],
        source=well.layer,
        use_type=kw.pop("use_type", well.owner.use_type),
        annual_quota_m3=quota,
        received_on=ON,
        **kw,
    )
    d = services.decide(app, approve=True, by=world.accounts["bureau"], on=ON)
    assert d.allowed, d
    return Permit.objects.get(pk=app.permit_id)


def test_new_permit_gets_number_term_and_decision(world: Any) -> None:
    app = services.apply_for_permit(
        holder=world.user_a,
        wells=[world.well_a],
        source="shallow",
        use_type="domestic",
        annual_quota_m3=50_000,
        received_on=ON,
        by=world.accounts["water_user"],
    )
    p = app.permit
    assert p.status == PermitStatus.PENDING and p.number is None
    assert p.township_id == world.township_a.pk
    # 45 working days from 2026-03-02 (Mon): no holiday until 4 April → 9 weeks = 45 days,
    # but Qingming (4–6 April, Mon 6th off) pushes it by one day.
    assert app.deadline == date(2026, 5, 5 + 3)  # 1–5 May off, 9 May a working Saturday
    d = services.decide(app, approve=True, by=world.accounts["bureau"], on=ON)
    assert d.allowed
    p.refresh_from_db()
    assert p.status == PermitStatus.ACTIVE
    assert p.number == "取水(晋阳)字[2026]第0001号"
    assert (p.valid_from, p.valid_until) == (ON, date(2031, 3, 2))
    rd = RuleDecision.objects.get(permit=p)
    assert rd.allowed and rd.applied and rd.subject == "new_permit"
    audit = AuditEntry.objects.filter(object_type="permits.ruledecision", object_id=str(rd.pk))
    assert audit.get().after["result"]["allowed"] is True


def well_in_zone(world: Any, code: str = "W-B-HC") -> Any:
    """A shallow well of user B inside the prohibited zone around Huangcheng Xiangfu."""
    from aquifer.registry.models import Well
    from tests.conftest import HUANGCHENG

    with audit_context(source="test"):
        w = Well(code=code, depth_m=60, layer="shallow", purpose="agricultural", owner=world.user_b)
        w.set_location(*HUANGCHENG)
        w.save()
    assert w.zone_id == world.zone.pk
    return w


def test_prohibited_zone_refused_with_reasons_and_sources(world: Any) -> None:
    app = services.apply_for_permit(
        holder=world.user_b,
        wells=[well_in_zone(world)],
        source="shallow",
        use_type="agricultural",
        annual_quota_m3=8_000,
        received_on=ON,
    )
    d = services.decide(app, approve=True, by=world.accounts["bureau"], on=ON)
    assert not d.allowed
    assert [r.rule_id for r in d.reasons] == ["prohibited_zone"]
    app.refresh_from_db()
    assert app.status == ApplicationStatus.REFUSED
    assert app.decision["reasons"][0]["sources"][0]["document"] == "地下水管理条例"
    assert Permit.objects.get(pk=app.permit_id).status == PermitStatus.REFUSED


def test_bureau_refusal_needs_a_reason(world: Any) -> None:
    app = services.apply_for_permit(
        holder=world.user_a,
        wells=[world.well_a],
        source="shallow",
        use_type="domestic",
        annual_quota_m3=5_000,
        received_on=ON,
    )
    with pytest.raises(services.PermitError) as exc:
        services.decide(app, approve=False, note=" ", by=world.accounts["bureau"])
    assert exc.value.field == "note"
    d = services.decide(app, approve=False, note="材料不全", by=world.accounts["bureau"])
    assert not d.allowed and d.reasons[0].rule_id == "bureau"
    with pytest.raises(services.PermitError):
        services.decide(app, approve=True, by=world.accounts["bureau"])


def test_application_validation(world: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        services.apply_for_permit(
            holder=world.user_a,
            wells=[world.well_b],  # not hers
            source="deep",  # and shallow
            use_type="domestic",
            annual_quota_m3=0,
        )
    assert {"wells", "annual_quota_m3"} <= set(exc.value.message_dict)
    assert not Permit.objects.exists()


def test_change_quota_interface(world: Any) -> None:
    p = grant(world)
    d = services.change_quota(p, 30_000, reason="扩建", by=world.accounts["bureau"], source="web")
    assert d.allowed
    p.refresh_from_db()
    assert p.annual_quota_m3 == 30_000
    # A county cap refuses the increase, and nothing changes.
    RuleSettings.objects.create(county_cap_m3=31_000)
    d = services.change_quota(p, 40_000, reason="再扩", by=world.accounts["bureau"], source="web")
    assert not d.allowed and d.reasons[0].rule_id == "county_cap"
    p.refresh_from_db()
    assert p.annual_quota_m3 == 30_000
    assert RuleDecision.objects.filter(permit=p, applied=False).count() == 1
    with pytest.raises(services.PermitError):
        services.change_quota(p, 0, reason="x", by=None, source="web")


def test_balanced_zone_increase_refused_decrease_allowed(world: Any) -> None:
    from aquifer.registry.models import Zone
    from tests.conftest import square

    with audit_context(source="test"):
        Zone.objects.create(
            code="BAL-1",
            name="凤城平衡区",
            kind="balanced",
            layer="shallow",
            geometry=square(112.417, 35.486, 0.02),
            allowable_extraction_m3=1_000_000,
            designation_document="x",
        )
    world.well_a.refresh_from_db()
    assert world.well_a.zone.code == "BAL-1"
    # A new permit in a balanced zone raises its total: refused.
    app = services.apply_for_permit(
        holder=world.user_a,
        wells=[world.well_a],
        source="shallow",
        use_type="domestic",
        annual_quota_m3=5_000,
        received_on=ON,
    )
    d = services.decide(app, approve=True, by=world.accounts["bureau"], on=ON)
    assert not d.allowed and "balanced_zone" in [r.rule_id for r in d.reasons]


def test_county_state_and_permits_of(world: Any) -> None:
    p = grant(world, quota=12_345)
    state = services.county_state()
    assert isinstance(state, CountyState)
    assert state.county_total == 12_345
    assert state.township_totals == {world.township_a.code: 12_345}
    assert state.permits[str(p.pk)].volume == 12_345
    assert list(services.permits_of(world.user_a)) == [p]
    assert list(services.permits_of(world.user_b)) == []


def test_well_activation(world: Any) -> None:
    # No permit: refused.
    d = services.check_well_activation(world.well_a)
    assert not d.allowed and d.reasons[0].rule_id == "register"
    grant(world)
    assert services.check_well_activation(world.well_a).allowed
    # Deep well under a deep permit: only in an emergency window.
    from aquifer.registry.models import Well

    with audit_context(source="test"):
        deep = Well(code="W-A-D", depth_m=600, layer="deep", purpose="domestic", owner=world.user_a)
        deep.set_location(112.42, 35.49)
        deep.save()
    EmergencyWindow.objects.create(name="2026春旱", start=ON, end=ON, document="阳政发")
    p = grant(world, well=deep, quota=1_000)
    d = services.check_well_activation(deep, on=date(2026, 4, 1))
    assert not d.allowed and d.reasons[0].rule_id == "deep_emergency_only"
    assert services.check_well_activation(deep, on=ON).allowed
    assert RuleDecision.objects.filter(well=deep).count() == 2
    assert p.status == PermitStatus.ACTIVE


def test_renewal_change_cancellation(world: Any) -> None:
    p = grant(world, quota=10_000)
    bureau = world.accounts["bureau"]
    app = services.apply_for(p, "renewal", received_on=date(2031, 2, 1))
    assert "迟于" in app.statement  # less than 45 days before expiry (2031-03-02)
    services.decide(app, approve=True, by=bureau, on=date(2031, 2, 20))
    p.refresh_from_db()
    assert p.valid_until == date(2036, 3, 2)
    app = services.apply_for(p, "change", requested_quota_m3=8_000)
    with pytest.raises(services.PermitError):
        services.apply_for(p, "change", requested_quota_m3=9_000)  # one open at a time
    services.decide(app, approve=True, by=bureau)
    p.refresh_from_db()
    assert p.annual_quota_m3 == 8_000
    services.cancel(p, reason="两年未取水", by=bureau)
    p.refresh_from_db()
    assert p.status == PermitStatus.CANCELLED
    with pytest.raises(services.PermitError):
        services.apply_for(p, "renewal")


def test_transfer_quota_within_a_balanced_zone(world: Any) -> None:
    """A trade within a balanced zone keeps its total: allowed as one transfer, applied to
    both permits at once; an increase alone would be refused."""
    from aquifer.registry.models import Well, Zone
    from tests.conftest import square

    with audit_context(source="test"):
        Zone.objects.create(
            code="BAL-T",
            name="平衡区",
            kind="balanced",
            layer="shallow",
            geometry=square(112.417, 35.486, 0.02),
            allowable_extraction_m3=10**6,
            designation_document="x",
        )
        w2 = Well(code="W-A-2", depth_m=90, layer="shallow", purpose="domestic", owner=world.user_a)
        w2.set_location(112.419, 35.486)
        w2.save()
    world.well_a.refresh_from_db()
    seller = Permit.objects.create(
        number="S-1",
        holder=world.user_a,
        source="shallow",
        use_type="domestic",
        annual_quota_m3=10_000,
        status=PermitStatus.ACTIVE,
        township=world.township_a,
    )
    seller.wells.set([world.well_a])
    buyer = Permit.objects.create(
        number="B-1",
        holder=world.user_a,
        source="shallow",
        use_type="domestic",
        annual_quota_m3=1_000,
        status=PermitStatus.ACTIVE,
        township=world.township_a,
    )
    buyer.wells.set([w2])
    bureau = world.accounts["bureau"]
    d = services.change_quota(buyer, 4_000, reason="x", by=bureau, source="web")
    assert not d.allowed and d.reasons[0].rule_id == "balanced_zone"
    d = services.transfer_quota(seller, buyer, 3_000, reason="水权交易", by=bureau, source="rights")
    assert d.allowed, d
    seller.refresh_from_db()
    buyer.refresh_from_db()
    assert (seller.annual_quota_m3, buyer.annual_quota_m3) == (7_000, 4_000)
    assert RuleDecision.objects.filter(subject="transfer", applied=True).count() == 2
    # More than the seller holds: refused, nothing changes.
    d = services.transfer_quota(seller, buyer, 8_000, reason="x", by=bureau, source="rights")
    assert not d.allowed
    seller.refresh_from_db()
    assert seller.annual_quota_m3 == 7_000
    with pytest.raises(services.PermitError):
        services.transfer_quota(seller, seller, 1, reason="x", by=bureau, source="rights")


def test_registry_refuses_putting_a_well_back_in_service_without_a_permit(world: Any) -> None:
    """Well.clean asks the rule engine before a status change to 'active' (closed → active)."""
    from django.core.exceptions import ValidationError

    from aquifer.registry.models import Well

    with audit_context(source="test"):
        w = Well.objects.get(pk=world.well_a.pk)
        w.status = "closed"
        w.full_clean()
        w.save()
    w = Well.objects.get(pk=world.well_a.pk)
    w.status = "active"
    with pytest.raises(ValidationError) as err:
        w.full_clean()
    assert "status" in err.value.message_dict
    assert "取水许可" in " ".join(err.value.message_dict["status"])
    # With an active permit for the well the same change is valid.
    grant(world)
    w = Well.objects.get(pk=world.well_a.pk)
    w.status = "active"
    w.full_clean()
