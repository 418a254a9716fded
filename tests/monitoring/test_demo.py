"""The monitoring demo: builds alarms from readings through the ordinary paths; idempotent."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from aquifer.monitoring import demo
from aquifer.monitoring.models import Alarm, AlarmEvent, CheckSettings, DeviceHealthDaily
from aquifer.telemetry.store import ReadingRow, ingest


def test_demo_build_is_idempotent(world: Any) -> None:
    now = timezone.now()
    for d in (world.device_a, world.device_b):
        ingest([ReadingRow(d.pk, "battery_voltage", now - dt.timedelta(days=5), 12.9)])
    demo.build(log=lambda s: None)
    alarms = Alarm.objects.count()
    events = AlarmEvent.objects.count()
    assert alarms > 0
    assert Alarm.objects.filter(kind="unregistered_station").count() == 2
    assert CheckSettings.objects.filter(device=None).count() == len(demo.DEMO_CHECK_SETTINGS)
    assert DeviceHealthDaily.objects.exists()
    demo.build(log=lambda s: None)
    assert Alarm.objects.count() == alarms
    assert AlarmEvent.objects.count() == events
