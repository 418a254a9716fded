"""The supervision demo: a year of plans, a scored and published assessment, inspections
with open, overdue and closed orders; a second run adds nothing."""

from __future__ import annotations

from typing import Any

import pytest

from aquifer.registry.models import Township
from aquifer.supervision import demo
from aquifer.supervision.models import Accountability, Assessment, Rectification, WorkPlan

pytestmark = pytest.mark.django_db


@pytest.mark.slow
def test_demo(world: Any) -> None:
    demo.build(log=lambda _m: None)
    n = Township.objects.count()
    assert WorkPlan.objects.count() == n
    assert set(WorkPlan.objects.values_list("state", flat=True)) == {"approved", "submitted"}
    a = Assessment.objects.get()
    assert a.published and a.scores.count() == n
    states = set(Rectification.objects.values_list("state", flat=True))
    assert {"closed", "answered", "issued", "sent_back"} <= states
    assert any(o.overdue for o in Rectification.objects.all())
    assert Accountability.objects.exists()
    counts = (WorkPlan.objects.count(), Rectification.objects.count())
    demo.build(log=lambda _m: None)
    assert (WorkPlan.objects.count(), Rectification.objects.count()) == counts
