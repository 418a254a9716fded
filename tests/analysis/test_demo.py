"""The analysis demo: illustrative samples and soundings, trends and forecasts; idempotent."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from aquifer.analysis import demo
from aquifer.analysis.models import (
    LevelForecast,
    LevelMeasurement,
    QualityResult,
    QualitySample,
    WellTrend,
    ZoneTrend,
)


def test_build_is_idempotent(world: Any) -> None:
    lines: list[str] = []
    demo.build(log=lines.append)
    counts = (
        QualitySample.objects.count(),
        QualityResult.objects.count(),
        LevelMeasurement.objects.count(),
        WellTrend.objects.count(),
        ZoneTrend.objects.count(),
        LevelForecast.objects.count(),
    )
    assert counts[0] > 0 and counts[2] > 0 and counts[3] == 2 and counts[5] == 2
    assert all(s.illustrative for s in QualitySample.objects.all())
    assert all(s.klass is not None for s in QualitySample.objects.all())
    today = timezone.localdate()
    # The test world has no logger history: soundings end a year ago, so the trend is tested
    # but the same-month change of the last 12 months cannot be formed — said, not guessed.
    t = WellTrend.objects.get(monitoring_well=world.monitoring_a, computed_on=today)
    assert t.sources == "manual" and t.months >= 20
    assert t.trend in ("increasing", "decreasing", "no trend")
    assert t.status == "not enough data" and t.same_month_change is None
    assert LevelForecast.objects.get(monitoring_well=world.monitoring_a).enough_data is False
    demo.build(log=lines.append)
    again = (
        QualitySample.objects.count(),
        QualityResult.objects.count(),
        LevelMeasurement.objects.count(),
        WellTrend.objects.count(),
        ZoneTrend.objects.count(),
        LevelForecast.objects.count(),
    )
    assert again == counts
    assert any("illustrative" in line for line in lines)
