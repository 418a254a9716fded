"""Who may do what with alarms, findings and device health ("Roles and scoping")."""

from __future__ import annotations

from aquifer.core.policies import SIGNED_IN, Role, capability, model_policy, routes
from aquifer.monitoring.models import (
    Alarm,
    AlarmEvent,
    CheckSettings,
    DeviceHealthDaily,
    DeviceState,
    LevelThreshold,
    MeterChange,
    ReadingFinding,
    Watermark,
)

# Watermark: the checks' bookkeeping, the bureau's.
for _model in (
    AlarmEvent,
    CheckSettings,
    DeviceHealthDaily,
    DeviceState,
    LevelThreshold,
    Watermark,
):
    model_policy(_model)
model_policy(ReadingFinding)
model_policy(MeterChange)
# Acknowledge, resolve and close an alarm: whoever may change it (bureau; township in its own).
model_policy(Alarm)

#: The monitoring pages (alarms, device health, findings): every signed-in role.
capability("monitoring.pages", *SIGNED_IN)


# The home page's figures (core/morning.py, this app's morning.py): who sees which.
capability("monitoring.morning", Role.BUREAU, Role.TOWNSHIP)  # open alarms, device rates
capability("monitoring.morning_own", Role.WATER_USER)  # its meters and alarms

routes(
    {
        "monitoring:alarm_list": "monitoring.pages",
        "monitoring:alarm_detail": ("monitoring.alarm", "view"),
        "monitoring:alarm_action": ("monitoring.alarm", "change"),
        "monitoring:alarm_bulk": ("monitoring.alarm", "change"),
        "monitoring:health_map": "monitoring.pages",
        "monitoring:health_figures": "monitoring.pages",
        "monitoring:finding_list": "monitoring.pages",
        "monitoring:finding_review": ("monitoring.readingfinding", "change"),
        "monitoring:meter_change_new": ("monitoring.meterchange", "add"),
        "monitoring_alarm_list": ("monitoring.alarm", "view"),
        "monitoring_alarm_export": ("monitoring.alarm", "view"),
        "monitoring_alarm_read": ("monitoring.alarm", "view"),
        "monitoring_alarm_acknowledge": ("monitoring.alarm", "change"),
        "monitoring_alarm_resolve": ("monitoring.alarm", "change"),
        "monitoring_alarm_close": ("monitoring.alarm", "change"),
        "monitoring_alarm_bulk": ("monitoring.alarm", "change"),
        "monitoring_alarm_events": ("monitoring.alarm", "view"),
        "monitoring_finding_list": ("monitoring.readingfinding", "view"),
        "monitoring_finding_review": ("monitoring.readingfinding", "change"),
        "monitoring_health": ("monitoring.devicestate", "view"),
        "monitoring_arrival": ("monitoring.devicestate", "view"),
        "monitoring_device_health_geojson": ("monitoring.devicestate", "view"),
        "monitoring_meter_change_list": ("monitoring.meterchange", "view"),
        "monitoring_meter_change_create": ("monitoring.meterchange", "add"),
    }
)
