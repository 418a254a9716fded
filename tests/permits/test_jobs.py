"""The permits jobs: quota, violation, deadline and unused-permit alarms, raised and cleared."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from aquifer.core.audit import audit_context
from aquifer.monitoring.models import OPEN_STATES, Alarm
from aquifer.permits import jobs, services
from aquifer.permits.models import EmergencyWindow, Permit, PermitStatus
from tests.permits.test_services import ON, grant, well_in_zone

pytestmark = pytest.mark.django_db


@dataclass
class Vol:
    metered_m3: float
    estimated_m3: float = 0.0
    estimated: bool = False

    @property
    def total_m3(self) -> float:
        return self.metered_m3 + self.estimated_m3


@pytest.fixture
def volumes(monkeypatch: Any) -> dict[tuple[int, int | None], dict[int, float]]:
    """A fake accounting.service: {(year, month): {well id: m³}}."""
    data: dict[tuple[int, int | None], dict[int, float]] = {}

    def well_volumes(year: int, month: int | None = None, wells: Any = None) -> dict[int, Vol]:
        got = data.get((year, month), {})
        ids = list(wells) if wells is not None else list(got)
        return {w: Vol(got.get(w, 0.0)) for w in ids}

    monkeypatch.setattr("aquifer.accounting.service.well_volumes", well_volumes)
    return data


def open_keys(kind: str) -> set[str]:
    return set(Alarm.objects.filter(kind=kind, state__in=OPEN_STATES).values_list("key", flat=True))


def test_quota_alarms_raise_escalate_and_clear(world: Any, volumes: Any) -> None:
    p = grant(world, quota=10_000)
    k80, k100 = f"quota_80:permit:{p.pk}:2026", f"quota_100:permit:{p.pk}:2026"
    volumes[(2026, None)] = {world.well_a.pk: 7_999}
    jobs.check_quotas(date(2026, 6, 1))
    assert open_keys("quota_80") == set() and open_keys("quota_100") == set()
    volumes[(2026, None)] = {world.well_a.pk: 8_000}
    jobs.check_quotas(date(2026, 6, 1))
    jobs.check_quotas(date(2026, 6, 1))  # idempotent
    assert open_keys("quota_80") == {k80}
    assert Alarm.objects.get(key=k80).count == 2
    volumes[(2026, None)] = {world.well_a.pk: 10_500}
    jobs.check_quotas(date(2026, 6, 1))
    assert open_keys("quota_80") == set() and open_keys("quota_100") == {k100}
    # The quota is raised: the condition goes, the alarm clears.
    services.change_quota(p, 20_000, reason="扩建", by=world.accounts["bureau"], source="web")
    jobs.check_quotas(date(2026, 6, 1))
    assert open_keys("quota_100") == set() and open_keys("quota_80") == set()


def test_quota_alarm_cleared_when_permit_cancelled(world: Any, volumes: Any) -> None:
    p = grant(world, quota=100)
    volumes[(2026, None)] = {world.well_a.pk: 500}
    jobs.check_quotas(date(2026, 6, 1))
    assert len(open_keys("quota_100")) == 1
    services.cancel(p, reason="注销", by=world.accounts["bureau"])
    jobs.check_quotas(date(2026, 6, 1))
    assert open_keys("quota_100") == set()


def test_deep_and_prohibited_withdrawal(world: Any, volumes: Any) -> None:
    from aquifer.registry.models import Well

    with audit_context(source="test"):
        deep = Well(code="W-A-D", depth_m=600, layer="deep", purpose="domestic", owner=world.user_a)
        deep.set_location(112.42, 35.49)
        deep.save()
    hc = well_in_zone(world)
    volumes[(2026, 6)] = {deep.pk: 12.0, hc.pk: 3.0, world.well_a.pk: 99.0}
    counts = jobs.check_violations(date(2026, 6, 10))
    assert counts == {"deep_withdrawal": 1, "prohibited_withdrawal": 1}
    assert open_keys("deep_withdrawal") == {f"deep_withdrawal:well:{deep.pk}"}
    assert open_keys("prohibited_withdrawal") == {f"prohibited_withdrawal:well:{hc.pk}"}
    a = Alarm.objects.get(kind="deep_withdrawal")
    assert a.well_id == deep.pk and a.owner_id == world.user_a.pk
    # The bureau declares an emergency covering June: the deep alarm clears.
    EmergencyWindow.objects.create(name="旱情", start=date(2026, 6, 5), document="阳政发")
    jobs.check_violations(date(2026, 6, 10))
    assert open_keys("deep_withdrawal") == set()
    assert len(open_keys("prohibited_withdrawal")) == 1
    volumes[(2026, 7)] = {}
    jobs.check_violations(date(2026, 7, 1))
    assert open_keys("prohibited_withdrawal") == set()


def test_deadline_alarms(world: Any, volumes: Any) -> None:
    app = services.apply_for_permit(
        holder=world.user_a,
        wells=[world.well_a],
        source="shallow",
        use_type="domestic",
        annual_quota_m3=5_000,
        received_on=ON,
    )
    assert app.deadline == date(2026, 5, 8)
    jobs.check_deadlines(date(2026, 4, 1))
    assert open_keys("permit_deadline") == set()
    jobs.check_deadlines(date(2026, 4, 28))  # 7 working days left (1–5 May off, 9 May on)
    key = f"permit_deadline:application:{app.pk}"
    assert open_keys("permit_deadline") == {key}
    from aquifer.notifications.models import Notice

    assert Notice.objects.filter(event="permit.deadline").count() == 1
    jobs.check_deadlines(date(2026, 4, 29))
    assert Notice.objects.filter(event="permit.deadline").count() == 1  # notified once
    services.decide(app, approve=True, by=world.accounts["bureau"], on=date(2026, 4, 29))
    jobs.check_deadlines(date(2026, 4, 30))
    assert open_keys("permit_deadline") == set()
    # Renewal reminder: 75 days before expiry (2031-04-29), none filed.
    jobs.check_deadlines(date(2031, 2, 20))
    p = Permit.objects.get(pk=app.permit_id)
    assert open_keys("permit_deadline") == {f"permit_deadline:renewal:{p.pk}"}
    services.apply_for(p, "renewal", received_on=date(2031, 2, 21))
    jobs.check_deadlines(date(2031, 2, 21))
    assert open_keys("permit_deadline") == set()


def test_unused_and_expiry(world: Any, volumes: Any) -> None:
    p = grant(world)  # valid from 2026-03-02
    volumes[(2027, None)] = {}
    volumes[(2028, None)] = {}
    jobs.check_lifecycle(date(2028, 6, 1))  # 2026 is not a whole year of the term
    assert open_keys("permit_unused") == set()
    jobs.check_lifecycle(date(2029, 6, 1))
    p.refresh_from_db()
    assert p.unused_since == date(2027, 1, 1)
    assert open_keys("permit_unused") == {f"permit_unused:permit:{p.pk}"}
    volumes[(2028, None)] = {world.well_a.pk: 1.0}
    jobs.check_lifecycle(date(2029, 6, 1))
    p.refresh_from_db()
    assert p.unused_since is None and open_keys("permit_unused") == set()
    app = services.apply_for(p, "renewal", received_on=date(2031, 1, 5))
    jobs.check_lifecycle(date(2031, 3, 3))  # renewal pending: still in force
    p.refresh_from_db()
    assert p.status == PermitStatus.ACTIVE
    services.decide(app, approve=False, note="不符合条件", by=None)
    jobs.check_lifecycle(date(2031, 3, 3))
    p.refresh_from_db()
    assert p.status == PermitStatus.EXPIRED
