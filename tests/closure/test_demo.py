"""The closure demo: an illustrative coverage area over the county seat, candidates, a
programme with wells in every status, one closed well still reporting flow; idempotent."""

from __future__ import annotations

import pytest

from aquifer.closure import demo
from aquifer.closure.candidates import candidates
from aquifer.closure.models import ClosureEntry, MeteoSeries
from aquifer.monitoring.models import Alarm
from aquifer.permits import demo as permits_demo
from aquifer.registry.demo import build_demo
from aquifer.registry.models import SupplyWork

pytestmark = pytest.mark.django_db


@pytest.mark.slow
def test_demo_builds_every_status_and_is_idempotent() -> None:
    from django.utils import timezone

    build_demo(wells=120)
    permits_demo.build(log=lambda s: None)
    lines: list[str] = []
    demo.build(log=lines.append)
    work = SupplyWork.objects.get(code=demo.WORK_CODE)
    assert work.is_illustrative and "示意" in work.name
    statuses = set(ClosureEntry.objects.values_list("status", flat=True))
    assert statuses == {"planned", "notified", "closed", "verified"}
    assert Alarm.objects.filter(kind="closed_well_withdrawal", state="open").count() == 1
    assert MeteoSeries.objects.filter(is_synthetic=True).count() == 2
    assert candidates(timezone.localdate())  # candidates remain to be offered
    n = ClosureEntry.objects.count()
    demo.build(log=lines.append)
    assert ClosureEntry.objects.count() == n and SupplyWork.objects.count() == 1
