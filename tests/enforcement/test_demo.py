"""The enforcement demo: cases from alarms in every step, compliance alarms, one suspected
bypass, pollution sources near a monitoring well; idempotent."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from aquifer.accounting.models import WithdrawalMonth
from aquifer.enforcement import demo, evidence
from aquifer.enforcement.models import Case, CreditRecord, PollutionSource
from aquifer.monitoring.alarms import raise_alarm
from aquifer.monitoring.models import Alarm


def test_demo(world: Any) -> None:
    for i in range(9):
        raise_alarm(
            kind="prohibited_withdrawal",
            key=f"prohibited_withdrawal:{i}",
            title=f"禁采区取水 {i}",
            well=world.well_a if i % 2 else world.well_b,
        )
    year = timezone.localdate().year
    for m in range(1, 4):
        WithdrawalMonth.objects.create(well=world.well_a, year=year, month=m, metered_m3=1000)
    demo.build(log=lambda s: None)
    states = set(Case.objects.values_list("state", flat=True))
    assert {"open", "filed", "investigated", "noticed", "decided"} <= states
    assert Alarm.objects.filter(kind="metering_missing").exists()
    assert Alarm.objects.filter(kind="suspected_bypass").count() == 1
    assert PollutionSource.objects.count() == 3
    assert Case.objects.filter(source="inspection").count() == 1
    assert CreditRecord.objects.exists()
    assert evidence.verify().ok
    n = Case.objects.count()
    demo.build(log=lambda s: None)
    assert Case.objects.count() == n
